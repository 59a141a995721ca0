"""The ``picdup`` console script's entry point.

The script pip writes imports its entry point at module level, and every worker process
multiprocessing starts imports the main script again (with ``__name__`` not ``"__main__"``).
Pointing the script here, rather than at :mod:`picdup.cli`, keeps that re-import to this one
small module: each worker would otherwise import the whole command line (about half a second
of CPU) before it fingerprints its first file.
"""

from __future__ import annotations


def main() -> None:
    from picdup.cli import main as cli_main

    cli_main()
