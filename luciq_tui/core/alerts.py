"""The alert engine: rules over metric names, with a `for` duration and a clear level.

A rule's metric may be a glob (`api.*.p95_ms`); each metric it matches is its own alert.
States go ok → pending → firing → resolved. Every transition is committed to the store
before `evaluate` returns it, so nothing is shown that the history does not hold.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from luciq_tui.core.config import AlertRuleConfig
from luciq_tui.core.store import MonitoringStore

MIB = 2**20
DEFAULT_RULES: tuple[AlertRuleConfig, ...] = (
    # The seed's thresholds.
    AlertRuleConfig(name="memory high", metric="memory.percent", threshold=80.0, clear=75.0,
                    severity="warning"),
    AlertRuleConfig(name="memory critical", metric="memory.percent", threshold=85.0,
                    clear=80.0, severity="critical"),
    AlertRuleConfig(name="slow endpoint", metric="api.*.p95_ms", threshold=500.0,
                    clear=400.0, severity="warning"),
    # And the usual causes.
    AlertRuleConfig(name="cpu sustained high", metric="cpu.percent", threshold=90.0,
                    clear=75.0, for_seconds=300, severity="warning"),
    AlertRuleConfig(name="disk nearly full", metric="disk.*.percent", threshold=90.0,
                    clear=85.0, severity="warning"),
    AlertRuleConfig(name="disk full", metric="disk.*.percent", threshold=97.0, clear=95.0,
                    severity="critical"),
    AlertRuleConfig(name="swap in use", metric="swap.percent", threshold=10.0, clear=5.0,
                    for_seconds=120, severity="warning"),
    AlertRuleConfig(name="endpoint down", metric="api.*.up", threshold=0.5,
                    direction="below", for_seconds=10, severity="critical"),
    AlertRuleConfig(name="slow workload query", metric="db.*.query.*.ms", threshold=500.0,
                    clear=250.0, severity="warning"),
    AlertRuleConfig(name="WAL not checkpointed", metric="db.*.wal_bytes",
                    threshold=64.0 * MIB, clear=16.0 * MIB, for_seconds=600,
                    severity="warning"),
    AlertRuleConfig(name="integrity check failed", metric="db.*.integrity_ok", threshold=0.5,
                    direction="below", severity="critical"),
)

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Transition:
    """An alert changing state, as committed to the store."""

    rule_index: int
    id: int
    timestamp: float
    rule: str
    metric: str
    severity: str
    state: str
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class ActiveAlert:
    """An alert that is pending or firing now."""

    id: int
    rule: str
    metric: str
    severity: str
    state: str
    since: float
    value: float
    threshold: float


@dataclass
class _State:
    state: str
    since: float
    value: float
    id: int = 0


def rule_name(rule: AlertRuleConfig) -> str:
    return rule.name or f"{rule.metric} {rule.direction} {rule.threshold:g}"


class AlertEngine:
    """Evaluates rules against metric samples; thread-safe."""

    def __init__(
        self,
        rules: Sequence[AlertRuleConfig],
        store: MonitoringStore | None = None,
        clock: Callable[[], float] = time.time,
        ignore_for: bool = False,
    ) -> None:
        self.rules = tuple(rules) or DEFAULT_RULES
        self.store = store
        self.clock = clock
        self.ignore_for = ignore_for
        self._states: dict[tuple[int, str], _State] = {}
        self._lock = threading.Lock()
        if store is not None:
            self._restore(store)

    def _restore(self, store: MonitoringStore) -> None:
        """Pick up the alerts left open by the last run (even one killed with -9)."""
        by_name = {rule_name(rule): index for index, rule in enumerate(self.rules)}
        for record in store.open_alerts():
            index = by_name.get(record.rule)
            if index is None:
                continue  # its rule is gone from the config; the history keeps it
            self._states[(index, record.metric)] = _State(
                record.state, record.timestamp, record.value or 0.0, record.id)

    def evaluate(self, metrics: Mapping[str, float], now: float | None = None) -> list[Transition]:
        """Feed one sample of some metrics; returns the transitions it caused."""
        now = self.clock() if now is None else now
        transitions: list[Transition] = []
        with self._lock:
            for index, rule in enumerate(self.rules):
                for metric in fnmatch.filter(metrics, rule.metric):
                    value = metrics[metric]
                    change = self._step(index, rule, metric, value, now)
                    if change is not None:
                        transition = self._commit(index, rule, metric, change, value, now)
                        state = self._states.get((index, metric))
                        if state is not None:
                            state.id = transition.id
                        transitions.append(transition)
        return transitions

    def _step(
        self, index: int, rule: AlertRuleConfig, metric: str, value: float, now: float
    ) -> str | None:
        key = (index, metric)
        current = self._states.get(key)
        beyond = value > rule.threshold if rule.direction == "above" else value < rule.threshold
        clear_level = rule.threshold if rule.clear is None else rule.clear
        cleared = (
            value <= clear_level if rule.direction == "above" else value >= clear_level
        )
        if current is None:
            if not beyond:
                return None
            if rule.for_seconds <= 0 or self.ignore_for:
                self._states[key] = _State("firing", now, value)
                return "firing"
            self._states[key] = _State("pending", now, value)
            return "pending"
        current.value = value
        if current.state == "pending":
            if not beyond:
                del self._states[key]
                return "resolved"
            if now - current.since >= rule.for_seconds:
                current.state, current.since = "firing", now
                return "firing"
            return None
        if cleared:
            del self._states[key]
            return "resolved"
        return None

    def _commit(
        self, index: int, rule: AlertRuleConfig, metric: str, state: str, value: float,
        now: float,
    ) -> Transition:
        name = rule_name(rule)
        verb = {"pending": "is", "firing": "is", "resolved": "back to"}[state]
        level = rule.threshold if state != "resolved" or rule.clear is None else rule.clear
        relation = rule.direction if state != "resolved" else (
            "below" if rule.direction == "above" else "above")
        message = f"{metric} {verb} {value:.1f} ({relation} {level:g})"
        alert_id = 0
        if self.store is not None:
            alert_id = self.store.record_alert(
                timestamp=now, rule=name, metric=metric, severity=rule.severity, state=state,
                value=value, threshold=rule.threshold, message=message,
            )
        return Transition(index, alert_id, now, name, metric, rule.severity, state, value,
                          rule.threshold, message)

    def active(self) -> list[ActiveAlert]:
        """Alerts pending or firing now, most severe first."""
        with self._lock:
            alerts = [
                ActiveAlert(state.id, rule_name(self.rules[index]), metric,
                            self.rules[index].severity, state.state, state.since, state.value,
                            self.rules[index].threshold)
                for (index, metric), state in self._states.items()
            ]
        return sorted(alerts, key=lambda a: (a.state != "firing", -SEVERITY_RANK[a.severity],
                                             a.since))

    def firing_count(self) -> int:
        with self._lock:
            return sum(1 for state in self._states.values() if state.state == "firing")


def worst_severity(alerts: Sequence[ActiveAlert]) -> str | None:
    """The most severe of the firing alerts, or None when nothing fires."""
    firing = [alert.severity for alert in alerts if alert.state == "firing"]
    return max(firing, key=lambda severity: SEVERITY_RANK[severity]) if firing else None
