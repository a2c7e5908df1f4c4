"""Messages the workers post to the dashboard: immutable results, coalesced in bursts."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from luciq_tui.core.monitor import PollResult
from luciq_tui.core.optimizer import ActionResult, Preview


class PollFinished(Message):
    """An optimizer finished one observation."""

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result


class SnapshotReady(Message):
    """A fresh snapshot outside the polling cycle (after a baseline was saved, say)."""

    def __init__(self, optimizer: str, snapshot: Any) -> None:
        super().__init__()
        self.optimizer = optimizer
        self.snapshot = snapshot


class ScanProgress(Message):
    """The filesystem scan has looked at `entries` entries so far."""

    def __init__(self, entries: int, folder: str) -> None:
        super().__init__()
        self.entries = entries
        self.folder = folder

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScanProgress)


class PreviewReady(Message):
    """A preview is ready to be confirmed."""

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview


class ActionProgress(Message):
    """The running action made progress; a newer one replaces an unhandled older one."""

    def __init__(self, fraction: float | None, text: str) -> None:
        super().__init__()
        self.fraction = fraction
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ActionProgress)


class ActionFinished(Message):
    """An action finished, failed or was cancelled; the result is in the action log."""

    def __init__(self, result: ActionResult) -> None:
        super().__init__()
        self.result = result
