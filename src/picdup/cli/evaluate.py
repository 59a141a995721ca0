"""``picdup evaluate``: score a report against ground truth."""

from __future__ import annotations

import json

import click

from picdup.cli.main import handle_errors
from picdup.evaluate import Evaluation, evaluate_report, load_truth
from picdup.report import load_report

__all__ = ["evaluate", "format_evaluation"]


def format_evaluation(ev: Evaluation) -> str:
    lines = [
        f"precision {ev.precision:.4f}  recall {ev.recall:.4f}  F1 {ev.f1:.4f}  "
        f"({ev.correct_pairs} of {ev.predicted_pairs} predicted pairs correct, "
        f"{ev.true_pairs} true pairs)",
        f"groups {ev.groups}, largest {ev.largest_group}; hard negatives grouped "
        f"{ev.hard_negatives_grouped} of {ev.hard_negatives_total}",
    ]
    if ev.recall_by_transform:
        lines.append("recall by transform:")
        for name, r in ev.recall_by_transform.items():
            lines.append(f"  {name:<16} {r['recall']:.3f}  ({r['found']}/{r['total']})")
    for a, b, kind in ev.hard_negative_examples:
        lines.append(f"  wrongly grouped ({kind}): {a}  {b}")
    return "\n".join(lines)


@click.command(
    epilog="""\b
Examples:
  picdup evaluate report.json --truth synth-set/truth.json
  picdup evaluate report.json --truth synth-set/truth.json --json > scores.json"""
)
@click.argument("report", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--truth",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="truth.json from picdup synth (paths relative to its folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@handle_errors
def evaluate(report: str, truth: str, as_json: bool) -> None:
    """Score REPORT against ground truth: pairwise precision, recall, F1, recall per transform,
    hard-negative pairs wrongly grouped, group count and largest group."""
    ev = evaluate_report(load_report(report), load_truth(truth))
    if as_json:
        click.echo(json.dumps(ev.to_dict(), indent=1))
    else:
        click.echo(format_evaluation(ev))
