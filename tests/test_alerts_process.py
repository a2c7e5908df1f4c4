"""Alerts against process death, `luciq check` exit codes, and auto-actions."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from luciq_tui.core.alerts import AlertEngine
from luciq_tui.core.config import AlertRuleConfig
from luciq_tui.core.filesystem import FilesystemOptimizer
from luciq_tui.core.monitor import Monitor
from luciq_tui.core.store import MonitoringStore

FIRE_AND_DIE = """
import os, signal, sys, time
from pathlib import Path
from luciq_tui.core.alerts import AlertEngine
from luciq_tui.core.store import MonitoringStore
store = MonitoringStore(Path(sys.argv[1]))
engine = AlertEngine((), store)
engine.evaluate({"memory.percent": 90.0, "api.shop.p95_ms": 900.0}, now=time.time())
store.record_metrics(time.time(), {"memory.percent": 90.0})  # queued, never flushed
print("fired", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_kill_9_while_firing_keeps_history_and_restart_picks_up(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.db"
    result = subprocess.run([sys.executable, "-c", FIRE_AND_DIE, str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGKILL and "fired" in result.stdout
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = MonitoringStore(path)
    assert {r.rule for r in store.alert_history()} == {"memory high", "memory critical",
                                                       "slow endpoint"}
    engine = AlertEngine((), store)
    assert len(engine.active()) == 3 and engine.firing_count() == 3
    # The restarted engine resolves them once the metrics recover, and nothing fires twice.
    changes = engine.evaluate({"memory.percent": 40.0, "api.shop.p95_ms": 30.0})
    assert sorted(t.state for t in changes) == ["resolved"] * 3
    assert not any(t.state == "firing" for t in changes)
    store.close()


def _check(tmp_path: Path, rules: str, *extra: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "luciq.toml"
    config.write_text(rules)
    return subprocess.run(
        [sys.executable, "-m", "luciq_tui", "check", "--config", str(config), "--window", "0.1",
         *extra], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("rules", "code", "status"),
    [
        ("[[alerts.rules]]\nmetric = 'memory.percent'\nabove = 101\n", 0, "OK"),
        ("[[alerts.rules]]\nmetric = 'memory.percent'\nbelow = 101\nseverity = 'info'\n", 0,
         "OK"),
        ("[[alerts.rules]]\nmetric = 'memory.percent'\nbelow = 101\nfor = '1h'\n", 1,
         "WARNING"),
        ("[[alerts.rules]]\nmetric = 'memory.percent'\nbelow = 101\n"
         "[[alerts.rules]]\nmetric = 'cpu.percent'\nabove = -1\nseverity = 'critical'\n", 2,
         "CRITICAL"),
    ],
    ids=["ok", "info-is-ok", "warning-ignores-for", "critical-wins"],
)
def test_check_exit_codes(tmp_path: Path, rules: str, code: int, status: str) -> None:
    result = _check(tmp_path, rules)
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith(f"{status} - ")
    as_json = _check(tmp_path, rules, "--json")
    report = json.loads(as_json.stdout)
    assert report["exit"] == code and report["status"] == status.lower()
    assert "memory.percent" in report["metrics"]


def test_check_with_a_bad_rule_is_unknown(tmp_path: Path) -> None:
    result = _check(tmp_path, "[[alerts.rules]]\nmetric = 'memory.percnt'\nabove = 1\n")
    assert result.returncode == 3
    assert "UNKNOWN" in result.stderr and "alerts.rules[0].metric" in result.stderr


def _cache_tree(root: Path) -> None:
    cache = root / "pkg" / "__pycache__"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "m.pyc").write_bytes(b"x" * 100)
    old = time.time() - 3600
    os.utime(cache / "m.pyc", (old, old))


def _monitor(tmp_path: Path, clock: list[float], *, auto: bool = True,
             read_only: bool = False) -> tuple[Monitor, MonitoringStore, Path]:
    root = tmp_path / "root"
    _cache_tree(root)
    store = MonitoringStore(tmp_path / "monitoring.db")
    rule = AlertRuleConfig(metric="fs.reclaimable_bytes", threshold=0, name="caches",
                           action="filesystem.clean", cooldown_seconds=600)
    engine = AlertEngine([rule], store, clock=lambda: clock[0])
    optimizer = FilesystemOptimizer([root], min_age_seconds=300)
    return Monitor([optimizer], store, engine, read_only=read_only, auto_actions=auto), store, root


def test_auto_action_runs_is_logged_linked_and_cools_down(tmp_path: Path) -> None:
    clock = [1000.0]
    monitor, store, root = _monitor(tmp_path, clock)
    result = monitor.poll("filesystem")
    assert [t.state for t in result.transitions] == ["firing"]
    assert len(result.auto_actions) == 1 and result.auto_actions[0].ok
    assert not (root / "pkg" / "__pycache__").exists()
    log = store.action_log()
    assert log[0].action == "Clean caches" and "auto-action" in log[0].details["note"]
    firing = next(r for r in store.alert_history() if r.state == "firing")
    assert firing.action_id == log[0].id
    # Clean now: the alert resolves. Caches come back within the cooldown: no second run.
    clock[0] += 60
    assert [t.state for t in monitor.poll("filesystem").transitions] == ["resolved"]
    _cache_tree(root)
    clock[0] += 60
    again = monitor.poll("filesystem")
    assert [t.state for t in again.transitions] == ["firing"] and again.auto_actions == ()
    assert (root / "pkg" / "__pycache__").exists() and len(store.action_log()) == 1
    # Once the cooldown is over, the next firing runs it again.
    import shutil

    shutil.rmtree(root / "pkg" / "__pycache__")
    clock[0] += 600
    assert [t.state for t in monitor.poll("filesystem").transitions] == ["resolved"]
    _cache_tree(root)
    third = monitor.poll("filesystem")
    assert len(third.auto_actions) == 1 and len(store.action_log()) == 2
    assert not (root / "pkg" / "__pycache__").exists()
    store.close()


def test_auto_actions_are_off_by_default_and_refused_read_only(tmp_path: Path) -> None:
    clock = [0.0]
    monitor, store, root = _monitor(tmp_path / "off", clock, auto=False)
    result = monitor.poll("filesystem")
    assert result.auto_actions == () and store.action_log() == []
    assert (root / "pkg" / "__pycache__").exists()
    store.close()
    monitor, store, root = _monitor(tmp_path / "ro", clock, read_only=True)
    result = monitor.poll("filesystem")
    assert len(result.auto_actions) == 1 and not result.auto_actions[0].ok
    assert "read-only" in store.action_log()[0].summary
    assert (root / "pkg" / "__pycache__").exists()
    store.close()
