from __future__ import annotations

import os
import pwd
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from luciq_tui.core.optimizer import ActionRefused, ActionSpec, run_action
from luciq_tui.core.resources import (
    ProcessRow,
    ProcessTracker,
    ProcScanner,
    ResourcesOptimizer,
    read_meminfo,
    read_pressure,
)


def _spec(optimizer: ResourcesOptimizer, name: str, target: str = "") -> ActionSpec:
    spec = next(s for s in optimizer.actions(None) if s.name == name)
    return replace(spec, target=target) if target else spec


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
    spec = _spec(optimizer, 'relief')
    assert spec.available
    result = run_action(optimizer, optimizer.preview(spec), read_only=False)
    assert result.ok
    assert result.output.strip() == f"$HOME; touch {marker}"  # passed literally
    assert not marker.exists()
    assert "available_bytes" in result.before and "available_bytes" in result.after


def test_relief_command_failures_are_results() -> None:
    missing = ResourcesOptimizer(relief_command=("/nonexistent/relief",))
    result = run_action(missing, missing.preview(_spec(missing, 'relief')), read_only=False)
    assert not result.ok and "not found" in result.summary
    slow = ResourcesOptimizer(relief_command=(sys.executable, "-c", "import time; time.sleep(5)"),
                              relief_timeout=0.2)
    result = run_action(slow, slow.preview(_spec(slow, 'relief')), read_only=False)
    assert not result.ok and "timed out" in result.summary
    unconfigured = ResourcesOptimizer()
    assert not _spec(unconfigured, 'relief').available


def test_meminfo_reads_bytes() -> None:
    info = read_meminfo()
    if info:
        assert info["MemTotal"] > 1024 * 1024
    assert read_meminfo("/nonexistent") == {}


def test_leak_suspect_is_a_process_whose_rss_only_grows() -> None:
    tracker = ProcessTracker(samples=10)
    mib = 2**20
    rows = []
    for step in range(12):
        rows = [ProcessRow(10, "leaky", "app", 1.0, 100 * mib + step * mib, create_time=1.0),
                ProcessRow(11, "steady", "app", 1.0, 100 * mib + (step % 2) * mib,
                           create_time=1.0),
                ProcessRow(12, "secret", "(no access)", 0.0, 0, readable=False)]
        top = {row.pid: row for row in tracker.update(rows)}
        if step == 8:  # nine samples: growing, but not yet a whole window of it
            assert not top[10].leak_suspect and top[10].rss_growth == 8 * mib
    # The growth over the window: the last ten samples.
    assert top[10].leak_suspect and top[10].rss_growth == 9 * mib
    assert not top[11].leak_suspect
    assert not top[12].leak_suspect and not top[12].readable
    # A new process under a reused PID starts its history afresh.
    reused = tracker.update([ProcessRow(10, "other", "app", 1.0, 50 * mib, create_time=2.0)])
    assert reused[0].rss_growth == 0 and not reused[0].leak_suspect


def _stat(pid: int, name: str, ticks: int, start: int, rss_pages: int) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss ...
    return (f"{pid} ({name}) S 1 1 1 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 {start} "
            f"1000 {rss_pages} 0 0 0\n")


def test_proc_scanner_reads_each_stat_once_and_rates_cpu(tmp_path: Path) -> None:
    ticks_per_s, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "stat").write_text(_stat(1, "x", 0, 0, 0))
    for pid in ("10", "11", "12"):
        (tmp_path / pid).mkdir()
    (tmp_path / "12" / "stat").mkdir()  # a stat that cannot be read
    clock = [50.0]
    scanner = ProcScanner(str(tmp_path), clock=lambda: clock[0])
    assert ProcScanner.available(str(tmp_path)) and not ProcScanner.available("/nonexistent")
    (tmp_path / "10" / "stat").write_text(_stat(10, "web (worker) 1", 100, 500, 256))
    (tmp_path / "11" / "stat").write_text(_stat(11, "db", 40, 600, 16))
    first = {row.pid: row for row in scanner.scan() if row.pid != 1}
    assert first[10].name == "web (worker) 1" and first[10].rss == 256 * page
    assert first[10].cpu_percent == 0.0  # nothing to compare with yet
    assert not first[12].readable and first[12].user == "(no access)"
    assert first[10].user == pwd.getpwuid((tmp_path / "10").stat().st_uid).pw_name
    clock[0] += 2.0
    (tmp_path / "10" / "stat").write_text(_stat(10, "web (worker) 1", 100 + ticks_per_s, 500,
                                                300))
    (tmp_path / "11" / "stat").write_text(_stat(11, "db", 0, 700, 16))  # a new process, PID reused
    second = {row.pid: row for row in scanner.scan()}
    assert second[10].cpu_percent == pytest.approx(50.0)  # one second of CPU in two
    assert second[10].rss == 300 * page
    assert second[11].cpu_percent == 0.0 and second[11].create_time > first[11].create_time


