"""The protocol every optimizer follows: observe → list actions → preview → run → result.

An optimizer is plain Python (no Textual): the dashboard runs `observe` and `execute` in
worker threads, the CLI and the tests call them directly. Everything crossing the boundary
is an immutable value.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

ProgressCallback = Callable[[float | None, str], None]
"""Reports progress: a fraction from 0 to 1 (None when unknown) and a short message."""


class ActionRefused(Exception):
    """An action that must not run: read-only mode, a stale preview, a precondition failed."""


@dataclass(frozen=True)
class ActionSpec:
    """One thing an optimizer can do, as offered to the operator."""

    optimizer: str
    name: str
    title: str
    key: str
    target: str = ""
    description: str = ""
    available: bool = True
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.optimizer}.{self.name}" + (f":{self.target}" if self.target else "")

    @property
    def label(self) -> str:
        return f"{self.title} ({self.target})" if self.target else self.title


@dataclass(frozen=True)
class Preview:
    """Exactly what an action will do, shown before the operator confirms it."""

    action: ActionSpec
    summary: str
    details: tuple[str, ...] = ()
    cost: str = ""
    warnings: tuple[str, ...] = ()
    payload: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ActionResult:
    """What an action did, measured: the before and after figures say how."""

    action: ActionSpec
    ok: bool
    summary: str
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)
    output: str = ""
    duration_s: float = 0.0
    cancelled: bool = False
    started_at: float = 0.0


SnapshotT = TypeVar("SnapshotT")


class Optimizer(ABC, Generic[SnapshotT]):
    """Base of the four optimizers (resources, database, filesystem, api)."""

    name: str = ""
    interval: float = 1.0

    @abstractmethod
    def observe(self) -> SnapshotT:
        """Take one observation. Blocking: runs in a worker thread, never on the UI loop."""

    @abstractmethod
    def actions(self, snapshot: SnapshotT | None) -> tuple[ActionSpec, ...]:
        """The actions on offer given the latest observation."""

    @abstractmethod
    def preview(self, action: ActionSpec) -> Preview:
        """Say exactly what `action` would do. May do read-only I/O; changes nothing."""

    @abstractmethod
    def execute(
        self, preview: Preview, progress: ProgressCallback, cancel: threading.Event
    ) -> ActionResult:
        """Carry out a confirmed preview, reporting progress and honouring `cancel`."""

    def metrics(self, snapshot: SnapshotT) -> dict[str, float]:
        """Flat metric name → value pairs for the alert engine and the store."""
        return {}

    def close(self) -> None:
        """Release anything held open between observations."""


def run_action(
    optimizer: Optimizer[Any],
    preview: Preview,
    *,
    read_only: bool,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    log: Callable[[ActionResult], None] | None = None,
) -> ActionResult:
    """Run a confirmed action the one way every caller runs it: refuse, time, catch, log.

    A failure becomes a result with `ok=False`, never an exception, so the CLI and the
    dashboard report it the same way; every result, good or bad, goes to the action log.
    """
    started = time.time()
    clock = time.perf_counter()
    if read_only:
        result = ActionResult(preview.action, False, "refused: Luciq is in read-only mode",
                              started_at=started)
    elif not preview.action.available:
        result = ActionResult(preview.action, False, f"refused: {preview.action.reason}",
                              started_at=started)
    else:
        try:
            result = optimizer.execute(
                preview, progress or (lambda fraction, message: None), cancel or threading.Event()
            )
        except ActionRefused as error:
            result = ActionResult(preview.action, False, f"refused: {error}")
        except Exception as error:  # an action must report failure, not crash its caller
            result = ActionResult(preview.action, False, f"failed: {error}")
        if not result.duration_s:
            result = replace(result, duration_s=time.perf_counter() - clock)
        result = replace(result, started_at=started)
    if log is not None:
        log(result)
    return result
