"""``picdup archive``: build, update and describe the persisted index of an archive."""

from __future__ import annotations

import os

import click

from picdup.cli.main import handle_errors, jobs_option
from picdup.errors import InputError
from picdup.index.archive import ArchiveIndex, is_archive_index
from picdup.options import ScanOptions
from picdup.pipeline import update_archive

__all__ = ["archive"]


@click.group(
    epilog="""\b
Examples:
  picdup archive build ~/Archive -o archive.pdarchive
  picdup scan incoming/ --against archive.pdarchive -o new-dupes.json
  picdup archive info archive.pdarchive"""
)
def archive() -> None:
    """Keep an archive's fingerprints in an index that --against opens in milliseconds."""


@archive.command(
    epilog="""\b
Examples:
  picdup archive build ~/Archive -o archive.pdarchive
  picdup archive build s3://bucket/archive --engine dask -o archive.pdarchive
\b
Running it again on the same roots reads only files that are new or changed."""
)
@click.argument("roots", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    help="The index folder to write (or update), e.g. archive.pdarchive.",
)
@click.option(
    "--mode",
    type=click.Choice(["exact", "near"]),
    default="near",
    show_default=True,
    help="near keeps everything a near or pixel query needs; exact keeps digests only "
    "(no decode: fast, but only byte-identical copies can be found).",
)
@jobs_option
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler address.")
@click.option("--include-hidden", is_flag=True, help="Also index hidden files and folders.")
@handle_errors
def build(
    roots: tuple[str, ...],
    output: str,
    mode: str,
    jobs: int | None,
    engine: str,
    scheduler: str | None,
    include_hidden: bool,
) -> None:
    """Index the images under ROOTS (folders or URLs) into OUTPUT."""
    if os.path.exists(output) and not is_archive_index(output):
        raise InputError(f"{output} exists and is not an archive index")
    kwargs: dict[str, object] = {
        "mode": mode,
        "engine": engine,
        "scheduler": scheduler,
        "include_hidden": include_hidden,
    }
    if jobs is not None:
        kwargs["jobs"] = jobs
    options = ScanOptions(**kwargs)  # type: ignore[arg-type]
    index, errors = update_archive(roots, options, index_path=output)
    click.echo(f"{len(index):,} images indexed in {output}; {len(errors)} unreadable")


@archive.command(
    epilog="""\b
Example:
  picdup archive info archive.pdarchive"""
)
@click.argument("index", type=click.Path(path_type=str))
@handle_errors
def info(index: str) -> None:
    """Describe an archive index: entries, roots, size on disk."""
    opened = ArchiveIndex(index)
    size = sum(os.path.getsize(os.path.join(opened.path, name)) for name in os.listdir(opened.path))
    click.echo(f"entries: {len(opened):,}")
    click.echo(f"kind: {'near (decoded)' if opened.decoded else 'exact (digests only)'}")
    click.echo(f"size on disk: {size / 1e6:,.1f} MB")
    for root in opened.roots:
        click.echo(f"root: {root}")
