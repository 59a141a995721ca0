"""``picdup scan``: find duplicates and write a report."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.markup import escape

from picdup._text import display_path, format_bytes
from picdup.cli.cache import show_warnings
from picdup.cli.main import EXIT_DUPLICATES, EXIT_OK, handle_errors, jobs_option
from picdup.cli.progress import RichProgress
from picdup.model import Report
from picdup.options import ScanOptions
from picdup.pipeline import run_against, run_scan
from picdup.progress import CancelToken, Progress
from picdup.report.json import check_output_path, report_to_dict, write_report

__all__ = ["scan", "summary_line"]

_SHOWN_GROUPS = 20


def summary_line(report: Report) -> str:
    s = report.stats
    parts = [
        f"{s.groups} group{'s' * (s.groups != 1)}",
        f"{s.duplicates} duplicate file{'s' * (s.duplicates != 1)}",
        f"{format_bytes(s.reclaimable_bytes)} reclaimable",
        f"{len(report.errors)} unreadable",
    ]
    if s.skipped:
        parts.append(f"{s.skipped} skipped (not images)")
    return f"{', '.join(parts)}; {s.images} images in {s.seconds:.1f} s"


def _show_groups(console: Console, report: Report) -> None:
    for g in report.groups[:_SHOWN_GROUPS]:
        keep = escape(display_path(g.keep))  # a name like "[b]x.jpg" is not markup
        console.print(
            f"[bold]group {g.id}[/] ({g.cls}) keep [green]{keep}[/] — {g.why}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        for m in g.members:
            if m.path != g.keep:
                console.print(
                    f"    {m.cls:<6} {display_path(m.path)}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    if len(report.groups) > _SHOWN_GROUPS:
        console.print(f"… and {len(report.groups) - _SHOWN_GROUPS} more groups", highlight=False)


@click.command(
    epilog="""\b
Examples:
  picdup scan ~/Pictures -o report.json
  picdup scan stickers/ images/ --separate -o report.json
  picdup scan phone/ --mode exact -o dupes.csv
  picdup scan ~/Pictures --mode edited --rotations -o report.json
  picdup scan ~/Pictures --cache /tmp/pictures.sqlite3 -o report.json
  picdup scan s3://bucket/photos --engine dask -o report.json
  picdup scan incoming/ --against ~/Archive -o new-dupes.json
  picdup scan DCIM/ --pairs -o report.json
\b
Exit status: 0 no duplicates, 1 duplicates found, 2 usage or input error, 130 interrupted."""
)
@click.argument("roots", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the report here: .json (full report), .csv (one row per file) or .html "
    "(self-contained page with thumbnails); "
    "'-' writes JSON to standard output.",
)
@click.option(
    "--mode",
    type=click.Choice(["exact", "pixel", "near", "edited", "similar"]),
    default="near",
    show_default=True,
    help="Loosest kind of copy that counts: exact (same bytes), pixel (same pixels, "
    "other container or metadata), near (resized, recompressed, re-encoded, letterboxed), "
    "edited (also cropped a little, brighter or darker, watermarked, greyscale) or similar "
    "(looser still; same scene).",
)
@click.option(
    "--rotations",
    is_flag=True,
    help="Also find copies that are flipped or turned by 90°, 180° or 270°; with --mode edited "
    "or similar, also copies tilted by another angle (up to 44° either way) about the centre.",
)
@click.option(
    "--separate", is_flag=True, help="Deduplicate each ROOT on its own instead of across all roots."
)
@jobs_option
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but the one-line summary.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links (loops are detected).")
@click.option("--include-hidden", is_flag=True, help="Also scan hidden files and folders.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where fingerprints are computed: local workers, or Dask tasks (needs picdup[dask]).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Dask scheduler address (tcp://host:8786) for --engine dask "
    "[default: a LocalCluster of --jobs workers].",
)
@click.option(
    "--against",
    "against",
    multiple=True,
    metavar="ARCHIVE",
    help="Report only copies of ROOTS' files found in ARCHIVE (a folder, URL or an archive "
    "index made by 'picdup archive build'); repeatable. The archive is never compared with "
    "itself and never touched by apply.",
)
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Fingerprint cache file [default: see 'picdup cache path'].",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the fingerprint cache.")
@click.option(
    "--pairs",
    is_flag=True,
    help="Treat a RAW file and the JPEG beside it with the same name, or a Live Photo's "
    "HEIC and MOV, as one asset (listed under 'assets'), never as duplicates of each other.",
)
@handle_errors
def scan(
    roots: tuple[str, ...],
    output: str | None,
    mode: str,
    rotations: bool,
    separate: bool,
    jobs: int | None,
    quiet: bool,
    follow_symlinks: bool,
    include_hidden: bool,
    engine: str,
    scheduler: str | None,
    against: tuple[str, ...],
    cache_path: str | None,
    no_cache: bool,
    pairs: bool,
) -> None:
    """Find exact, pixel-identical and near-duplicate images under ROOTS.

    Folders are walked recursively; files are recognised by their content, not their name.
    Every member of a group matches the group's suggested keeper directly, so unrelated
    images are never chained together.
    """
    kwargs: dict[str, object] = {
        "mode": mode,
        "separate": separate,
        "rotations": rotations,
        "follow_symlinks": follow_symlinks,
        "include_hidden": include_hidden,
        "engine": engine,
        "scheduler": scheduler,
        "use_cache": not no_cache,
        "cache_path": cache_path,
        "pairs": pairs,
    }
    if jobs is not None:
        kwargs["jobs"] = jobs
    options = ScanOptions(**kwargs)  # type: ignore[arg-type]
    to_stdout = output == "-"
    if output is not None and not to_stdout:
        check_output_path(output)  # fail before any work
    show_warnings()
    err = Console(stderr=True)
    out = Console(stderr=to_stdout)
    interactive = err.is_terminal and not quiet
    progress: Progress | None = RichProgress(err) if interactive else None
    cancel = CancelToken()
    command = ["picdup", "scan", *sys.argv[2:]]
    try:
        if against:
            report = run_against(
                roots, against, options, progress=progress, cancel=cancel, command=command
            )
        else:
            report = run_scan(roots, options, progress=progress, cancel=cancel, command=command)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    if to_stdout:
        sys.stdout.write(json.dumps(report_to_dict(report), ensure_ascii=True, indent=1) + "\n")
    elif output is not None:
        write_report(report, output)
    elif interactive and out.is_terminal:
        _show_groups(out, report)
    out.print(summary_line(report), highlight=False, markup=False, soft_wrap=True)
    if output and not to_stdout and not quiet:
        out.print(f"report written to {output}", highlight=False, markup=False, soft_wrap=True)
    sys.exit(EXIT_DUPLICATES if report.groups else EXIT_OK)
