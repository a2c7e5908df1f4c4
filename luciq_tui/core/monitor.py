"""Wires the optimizers to the alert engine and the store: one poll, one action, one place.

`Monitor.poll` is what every caller (dashboard worker, CLI, tests) runs to take an
observation: observe → metrics → store (batched) → alert engine (committed transitions).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from luciq_tui.core.alerts import AlertEngine, Transition
from luciq_tui.core.api import ApiOptimizer, BurstLimits
from luciq_tui.core.config import Config
from luciq_tui.core.database import DatabaseOptimizer
from luciq_tui.core.filesystem import FilesystemOptimizer
from luciq_tui.core.optimizer import (
    ActionResult,
    ActionSpec,
    Optimizer,
    Preview,
    ProgressCallback,
    run_action,
)
from luciq_tui.core.resources import ResourcesOptimizer
from luciq_tui.core.store import MonitoringStore


@dataclass(frozen=True)
class PollResult:
    """One observation of one optimizer, and the alert transitions it caused."""

    optimizer: str
    snapshot: Any
    transitions: tuple[Transition, ...]
    error: str | None = None
    duration_s: float = 0.0


def build_optimizers(config: Config, store: MonitoringStore | None) -> list[Optimizer[Any]]:
    """The four optimizers, configured."""
    return [
        ResourcesOptimizer(config.refresh, config.relief_command, config.relief_timeout),
        DatabaseOptimizer(config.databases, config.database_interval),
        FilesystemOptimizer(config.filesystem_roots, config.filesystem_min_age_seconds,
                            config.filesystem_interval,
                            temp_dirs=config.filesystem_temp_dirs,
                            temp_max_age_days=config.filesystem_temp_max_age_days),
        ApiOptimizer(config.endpoints, config.probe_interval, store,
                     BurstLimits(config.burst_count, config.burst_concurrency,
                                 config.burst_max_seconds)),
    ]


class Monitor:
    """The headless engine behind the dashboard and the CLI."""

    def __init__(
        self,
        optimizers: Sequence[Optimizer[Any]],
        store: MonitoringStore | None,
        engine: AlertEngine,
        read_only: bool = False,
    ) -> None:
        self.optimizers = {optimizer.name: optimizer for optimizer in optimizers}
        self.store = store
        self.engine = engine
        self.read_only = read_only
        self.latest: dict[str, Any] = {}
        self._lock = threading.Lock()

    def poll(self, name: str) -> PollResult:
        """Observe one optimizer; never raises (an error is part of the result)."""
        optimizer = self.optimizers[name]
        started = time.perf_counter()
        try:
            snapshot = optimizer.observe()
            metrics = optimizer.metrics(snapshot)
        except Exception as error:  # a broken source must not stop the others
            return PollResult(name, None, (), f"{name}: {type(error).__name__}: {error}",
                              time.perf_counter() - started)
        now = time.time()
        transitions: tuple[Transition, ...] = ()
        if self.store is not None:
            self.store.record_metrics(now, metrics)
            self.store.maybe_flush()
        transitions = tuple(self.engine.evaluate(metrics, now))
        with self._lock:
            self.latest[name] = snapshot
        return PollResult(name, snapshot, transitions, None, time.perf_counter() - started)

    def actions(self) -> list[ActionSpec]:
        """Every action on offer; none in read-only mode."""
        if self.read_only:
            return []
        with self._lock:
            latest = dict(self.latest)
        specs: list[ActionSpec] = []
        for name, optimizer in self.optimizers.items():
            specs.extend(optimizer.actions(latest.get(name)))
        return specs

    def preview(self, action: ActionSpec) -> Preview:
        return self.optimizers[action.optimizer].preview(action)

    def run(
        self,
        preview: Preview,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ActionResult:
        """Run a confirmed preview and write it to the action log."""
        return run_action(
            self.optimizers[preview.action.optimizer], preview, read_only=self.read_only,
            progress=progress, cancel=cancel, log=self.log_result,
        )

    def log_result(self, result: ActionResult) -> None:
        if self.store is None:
            return
        self.store.log_action(
            timestamp=result.started_at or time.time(),
            optimizer=result.action.optimizer,
            action=result.action.title,
            target=result.action.target,
            ok=result.ok,
            cancelled=result.cancelled,
            summary=result.summary,
            details={"before": dict(result.before), "after": dict(result.after),
                     "output": result.output},
            duration_s=result.duration_s,
        )

    def close(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.close()
        if self.store is not None:
            self.store.close()
