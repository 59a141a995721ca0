"""Progress and cancellation, as protocols the core calls and a front end implements.

The core never imports a progress library: the CLI passes a sink that drives a rich progress bar,
the review page or a cluster client may pass their own, and the default does nothing.
"""

from __future__ import annotations

import threading
from typing import Protocol

from picdup.errors import Cancelled

__all__ = ["CancelToken", "NullProgress", "Progress"]


class Progress(Protocol):
    """Receives the pipeline's phases and how far each has got."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase starts; ``total`` is the number of steps, or None when unknown."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current phase are done."""

    def done(self) -> None:
        """The pipeline has finished (successfully or not)."""


class NullProgress:
    """A progress sink that ignores everything."""

    def phase(self, name: str, total: int | None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class CancelToken:
    """Set from another thread (or a signal handler) to stop the pipeline at the next check."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled("cancelled")
