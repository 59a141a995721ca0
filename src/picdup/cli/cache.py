"""``picdup cache info|clear|path``: look after the fingerprint cache."""

from __future__ import annotations

import logging

import click

from picdup.cache import cache_info, clear_cache, default_cache_path
from picdup.cli.main import handle_errors

__all__ = ["cache", "show_warnings"]

_CACHE_OPTION = click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="The cache file [default: the one 'picdup cache path' prints].",
)


def show_warnings() -> None:
    """Print the core's warnings (a rebuilt cache, …) as one line each on stderr."""
    logger = logging.getLogger("picdup")
    if any(getattr(h, "_picdup_cli", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("picdup: warning: %(message)s"))
    handler._picdup_cli = True  # type: ignore[attr-defined]
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    logger.propagate = False


@click.group(
    epilog="""\b
Examples:
  picdup cache info
  picdup cache path
  picdup cache clear
  picdup cache info --cache /tmp/pictures.sqlite3"""
)
def cache() -> None:
    """Show, locate or delete the fingerprint cache.

    The cache keeps each file's fingerprint keyed by path, size, modification time and the
    algorithm's version and parameters, so a rescan reads only new or changed files; and the
    verification evidence of each candidate pair keyed by both files' content, so a rescan
    measures only new pairs.
    Set PICDUP_CACHE_DIR to move the default location.
    """


@cache.command(
    epilog="Examples:\n\n\b\n  picdup cache path\n  PICDUP_CACHE_DIR=/tmp/c picdup cache path"
)
def path() -> None:
    """Print the path of the default cache file."""
    click.echo(default_cache_path())


@cache.command(epilog="Examples:\n\n\b\n  picdup cache info\n  picdup cache info --cache c.sqlite3")
@_CACHE_OPTION
@handle_errors
def info(cache_path: str | None) -> None:
    """Show where the cache is, its size, and how many fingerprints and pairs' verification
    evidence it holds."""
    show_warnings()
    facts = cache_info(cache_path)
    click.echo(f"path: {facts.path}")
    if not facts.exists:
        click.echo("no cache yet (it is created by the first scan)")
        return
    click.echo(f"size: {facts.bytes:,} bytes")
    click.echo(f"fingerprints: {facts.rows:,} ({facts.current_rows:,} of this picdup version)")
    click.echo(f"verified pairs: {facts.evidence_rows:,}")
    click.echo(f"schema: {facts.schema}")


@cache.command(
    epilog="Examples:\n\n\b\n  picdup cache clear\n  picdup cache clear --cache c.sqlite3"
)
@_CACHE_OPTION
@handle_errors
def clear(cache_path: str | None) -> None:
    """Delete the cache file; the next scan reads every file again."""
    target = cache_path or default_cache_path()
    freed = clear_cache(target)
    click.echo(f"deleted {target} ({freed:,} bytes)" if freed else f"no cache at {target}")
