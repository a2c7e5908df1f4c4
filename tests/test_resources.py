from __future__ import annotations

import sys
from pathlib import Path

from luciq_tui.core.optimizer import run_action
from luciq_tui.core.resources import ResourcesOptimizer, read_meminfo


def test_observe_fills_rings_and_metrics() -> None:
    ticks = iter(float(i) for i in range(100))
    optimizer = ResourcesOptimizer(interval=1.0, clock=lambda: next(ticks))
    for _ in range(3):
        snapshot = optimizer.observe()
    assert len(snapshot.history["cpu"]) == 3
    assert 0 <= snapshot.cpu_percent <= 100
    assert snapshot.memory_total > 0 and 0 <= snapshot.memory_percent <= 100
    assert snapshot.per_core and snapshot.mounts
    metrics = optimizer.metrics(snapshot)
    assert {"cpu.percent", "memory.percent", "swap.percent", "net.rx_bps"} <= set(metrics)


def test_rings_are_bounded() -> None:
    ticks = iter(float(i) for i in range(1000))
    optimizer = ResourcesOptimizer(interval=1.0, process_every=1000, clock=lambda: next(ticks))
    for _ in range(100):
        snapshot = optimizer.observe()
    assert len(snapshot.history["memory"]) == 60


def test_relief_command_runs_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "should-not-exist"
    argv = (sys.executable, "-c", "import sys; print(sys.argv[1])", f"$HOME; touch {marker}")
    optimizer = ResourcesOptimizer(relief_command=argv)
    spec = optimizer.actions(None)[0]
    assert spec.available
    result = run_action(optimizer, optimizer.preview(spec), read_only=False)
    assert result.ok
    assert result.output.strip() == f"$HOME; touch {marker}"  # passed literally
    assert not marker.exists()
    assert "available_bytes" in result.before and "available_bytes" in result.after


def test_relief_command_failures_are_results() -> None:
    missing = ResourcesOptimizer(relief_command=("/nonexistent/relief",))
    result = run_action(missing, missing.preview(missing.actions(None)[0]), read_only=False)
    assert not result.ok and "not found" in result.summary
    slow = ResourcesOptimizer(relief_command=(sys.executable, "-c", "import time; time.sleep(5)"),
                              relief_timeout=0.2)
    result = run_action(slow, slow.preview(slow.actions(None)[0]), read_only=False)
    assert not result.ok and "timed out" in result.summary
    unconfigured = ResourcesOptimizer()
    assert not unconfigured.actions(None)[0].available


def test_meminfo_reads_bytes() -> None:
    info = read_meminfo()
    if info:
        assert info["MemTotal"] > 1024 * 1024
    assert read_meminfo("/nonexistent") == {}
