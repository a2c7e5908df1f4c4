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

DEFAULT_RULES: tuple[AlertRuleConfig, ...] = (
    AlertRuleConfig(name="memory high", metric="memory.percent", threshold=80.0, clear=75.0,
                    severity="warning"),
    AlertRuleConfig(name="memory critical", metric="memory.percent", threshold=85.0,
                    clear=80.0, severity="critical"),
    AlertRuleConfig(name="slow endpoint", metric="api.*.p95_ms", threshold=500.0,
                    clear=400.0, severity="warning"),
)

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Transition:
    """An alert changing state, as committed to the store."""

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


def rule_name(rule: AlertRuleConfig) -> str:
    return rule.name or f"{rule.metric} {rule.direction} {rule.threshold:g}"


class AlertEngine:
    """Evaluates rules against metric samples; thread-safe."""

    def __init__(
        self,
        rules: Sequence[AlertRuleConfig],
        store: MonitoringStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = tuple(rules) or DEFAULT_RULES
        self.store = store
        self.clock = clock
        self._states: dict[tuple[int, str], _State] = {}
        self._lock = threading.Lock()

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
                        transitions.append(self._commit(rule, metric, change, value, now))
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
            if rule.for_seconds <= 0:
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
        self, rule: AlertRuleConfig, metric: str, state: str, value: float, now: float
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
        return Transition(alert_id, now, name, metric, rule.severity, state, value,
                          rule.threshold, message)

    def active(self) -> list[ActiveAlert]:
        """Alerts pending or firing now, most severe first."""
        with self._lock:
            alerts = [
                ActiveAlert(rule_name(self.rules[index]), metric, self.rules[index].severity,
                            state.state, state.since, state.value, self.rules[index].threshold)
                for (index, metric), state in self._states.items()
            ]
        return sorted(alerts, key=lambda a: (a.state != "firing", -SEVERITY_RANK[a.severity],
                                             a.since))

    def firing_count(self) -> int:
        with self._lock:
            return sum(1 for state in self._states.values() if state.state == "firing")
