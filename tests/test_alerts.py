from __future__ import annotations

from pathlib import Path

from luciq_tui.core.alerts import DEFAULT_RULES, AlertEngine
from luciq_tui.core.config import AlertRuleConfig
from luciq_tui.core.store import MonitoringStore


def test_default_rules_follow_the_seed_thresholds() -> None:
    memory = {(r.threshold, r.severity) for r in DEFAULT_RULES if r.metric == "memory.percent"}
    assert memory == {(80.0, "warning"), (85.0, "critical")}
    assert any(r.metric == "api.*.p95_ms" and r.threshold == 500 for r in DEFAULT_RULES)


def test_memory_alert_fires_escalates_and_resolves_with_hysteresis(tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db")
    engine = AlertEngine((), store)  # defaults
    assert engine.evaluate({"memory.percent": 50.0}, now=1) == []
    fired = engine.evaluate({"memory.percent": 82.0}, now=2)
    assert [(t.rule, t.state) for t in fired] == [("memory high", "firing")]
    fired = engine.evaluate({"memory.percent": 86.0}, now=3)
    assert [(t.rule, t.state) for t in fired] == [("memory critical", "firing")]
    assert engine.firing_count() == 2
    # Between clear (75) and threshold (80): the warning stays; the critical clears below 80.
    changes = engine.evaluate({"memory.percent": 78.0}, now=4)
    assert [(t.rule, t.state) for t in changes] == [("memory critical", "resolved")]
    assert engine.evaluate({"memory.percent": 79.9}, now=5) == []
    changes = engine.evaluate({"memory.percent": 74.0}, now=6)
    assert [(t.rule, t.state) for t in changes] == [("memory high", "resolved")]
    # Every transition was committed to the store, in order.
    states = [(r.rule, r.state) for r in reversed(store.alert_history())]
    assert states == [("memory high", "firing"), ("memory critical", "firing"),
                      ("memory critical", "resolved"), ("memory high", "resolved")]
    store.close()


def test_hovering_at_the_threshold_does_not_flap() -> None:
    rule = AlertRuleConfig(metric="cpu.percent", threshold=90, clear=80, name="cpu")
    engine = AlertEngine([rule])
    transitions = []
    for step, value in enumerate([91, 89, 90.5, 88, 91, 85, 90.1]):
        transitions += engine.evaluate({"cpu.percent": float(value)}, now=step)
    assert [t.state for t in transitions] == ["firing"]


def test_for_duration_holds_an_alert_pending() -> None:
    rule = AlertRuleConfig(metric="swap.percent", threshold=10, for_seconds=30, name="swap")
    engine = AlertEngine([rule])
    assert [t.state for t in engine.evaluate({"swap.percent": 20.0}, now=0)] == ["pending"]
    assert engine.evaluate({"swap.percent": 20.0}, now=29) == []
    assert [t.state for t in engine.evaluate({"swap.percent": 20.0}, now=30)] == ["firing"]
    # A pending alert whose condition goes away before `for` resolves without firing.
    engine2 = AlertEngine([rule])
    engine2.evaluate({"swap.percent": 20.0}, now=0)
    assert [t.state for t in engine2.evaluate({"swap.percent": 1.0}, now=5)] == ["resolved"]
    assert engine2.firing_count() == 0


def test_glob_rule_tracks_each_metric_separately() -> None:
    engine = AlertEngine(())
    fired = engine.evaluate({"api.a.p95_ms": 600.0, "api.b.p95_ms": 100.0}, now=1)
    assert [t.metric for t in fired] == ["api.a.p95_ms"]
    fired = engine.evaluate({"api.b.p95_ms": 700.0}, now=2)
    assert [t.metric for t in fired] == ["api.b.p95_ms"]
    assert [a.metric for a in engine.active()] == ["api.a.p95_ms", "api.b.p95_ms"]


def test_below_rule() -> None:
    rule = AlertRuleConfig(metric="api.x.up", threshold=0.5, direction="below",
                           severity="critical", name="down")
    engine = AlertEngine([rule])
    assert [t.state for t in engine.evaluate({"api.x.up": 0.0}, now=1)] == ["firing"]
    assert [t.state for t in engine.evaluate({"api.x.up": 1.0}, now=2)] == ["resolved"]


def test_default_rules_cover_the_usual_causes_and_use_known_metrics() -> None:
    from luciq_tui.core.config import check_metric

    names = {rule.name for rule in DEFAULT_RULES}
    assert {"cpu sustained high", "disk nearly full", "swap in use", "endpoint down",
            "slow workload query", "WAL not checkpointed", "integrity check failed"} <= names
    for rule in DEFAULT_RULES:
        check_metric(rule.metric, rule.name)


def test_for_with_hysteresis_on_a_scripted_stream() -> None:
    """CPU must stay above 90 for 30 s to fire, and fall to 75 to resolve."""
    rule = AlertRuleConfig(metric="cpu.percent", threshold=90, clear=75, for_seconds=30,
                           name="cpu")
    clock = [0.0]
    engine = AlertEngine([rule], clock=lambda: clock[0])
    stream = [(0, 95), (10, 96), (20, 91), (29, 99), (30, 97), (40, 89), (50, 80), (60, 91),
              (70, 74), (80, 95)]
    states = []
    for moment, value in stream:
        clock[0] = float(moment)
        states += [(moment, t.state) for t in engine.evaluate({"cpu.percent": float(value)})]
    assert states == [(0, "pending"), (30, "firing"), (70, "resolved"), (80, "pending")]


def test_ignore_for_fires_at_once() -> None:
    rule = AlertRuleConfig(metric="cpu.percent", threshold=90, for_seconds=600, name="cpu")
    engine = AlertEngine([rule], ignore_for=True)
    assert [t.state for t in engine.evaluate({"cpu.percent": 95.0}, now=0)] == ["firing"]


def test_open_alerts_survive_a_restart(tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db")
    first = AlertEngine((), store)
    first.evaluate({"memory.percent": 90.0}, now=1)  # warning and critical fire
    first.evaluate({"memory.percent": 83.0}, now=2)  # critical resolves (clear 80)? no: 83>80
    assert first.firing_count() == 2
    second = AlertEngine((), store)  # a new process on the same store
    assert {(a.rule, a.state) for a in second.active()} == {("memory high", "firing"),
                                                            ("memory critical", "firing")}
    assert all(a.id for a in second.active())
    changes = second.evaluate({"memory.percent": 70.0}, now=3)
    assert sorted(t.rule for t in changes if t.state == "resolved") == ["memory critical",
                                                                      "memory high"]
    assert AlertEngine((), store).active() == []
    store.close()
