"""``picdup report``: other views of a saved report."""

from __future__ import annotations

import click

from picdup.cli.main import handle_errors
from picdup.report.html import write_html
from picdup.report.json import load_report

__all__ = ["report"]


@click.command(
    epilog="""\b
Examples:
  picdup report report.json --html report.html
  picdup scan ~/Pictures -o report.html"""
)
@click.argument("report_path", metavar="REPORT", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="Write one self-contained, read-only HTML page with thumbnails here.",
)
@handle_errors
def report(report_path: str, html_path: str) -> None:
    """Write REPORT as a self-contained HTML page to open or send without picdup."""
    from picdup.errors import InputError

    if not html_path.lower().endswith((".html", ".htm")):
        raise InputError(f"the HTML page's name must end in .html: {html_path}")
    data = load_report(report_path)
    write_html(data, html_path)
    click.echo(f"{len(data.groups)} groups written to {html_path}")
