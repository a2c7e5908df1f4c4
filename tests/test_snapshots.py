"""Snapshots of every pane at 80×24 and 160×48, drawn from fixed data (no live sources)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from luciq_tui.core.alerts import AlertEngine
from luciq_tui.core.api import ApiSnapshot, BurstResult, EndpointStatus, ProbeResult
from luciq_tui.core.config import Config
from luciq_tui.core.database import (
    DatabaseInfo,
    DatabaseSnapshot,
    Finding,
    IndexInfo,
    QueryPlan,
    TableInfo,
)
from luciq_tui.core.filesystem import CleanItem, FilesystemSnapshot, MountSpace, RootScan
from luciq_tui.core.monitor import Monitor, build_optimizers
from luciq_tui.core.resources import MountUsage, ProcessRow, ResourcesSnapshot
from luciq_tui.core.store import Baseline, MonitoringStore
from luciq_tui.ui.app import make_app

GIB = 2**30
WHEN = 1_700_000_000.0  # a fixed moment, shown with its date


def _wave(base: float, swing: float, phase: float = 0.0) -> tuple[float, ...]:
    return tuple(round(base + swing * math.sin(i / 6 + phase), 2) for i in range(60))


RESOURCES = ResourcesSnapshot(
    timestamp=WHEN, hostname="demo-host", uptime_s=93784, cpu_percent=23.5,
    per_core=(30.0, 17.0), load=(0.52, 0.40, 0.31), memory_total=8 * GIB,
    memory_used=int(3.1 * GIB), memory_available=int(4.9 * GIB), memory_percent=38.8,
    swap_total=2 * GIB, swap_used=0, swap_percent=0.0, disk_read_bps=120_000.0,
    disk_write_bps=48_000.0, net_rx_bps=5_300.0, net_tx_bps=2_100.0,
    mounts=(MountUsage("/", "ext4", 100 * GIB, 42 * GIB, 42.0),
            MountUsage("/srv", "xfs", 500 * GIB, 460 * GIB, 92.0)),
    processes=(ProcessRow(1201, "app-server", "www", 12.5, 420 * 2**20),
               ProcessRow(88, "sqlite-writer", "app", 4.0, 64 * 2**20),
               ProcessRow(1, "systemd", "root", 0.0, 12 * 2**20),
               ProcessRow(4242, "kworker/0:1", "(unreadable)", 0.0, 0)),
    history={"cpu": _wave(25, 15), "memory": _wave(38, 2), "swap": (0.0,) * 60,
             "net_rx": _wave(5000, 3000), "net_tx": _wave(2000, 1500, 1.0),
             "disk_read": _wave(120000, 60000), "disk_write": _wave(50000, 30000, 2.0)},
)

DATABASES = DatabaseSnapshot((
    DatabaseInfo(
        name="secure_ab_testing", path=Path("/srv/app/secure_ab_testing.db"),
        size_bytes=165_478_400, page_size=4096, page_count=40_400, freelist_count=0,
        journal_mode="delete", sqlite_version="3.40.1", filesystem="ext4",
        tables=(TableInfo("conversion_events", "table", 3_000_000, "max(rowid)"),
                TableInfo("user_assignments", "table", 1_000_000, "max(rowid)")),
        indexes=(IndexInfo("idx_ua_test", "user_assignments", ("test_id",), False, False, "c",
                           False, "idx_ua_test_user", ()),
                 IndexInfo("idx_ua_test_user", "user_assignments", ("test_id", "user_id"), True,
                           False, "c", False, None, ("c_user_variant",))),
        workload=(QueryPlan("c_user_variant", "SELECT …",
                            ("SEARCH user_assignments USING INDEX idx_ua_test_user "
                             "(test_id=? AND user_id=?)",), (), ("idx_ua_test_user",)),
                  QueryPlan("d_last_hour_events", "SELECT …",
                            ("SCAN conversion_events", "USE TEMP B-TREE FOR GROUP BY"),
                            ("SCAN", "TEMP B-TREE"), ())),
        findings=(Finding("warning", "not in WAL mode", "journal_mode=delete", "enable_wal"),
                  Finding("warning", "query d_last_hour_events: SCAN, TEMP B-TREE",
                          "SCAN conversion_events", "create an index (see the advisor)")),
        inspected_ms=1.4,
    ),
    DatabaseInfo(name="notes", path=Path("/srv/app/notes.db"),
                 error="/srv/app/notes.db: not a SQLite database (the file does not start "
                       "with 'SQLite format 3')"),
), WHEN)

ENDPOINTS = ApiSnapshot((
    EndpointStatus("health", "http://127.0.0.1:8080/health", "GET",
                   ProbeResult("health", WHEN, 200, 1.8, True, None), 1.7, 2.4, 3.1, 0.0, 60,
                   tuple(1.5 + (i % 5) * 0.2 for i in range(60)),
                   Baseline("health", WHEN - 86400, 20, 1.5, 2.0, 2.2, 0.0),
                   BurstResult("health", "http://127.0.0.1:8080/health", WHEN, 20, 20,
                               tuple(1.0 + i * 0.1 for i in range(20)), (), 0.2, 2, False)),
    EndpointStatus("results", "http://127.0.0.1:8080/api/results/7", "GET",
                   ProbeResult("results", WHEN, 200, 141.0, True, None), 138.0, 190.0, 240.0,
                   0.0, 60, _wave(140, 40)),
    EndpointStatus("billing", "http://127.0.0.1:9/", "GET",
                   ProbeResult("billing", WHEN, None, None, False, "connection refused"),
                   None, None, None, 1.0, 12, (0.0,) * 12),
), WHEN)

FILESYSTEM = FilesystemSnapshot((
    RootScan("/srv/app", (
        CleanItem("/srv/app/shop/__pycache__", "dir", 84_000, 2, 1, 1),
        CleanItem("/srv/app/.mypy_cache", "dir", 150_000, 1, 1, 2),
    ), (), 1, True, 0.01),
), WHEN, (MountSpace("/srv", 500 * GIB, 460 * GIB, 40 * GIB),))


def _app(tmp_path: Path) -> Any:
    store = MonitoringStore(tmp_path / "monitoring.db")
    store.record_alert(timestamp=WHEN, rule="memory high", metric="memory.percent",
                       severity="warning", state="firing", value=82.5, threshold=80.0,
                       message="memory.percent is 82.5 (above 80)")
    store.record_alert(timestamp=WHEN + 120, rule="memory high", metric="memory.percent",
                       severity="warning", state="resolved", value=73.0, threshold=80.0,
                       message="memory.percent back to 73.0 (below 75)")
    store.log_action(timestamp=WHEN + 60, optimizer="database", action="ANALYZE",
                     target="secure_ab_testing", ok=True, cancelled=False,
                     summary="sqlite_stat1 now has 2 rows; 0 of 4 workload plans changed",
                     details={}, duration_s=0.42)
    config = Config(store=tmp_path / "monitoring.db")
    monitor = Monitor(build_optimizers(config, store), store, AlertEngine((), store))
    return make_app(config, monitor, poll=False)


def _before(key: str) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        app: Any = pilot.app
        await app.workers.wait_for_complete()
        app.show_snapshot("resources", RESOURCES)
        app.show_snapshot("database", DATABASES)
        app.show_snapshot("api", ENDPOINTS)
        app.show_snapshot("filesystem", FILESYSTEM)
        await pilot.press(key)
        await app.workers.wait_for_complete()
        # DataTables size their columns on a later idle: let every pending update land.
        await pilot.pause(0.2)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("key", ["1", "2", "3", "4", "5"],
                         ids=["resources", "databases", "alerts", "actions", "endpoints"])
def test_pane(snap_compare: Any, tmp_path: Path, key: str, size: tuple[int, int]) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_before(key))
