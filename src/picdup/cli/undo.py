"""``picdup undo``: put back what an apply did, from its journal."""

from __future__ import annotations

import sys

import click

from picdup.act import undo as run_undo
from picdup.cli.main import EXIT_ACTION, EXIT_OK, handle_errors

__all__ = ["undo_command"]


@click.command(
    "undo",
    epilog="""\b
Examples:
  picdup undo report.journal-20260101T120000000000Z.jsonl
\b
Exit status: 0 everything restored, 2 bad journal, 3 something could not be restored.""",
)
@click.argument("journal", type=click.Path(dir_okay=False, path_type=str))
@handle_errors
def undo_command(journal: str) -> None:
    """Restore every file an apply moved, trashed, linked or organized, from its JOURNAL.

    Files go back to their exact paths with their bytes; copies made by organize are removed;
    folders the apply created are removed when empty. Deleted files cannot come back. Nothing
    is overwritten: a file that cannot go back is reported and left where it is. Running undo
    again retries only what is left.
    """
    result = run_undo(journal)
    for path, why in result.failed:
        click.echo(f"not restored: {path} — {why}", err=True)
    for path in result.irreversible:
        click.echo(f"deleted for good: {path}", err=True)
    click.echo(result.summary())
    sys.exit(EXIT_OK if result.ok else EXIT_ACTION)
