"""Loading peer tools the benchmarks compare against."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import types


def imagededup_hashing() -> types.ModuleType:
    """imagededup's hashing module (PHash, DHash, …) without its CNN part.

    imagededup's package ``__init__`` imports its CNN module, which needs torch and torchvision,
    even when only hashing is used. Those are gigabytes that the hashing methods never touch, so
    when the plain import fails the hashing module is loaded on its own.
    """
    try:
        module = importlib.import_module("imagededup.methods.hashing")
    except (ImportError, RuntimeError):
        import imagededup

        base = os.path.dirname(imagededup.__file__)
        for name in ("methods", "utils"):
            for key in [k for k in sys.modules if k.startswith(f"imagededup.{name}")]:
                del sys.modules[key]
            pkg = types.ModuleType(f"imagededup.{name}")
            pkg.__path__ = [os.path.join(base, name)]
            sys.modules[pkg.__name__] = pkg
        module = importlib.import_module("imagededup.methods.hashing")
    # Its INFO lines ("Start: Evaluating hamming distances …") would drown the tables.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("imagededup"):
            logging.getLogger(name).setLevel(logging.WARNING)
    return module
