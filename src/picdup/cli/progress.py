"""A rich progress bar behind the core's Progress protocol (terminal only)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["RichProgress"]

_LABELS = {
    "walk": "Listing files",
    "cache": "Checking the cache",
    "fingerprint": "Reading images",
    "match": "Matching",
}


class RichProgress:
    """Shows each phase as one bar with files per second and time left."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._bar.start()

    def phase(self, name: str, total: int | None) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(_LABELS.get(name, name), total=total, rate="")

    def advance(self, steps: int = 1) -> None:
        if self._task is None:
            return
        self._bar.advance(self._task, steps)
        speed = self._bar.tasks[-1].speed
        self._bar.update(self._task, rate=f"{speed:,.0f} files/s" if speed else "")

    def done(self) -> None:
        self._bar.stop()