def test_proc_scanner_agrees_with_psutil_on_this_process() -> None:
    if not ProcScanner.available():
        pytest.skip("no /proc")
    rows = {row.pid: row for row in ProcScanner().scan()}
    me = psutil.Process()
    mine = rows[os.getpid()]
    assert mine.name == me.name()[:15]
    assert mine.user == me.username()
    assert abs(mine.rss - me.memory_info().rss) < 16 * 2**20
    assert abs(mine.create_time - me.create_time()) < 1.0
    assert len(rows) >= len(psutil.pids()) // 2


def test_pressure_reads_psi(tmp_path: Path) -> None:
    (tmp_path / "memory").write_text("some avg10=1.50 avg60=0.20 avg300=0.00 total=123\n"
                                     "full avg10=0.50 avg60=0.00 avg300=0.00 total=45\n")
    (tmp_path / "cpu").write_text("some avg10=12.25 avg60=3.00 avg300=1.00 total=9\n")
    assert read_pressure(str(tmp_path)) == {"memory": 1.5, "cpu": 12.25}
    assert read_pressure(str(tmp_path / "none")) == {}


def test_terminate_a_process_by_pid() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        optimizer = ResourcesOptimizer()
        spec = _spec(optimizer, "terminate", str(child.pid))
        preview = optimizer.preview(spec)
        assert f"PID {child.pid}" in preview.summary and "owner" in preview.summary
        result = run_action(optimizer, preview, read_only=False)
        assert result.ok and "it exited" in result.summary
        child.wait(timeout=5)  # psutil reaped it already; this only confirms it is gone
        assert not psutil.pid_exists(child.pid)
    finally:
        child.kill()
        child.wait()


def test_signals_refuse_pid_1_self_and_missing() -> None:
    optimizer = ResourcesOptimizer()
    for target, reason in (("1", "refusing"), (str(os.getpid()), "refusing"),
                           ("", "select a process"), ("999999999", "gone")):
        try:
            optimizer.preview(_spec(optimizer, "kill", target))
        except ActionRefused as error:
            assert reason in str(error)
        else:
            raise AssertionError(f"no refusal for {target!r}")


def test_drop_caches_preview_is_honest() -> None:
    optimizer = ResourcesOptimizer()
    spec = _spec(optimizer, "drop_caches")
    if os.geteuid() != 0:
        assert not spec.available and spec.reason == "needs root"
        return
    preview = optimizer.preview(spec)
    assert preview.details == ("sync()", "echo 1 > /proc/sys/vm/drop_caches")
    assert any("not application memory" in warning for warning in preview.warnings)
    assert any("slower" in warning for warning in preview.warnings)


def test_sampler_with_fake_psutil_and_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rates come from counter deltas over the clock's seconds, exactly."""
    from collections import namedtuple

    import luciq_tui.core.resources as resources

    Memory = namedtuple("Memory", "total available percent")
    Swap = namedtuple("Swap", "total used percent")
    Disk = namedtuple("Disk", "read_bytes write_bytes")
    Net = namedtuple("Net", "bytes_recv bytes_sent")
    step = [0]
    monkeypatch.setattr(resources.psutil, "cpu_percent", lambda percpu=False: [50.0, 30.0])
    monkeypatch.setattr(resources.psutil, "virtual_memory",
                        lambda: Memory(1000, 250, 75.0))
    monkeypatch.setattr(resources.psutil, "swap_memory", lambda: Swap(100, 10, 10.0))
    monkeypatch.setattr(resources.psutil, "disk_io_counters",
                        lambda: Disk(1000 * step[0], 500 * step[0]))
    monkeypatch.setattr(resources.psutil, "net_io_counters",
                        lambda: Net(2000 * step[0], 100 * step[0]))
    monkeypatch.setattr(resources, "mount_usage", lambda: ())
    clock = [100.0]
    optimizer = ResourcesOptimizer(interval=2.0, clock=lambda: clock[0], scan=lambda: [])
    first = optimizer.observe()
    assert first.disk_read_bps == 0.0  # nothing to compare with yet
    for _ in range(3):
        step[0] += 1
        clock[0] += 2.0
        snapshot = optimizer.observe()
    assert snapshot.cpu_percent == 40.0 and snapshot.per_core == (50.0, 30.0)
    assert (snapshot.disk_read_bps, snapshot.disk_write_bps) == (500.0, 250.0)
    assert (snapshot.net_rx_bps, snapshot.net_tx_bps) == (1000.0, 50.0)
    assert snapshot.memory_used == 750 and snapshot.memory_percent == 75.0
    assert snapshot.history["net_rx"] == (0.0, 1000.0, 1000.0, 1000.0)
    metrics = optimizer.metrics(snapshot)
    assert metrics["net.rx_bps"] == 1000.0 and metrics["swap.percent"] == 10.0
