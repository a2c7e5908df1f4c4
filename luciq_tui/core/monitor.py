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
    ActionRefused,
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
    auto_actions: tuple[ActionResult, ...] = ()


def build_optimizers(config: Config, store: MonitoringStore | None) -> list[Optimizer[Any]]:
    """The four optimizers, configured."""
    return [
        ResourcesOptimizer(config.refresh, config.relief_command, config.relief_timeout),
        DatabaseOptimizer(config.databases, config.database_interval,
                          config.workload_interval),
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
        auto_actions: bool = False,
    ) -> None:
        self.optimizers = {optimizer.name: optimizer for optimizer in optimizers}
        self.store = store
        self.engine = engine
        self.read_only = read_only
        self.auto_actions = auto_actions
        self._last_auto: dict[int, float] = {}
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
        ran = tuple(result for transition in transitions
                    if (result := self.auto_action(transition)) is not None)
        return PollResult(name, snapshot, transitions, None, time.perf_counter() - started, ran)

    def auto_action(self, transition: Transition) -> ActionResult | None:
        """Run the action a firing rule names: only when auto-actions are on, at most once
        per cooldown per rule, logged like a manual action and linked from the alert."""
        rule = self.engine.rules[transition.rule_index]
        if transition.state != "firing" or not rule.action or not self.auto_actions:
            return None
        now = self.engine.clock()
        last = self._last_auto.get(transition.rule_index)
        if last is not None and now - last < rule.cooldown_seconds:
            return None
        self._last_auto[transition.rule_index] = now
        key, _, target = rule.action.partition(":")
        optimizer_name = key.split(".", 1)[0]
        optimizer = self.optimizers.get(optimizer_name)
        spec = next((s for s in (optimizer.actions(self.latest.get(optimizer_name))
                                 if optimizer is not None else ())
                     if f"{s.optimizer}.{s.name}" == key and (not target or s.target == target)),
                    None)
        if optimizer is None or spec is None:
            refused = ActionSpec(optimizer_name, key.partition(".")[2], rule.action, "",
                                 target, available=False, reason="no such action")
            result = ActionResult(refused, False, f"refused: no action {rule.action!r}",
                                  started_at=time.time())
            self._log_auto(transition, result)
            return result
        try:
            preview = optimizer.preview(spec)
        except ActionRefused as error:
            result = ActionResult(spec, False, f"refused: {error}", started_at=time.time())
            self._log_auto(transition, result)
            return result
        return run_action(optimizer, preview, read_only=self.read_only,
                          log=lambda result: self._log_auto(transition, result))

    def _log_auto(self, transition: Transition, result: ActionResult) -> None:
        action_id = self.log_result(result, note=f"auto-action for alert {transition.rule}")
        if self.store is not None and action_id and transition.id:
            self.store.link_action(transition.id, action_id)

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
            progress=progress, cancel=cancel, log=self._log_manual,
        )

    def _log_manual(self, result: ActionResult) -> None:
        self.log_result(result)

    def log_result(self, result: ActionResult, note: str = "") -> int:
        """Write a result to the action log; returns its row id (0 without a store)."""
        if self.store is None:
            return 0
        return self.store.log_action(
            timestamp=result.started_at or time.time(),
            optimizer=result.action.optimizer,
            action=result.action.title,
            target=result.action.target,
            ok=result.ok,
            cancelled=result.cancelled,
            summary=result.summary,
            details={"before": dict(result.before), "after": dict(result.after),
                     "output": result.output, **({"note": note} if note else {})},
            duration_s=result.duration_s,
        )

    def close(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.close()
        if self.store is not None:
            self.store.close()
