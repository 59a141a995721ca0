"""``picdup synth``: make a labelled test set from a folder of photos."""

from __future__ import annotations

import click

from picdup.cli.main import handle_errors
from picdup.evaluate import TRANSFORMS, synthesize

__all__ = ["synth"]


@click.command(
    epilog="""\b
Examples:
  picdup synth ~/Pictures/sample synth-set --seed 1
  picdup scan synth-set -o report.json; picdup evaluate report.json --truth synth-set/truth.json
\b
Transforms: """
    + ", ".join(TRANSFORMS)
    + """.
Hard negatives: memes with other captions, chat screenshots with other text, shifted crops."""
)
@click.argument("src", type=click.Path(file_okay=False, path_type=str))
@click.argument("out", type=click.Path(path_type=str))
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
@click.option(
    "--copies",
    type=click.IntRange(min=1),
    default=None,
    help="Transformed copies per source photo, drawn at random [default: one per transform].",
)
@click.option(
    "--max-side",
    type=click.IntRange(min=64),
    default=1600,
    show_default=True,
    help="Reduce sources to at most this many pixels on the long side first.",
)
@click.option("--limit", type=click.IntRange(min=3), default=None, help="Use at most N sources.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True)
@handle_errors
def synth(
    src: str, out: str, seed: int, copies: int | None, max_side: int, limit: int | None, jobs: int
) -> None:
    """Make a labelled test set from the photos under SRC, written to OUT with OUT/truth.json."""
    result = synthesize(
        src, out, seed=seed, copies=copies, max_side=max_side, limit=limit, jobs=jobs
    )
    click.echo(
        f"{result.files} files in {result.groups} groups from {result.sources} photos, "
        f"{result.hard_negative_pairs} hard-negative pairs; truth in {result.truth_path}"
    )
    for reason in result.skipped_sources:
        click.echo(f"skipped {reason}", err=True)
