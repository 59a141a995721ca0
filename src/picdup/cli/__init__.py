"""The ``picdup`` command line: thin commands over the Python API.

Exit statuses (the same for every command):

====  =============================================================
0     success; for ``scan``: no duplicates found
1     ``scan`` found duplicates
2     usage or input error (bad option, missing folder, bad report)
3     an action could not be completed safely
130   interrupted (Ctrl-C); the cache keeps what was done
====  =============================================================
"""

from __future__ import annotations

from picdup.cli.main import EXIT_DUPLICATES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, cli, main

__all__ = ["EXIT_DUPLICATES", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "cli", "main"]
