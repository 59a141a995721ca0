"""The command group, shared output helpers and the mapping of errors to exit statuses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from picdup._version import __version__
from picdup.errors import ActionError, Cancelled, PicdupError

__all__ = [
    "EXIT_ACTION",
    "EXIT_DUPLICATES",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "cli",
    "fail",
    "handle_errors",
    "jobs_option",
    "main",
]

EXIT_OK = 0
EXIT_DUPLICATES = 1
EXIT_ERROR = 2
EXIT_ACTION = 3
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])

# ``-j/--jobs`` of every command that fingerprints (default: all cores, decided by the API).
jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Workers: threads up to 2, processes beyond [default: all cores].",
)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print a one-line error to stderr and exit with ``code``."""
    click.echo(f"picdup: error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn picdup's errors into one-line messages and exit statuses, never tracebacks."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (Cancelled, KeyboardInterrupt):
            click.echo("picdup: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except ActionError as exc:
            fail(str(exc), EXIT_ACTION)
        except PicdupError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit status: 0 nothing found or success, 1 duplicates found (scan), "
    "2 usage or input error, 3 an action failed, 130 interrupted.",
)
@click.version_option(__version__, prog_name="picdup")
def cli() -> None:
    """Find duplicate and near-duplicate images, review them, and act on them safely.

    \b
    Example:
      picdup scan ~/Pictures -o report.json
    """


def _register() -> None:
    from picdup.cli import apply, archive, cache, scan, undo

    cli.add_command(scan.scan)
    cli.add_command(cache.cache)
    cli.add_command(apply.apply_command)
    cli.add_command(undo.undo_command)
    cli.add_command(cache.cache)
    cli.add_command(archive.archive)
    from picdup.cli.review import review

    cli.add_command(review)
    from picdup.cli.report import report

    cli.add_command(report)
    from picdup.cli import evaluate, synth

    cli.add_command(synth.synth)
    cli.add_command(evaluate.evaluate)


_register()


def main() -> None:
    cli(prog_name="picdup")
