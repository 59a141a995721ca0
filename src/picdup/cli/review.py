"""``picdup review``: look at the groups in a local web page and decide."""

from __future__ import annotations

import webbrowser

import click

from picdup.cli.main import handle_errors

__all__ = ["review"]


@click.command(
    epilog="""\b
Examples:
  picdup scan ~/Pictures -o report.json
  picdup review report.json
  picdup review report.json --port 8765 --no-browser
\b
Keys: n/p next/previous group, arrows select a file, k keep, r remove, d not a duplicate,
u undo, c compare (1 side by side, 2 flicker, 3 difference, +/- zoom, Esc close)."""
)
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 to serve on; 0 picks a free one.",
)
@click.option("--no-browser", is_flag=True, help="Print the URL but do not open a browser.")
@handle_errors
def review(report: str, port: int, no_browser: bool) -> None:
    """Review the groups of REPORT in a local web page.

    The page is served on 127.0.0.1 only, at a URL with a random token. Decisions (keep,
    remove, not a duplicate) are saved after every change to REPORT.decisions.json, which
    `picdup apply` honours; pairs marked "not a duplicate" are remembered in the cache so later
    scans do not report them again. Stop with Ctrl-C.
    """
    from picdup.review import open_review

    server = open_review(report, port=port)
    click.echo(f"Reviewing {report} at {server.url}")
    click.echo(f"Decisions are saved to {server.decisions_path}; press Ctrl-C to stop.")
    if not no_browser:
        webbrowser.open(server.url)
    server.serve()
