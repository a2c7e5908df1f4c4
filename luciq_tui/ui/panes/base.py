"""What every pane shares: it keeps the latest snapshot and draws only when visible."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from textual.containers import Vertical

SnapshotT = TypeVar("SnapshotT")
LOW_BANDWIDTH_SECONDS = 5.0


class Pane(Vertical, Generic[SnapshotT]):
    """A view of one optimizer. It does no I/O: it is handed snapshots and draws them."""

    optimizer: str = ""
    clock: Callable[[], float] = staticmethod(time.monotonic)  # tests give a fake one
    ACTION_KEYS: frozenset[str] = frozenset({"database", "run_selected"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snapshot: SnapshotT | None = None
        self._dirty = False
        self.visible_pane = False
        self._drawn_at = 0.0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In read-only mode the pane's action keys are hidden and do nothing."""
        return not (action in self.ACTION_KEYS and getattr(self.app, "read_only", False))

    def update_snapshot(self, snapshot: SnapshotT) -> None:
        """Take a new snapshot; draw it now if the pane is showing, else when it shows. In
        low-bandwidth mode a showing pane redraws at most every `LOW_BANDWIDTH_SECONDS`."""
        self.snapshot = snapshot
        self._dirty = True
        if not self.visible_pane:
            return
        if getattr(self.app, "low_bandwidth", False):
            now = self.clock()
            if now - self._drawn_at < LOW_BANDWIDTH_SECONDS:
                return
            self._drawn_at = now
        self.redraw()

    def set_visible_pane(self, visible: bool) -> None:
        self.visible_pane = visible
        if visible and self._dirty:
            self.redraw()

    def redraw(self) -> None:
        self._dirty = False
        if self.snapshot is not None:
            self.draw(self.snapshot)

    def draw(self, snapshot: SnapshotT) -> None:
        """Render a snapshot into the pane's widgets."""
        raise NotImplementedError
