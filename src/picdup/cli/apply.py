"""``picdup apply``: plan what to keep, show it, confirm, act with a journal."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from picdup.act import ACTIONS, DEFAULT_KEEP, POLICIES, ApplyResult, apply, plan, resume
from picdup.act.execute import check_journal_path, default_journal_path
from picdup.cli.main import EXIT_ACTION, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, handle_errors
from picdup.cli.progress import RichProgress

__all__ = ["apply_command", "print_result"]


def print_result(result: ApplyResult) -> None:
    for r in result.results:
        if r.status != "done":
            click.echo(f"{r.status}: {r.path} — {r.message}", err=True)
    click.echo(result.summary())
    if result.done:
        click.echo(f"undo with: picdup undo {result.journal}")


@click.command(
    "apply",
    epilog=f"""\b
Actions:
{chr(10).join(f"  {k:<11}{v}" for k, v in ACTIONS.items())}
\b
Keep policies (--keep, comma-separated, first is strongest; default {",".join(DEFAULT_KEEP)}):
{chr(10).join(f"  {k:<14}{v}" for k, v in POLICIES.items())}
\b
Examples:
  picdup apply report.json --dry-run
  picdup apply report.json --action quarantine --to ~/dupes --keep oldest --yes
  picdup apply report.json --action hardlink --protect ~/Pictures/originals
  picdup apply report.json --action organize --to sorted/ --include-singles --yes
  picdup apply --resume report.journal-20260101T120000000000Z.jsonl --yes
\b
Exit status: 0 done, 2 usage error or not confirmed, 3 a step failed.""",
)
@click.argument("report", required=False, type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "-a",
    "--action",
    type=click.Choice(list(ACTIONS)),
    default="trash",
    show_default=True,
    help="What to do with the copies that are not kept.",
)
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False, path_type=str),
    help="Destination folder (quarantine, move, organize).",
)
@click.option(
    "-k",
    "--keep",
    default=",".join(DEFAULT_KEEP),
    show_default=True,
    help="Keep policies in order of priority.",
)
@click.option(
    "--prefer",
    multiple=True,
    type=click.Path(path_type=str),
    help="Keep copies under this folder (repeatable).",
)
@click.option(
    "--protect",
    multiple=True,
    type=click.Path(path_type=str),
    help="Never touch anything under this folder (repeatable).",
)
@click.option(
    "--move", "move_files", is_flag=True, help="organize: move the files instead of copying them."
)
@click.option(
    "--include-singles", is_flag=True, help="organize: number the files in no group, too."
)
@click.option(
    "--decisions",
    type=click.Path(dir_okay=False, path_type=str),
    help="Review decisions file [default: REPORT.decisions.json when present].",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=str),
    help="Where to write the journal [default: beside the report].",
)
@click.option(
    "--resume",
    "resume_journal",
    type=click.Path(dir_okay=False, exists=True, path_type=str),
    help="Finish an interrupted apply from its journal.",
)
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the plan as JSON.")
@handle_errors
def apply_command(
    report: str | None,
    action: str,
    to: str | None,
    keep: str,
    prefer: tuple[str, ...],
    protect: tuple[str, ...],
    move_files: bool,
    include_singles: bool,
    decisions: str | None,
    journal: str | None,
    resume_journal: str | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Act on the duplicates in REPORT: keep one file per group, act on the others.

    Every step is re-checked against the report first (a file changed since the scan is
    skipped), nothing is overwritten, and a journal records each step so that
    `picdup undo JOURNAL` can put everything back.
    """
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if resume_journal is not None:
        if report is not None:
            raise click.UsageError("give either REPORT or --resume JOURNAL, not both")
        if not yes and not _confirm(interactive, f"Resume the run in {resume_journal}?"):
            sys.exit(EXIT_ERROR)
        result = resume(resume_journal)
        print_result(result)
        sys.exit(EXIT_OK if result.ok else EXIT_ACTION)
    if report is None:
        raise click.UsageError("missing REPORT (or --resume JOURNAL)")
    if as_json and not dry_run:
        raise click.UsageError("--json prints the plan of a --dry-run; add --dry-run")
    if journal is not None:
        check_journal_path(journal)
    the_plan = plan(
        report,
        action=action,
        keep=keep,
        prefer=prefer,
        protect=protect,
        to=to,
        decisions=decisions,
        move_files=move_files,
        include_singles=include_singles,
    )
    if dry_run:
        if as_json:
            click.echo(json.dumps(the_plan.to_dict(), ensure_ascii=False, indent=1))
        else:
            click.echo(the_plan.describe())
            click.echo("dry run: nothing was changed")
        sys.exit(EXIT_OK)
    if not the_plan.steps:
        click.echo(the_plan.summary())
        click.echo("nothing to do")
        sys.exit(EXIT_OK)
    if not yes:
        if interactive:
            click.echo(the_plan.describe() if len(the_plan.steps) <= 50 else the_plan.summary())
        else:
            click.echo(the_plan.summary())
        question = f"{the_plan.summary()}. Go ahead?"
        if the_plan.irreversible:
            question = f"{the_plan.summary()}. Deleting CANNOT be undone. Go ahead?"
        if not _confirm(interactive, question):
            sys.exit(EXIT_ERROR)
    journal = journal or default_journal_path(the_plan)
    progress = RichProgress(Console(stderr=True)) if interactive else None
    try:
        result = apply(the_plan, journal=journal, progress=progress)
    except KeyboardInterrupt:
        click.echo(
            f"picdup: interrupted; finish with: picdup apply --resume {journal} --yes, "
            f"or put back what was done with: picdup undo {journal}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    print_result(result)
    sys.exit(EXIT_OK if result.ok else EXIT_ACTION)


def _confirm(interactive: bool, question: str) -> bool:
    if not interactive:
        click.echo(
            "picdup: nothing was changed: standard input is not a terminal, so there is no one "
            "to confirm; pass --yes to apply (or --dry-run to see the plan)",
            err=True,
        )
        return False
    if click.confirm(question, default=False):
        return True
    click.echo("nothing was changed", err=True)
    return False
