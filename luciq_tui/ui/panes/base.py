"""What every pane shares: it keeps the latest snapshot and draws only when visible."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual.containers import Vertical

SnapshotT = TypeVar("SnapshotT")


class Pane(Vertical, Generic[SnapshotT]):
    """A view of one optimizer. It does no I/O: it is handed snapshots and draws them."""

    optimizer: str = ""
    ACTION_KEYS: frozenset[str] = frozenset({"database", "run_selected"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snapshot: SnapshotT | None = None
        self._dirty = False
        self.visible_pane = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In read-only mode the pane's action keys are hidden and do nothing."""
        return not (action in self.ACTION_KEYS and getattr(self.app, "read_only", False))

    def update_snapshot(self, snapshot: SnapshotT) -> None:
        """Take a new snapshot; draw it now if the pane is showing, else when it shows."""
        self.snapshot = snapshot
        self._dirty = True
        if self.visible_pane:
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
