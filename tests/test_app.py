"""The dashboard driven with Pilot on a small demo workspace."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TabbedContent

from conftest import digest
from luciq_tui.core.alerts import AlertEngine
from luciq_tui.core.config import Config, DatabaseConfig, EndpointConfig
from luciq_tui.core.demo import DemoService, DemoWorkspace, demo_config
from luciq_tui.core.monitor import Monitor, build_optimizers
from luciq_tui.core.store import MonitoringStore
from luciq_tui.ui.app import LuciqApp, make_app
from luciq_tui.ui.dialogs import ConfirmScreen
from luciq_tui.ui.lines import LineTable, TextLines


def _app(config: Config, *, poll: bool = True) -> LuciqApp:
    store = MonitoringStore(config.store_path())
    monitor = Monitor(build_optimizers(config, store), store,
                      AlertEngine(config.alert_rules, store), read_only=config.read_only)
    return make_app(config, monitor, poll=poll)


def _demo_config(demo: DemoWorkspace, service: DemoService | None = None) -> Config:
    return demo_config(demo, service.base_url if service else None,
                       Config(filesystem_min_age_seconds=300))


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool],
                     timeout: float = 10.0) -> None:
    """Let the app run until `condition` holds (workers finish in their own time)."""
    steps = int(timeout / 0.05)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


def _text(app: LuciqApp, selector: str) -> str:
    """The plain text a Static or TextLines shows, whatever renderable it holds."""
    lines = app.screen.query(selector).first()
    if isinstance(lines, TextLines):
        return lines.plain
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def _cells(table: DataTable[object]) -> str:
    return "\n".join(" ".join(str(cell) for cell in table.get_row_at(row))
                     for row in range(table.row_count))


async def test_panes_fill_with_live_data_and_switch(demo: DemoWorkspace,
                                                    demo_service: DemoService) -> None:
    app = _app(_demo_config(demo, demo_service))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: "firing" in _text(app, "#status-bar")
                         and " up " in _text(app, "#status-bar"))
        # On Resources the summary shows load, CPU and memory; the status line does not
        # repeat them (and so does not change every second); on other panes it does.
        assert "load" in _text(app, "#res-summary") and "CPU" in _text(app, "#res-summary")
        assert "load" not in _text(app, "#status-bar")
        assert app.query_one("#res-processes", LineTable).row_count > 0
        for key, pane in [("2", "databases"), ("3", "alerts"), ("4", "actions"),
                          ("5", "endpoints"), ("1", "resources")]:
            await pilot.press(key)
            assert app.query_one(TabbedContent).active == pane
        await pilot.press("2")
        await wait_until(pilot, lambda: "journal_mode" in _text(app, "#db-info"))
        assert "load" in _text(app, "#status-bar") and "mem" in _text(app, "#status-bar")
        assert "secure_ab_testing" in _cells(app.query_one("#db-list", DataTable))
        assert "SCAN user_assignments" in _text(app, "#db-info")
        await pilot.press("5")
        table = app.query_one("#endpoints-table", DataTable)
        await wait_until(pilot, lambda: "up 200" in _cells(table))
        assert "health" in _cells(table) and "results" in _cells(table)
        await pilot.press("4")
        await wait_until(pilot, lambda: "9 files" in _text(app, "#fs-summary"))


async def test_enable_wal_preview_confirm_result_and_log(demo: DemoWorkspace) -> None:
    app = _app(_demo_config(demo))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: "journal_mode" in _text(app, "#db-info"))
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "PRAGMA journal_mode=WAL;" in _text(app, "#confirm-sql")
        await pilot.press("y")
        log = app.query_one("#actions-log", DataTable)
        await wait_until(pilot, lambda: "journal_mode delete → wal" in _cells(log))
        assert "Enable WAL" in _cells(log)
        assert "journal_mode delete → wal" in _text(app, "#action-status")
    conn = sqlite3.connect(demo.database)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    history = MonitoringStore(demo.store).action_log()
    assert history[0].action == "Enable WAL" and history[0].ok


async def test_cancelled_confirm_changes_nothing(demo: DemoWorkspace) -> None:
    before = digest(demo.database)
    app = _app(_demo_config(demo))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: "journal_mode" in _text(app, "#db-info"))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "ANALYZE;" in _text(app, "#confirm-sql")
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.2)
        assert app.running is None
    assert digest(demo.database) == before
    assert MonitoringStore(demo.store).action_log() == []


async def test_clean_caches_from_the_actions_pane(demo: DemoWorkspace) -> None:
    app = _app(_demo_config(demo))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: "9 files" in _text(app, "#fs-summary"))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "__pycache__" in _text(app, "#confirm-sql")
        await pilot.press("y")
        log = app.query_one("#actions-log", DataTable)
        await wait_until(pilot, lambda: "Clean caches" in _cells(log))
        assert "freed" in _cells(log)
    assert not list(demo.root.rglob("__pycache__"))
    assert (demo.root / "shop" / "models.py").exists()
    assert (demo.root / "shop" / "notes.pyc.txt").exists()


async def test_read_only_hides_and_refuses_actions(demo: DemoWorkspace) -> None:
    before = digest(demo.database)
    config = replace(_demo_config(demo), read_only=True)
    app = _app(config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: "READ-ONLY" in _text(app, "#status-bar"))
        await pilot.press("2")
        await wait_until(pilot, lambda: "journal_mode" in _text(app, "#db-info"))
        await pilot.press("w")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
        app.request_action("database.enable_wal", "secure_ab_testing")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("4")
        assert "read-only" in _cells(app.query_one("#actions-list", DataTable))
    assert digest(demo.database) == before


async def test_alerts_pane_reads_history_from_the_store(tmp_path: Path) -> None:
    store_path = tmp_path / "monitoring.db"
    store = MonitoringStore(store_path)
    store.record_alert(timestamp=1_700_000_000, rule="memory high", metric="memory.percent",
                       severity="warning", state="firing", value=83.0, threshold=80.0,
                       message="memory.percent is 83.0 (above 80)")
    store.close()
    app = _app(Config(store=store_path), poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        table = app.query_one("#alerts-history", DataTable)
        await wait_until(pilot, lambda: "memory high" in _cells(table))
        assert "memory.percent is 83.0" in _cells(table)


@pytest.mark.parametrize(("kind", "message"), [
    ("zero-byte", "empty file"), ("text", "not a SQLite database"),
    ("truncated", "truncated"), ("corrupted page", "corrupt"), ("directory", "is a directory"),
    ("missing", "not found"),
])
async def test_bad_database_is_a_message_and_the_app_keeps_running(
    tmp_path: Path, demo: DemoWorkspace, kind: str, message: str
) -> None:
    from test_database import _bad_files

    bad = _bad_files(tmp_path, demo)[kind]
    before = digest(bad) if bad.is_file() else None
    config = Config(store=tmp_path / "monitoring.db",
                    databases=(DatabaseConfig("notes", bad),))
    app = _app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: message in _text(app, "#db-info"))
        assert "ERROR" in _cells(app.query_one("#db-list", DataTable))
        await pilot.press("w")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("1")
        assert app.query_one(TabbedContent).active == "resources"
    if before is not None:
        assert digest(bad) == before


async def test_help_lists_the_keys(tmp_path: Path) -> None:
    app = _app(Config(store=tmp_path / "monitoring.db"), poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Enable WAL" in str(app.screen.query_one(Static).content)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]


async def test_endpoints_burst_baseline_and_down(demo: DemoWorkspace,
                                                 demo_service: DemoService) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    silent = socket.socket()  # accepts connections (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    config = _demo_config(demo, demo_service)
    config = replace(config, burst_count=6, burst_concurrency=2, endpoints=(
        *config.endpoints,
        EndpointConfig("gone", f"http://127.0.0.1:{closed_port}/", timeout=0.5),
        EndpointConfig("silent", f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.3),
    ))
    app = _app(config)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("5")
        table = app.query_one("#endpoints-table", DataTable)
        await wait_until(pilot, lambda: "DOWN" in _cells(table) and "up 200" in _cells(table))
        # A refused and a timed-out endpoint are down, each with its reason.
        table.move_cursor(row=2)
        await wait_until(pilot, lambda: "connection refused" in _text(app, "#endpoint-detail"))
        table.move_cursor(row=3)
        await wait_until(pilot, lambda: "timed out" in _text(app, "#endpoint-detail"))
        # The UI answers while probes run: switching panes works at once.
        await pilot.press("1")
        assert app.query_one(TabbedContent).active == "resources"
        await pilot.press("5")
        table.move_cursor(row=0)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "at most 6 requests, 2 concurrent" in _text(app, "#confirm-sql")
        await pilot.press("y")
        await wait_until(pilot, lambda: "Analyze: 6/6 ok" in _text(app, "#endpoint-detail"))
        assert "No baseline yet" in _text(app, "#endpoint-detail")
        await pilot.press("s")
        await wait_until(pilot, lambda: "Baseline (6 requests)" in _text(app,
                                                                        "#endpoint-detail"))
    silent.close()
    saved = MonitoringStore(demo.store).baselines()
    assert saved["health"].samples == 6


async def test_alerts_filter_and_acknowledge(tmp_path: Path) -> None:
    import time

    store_path = tmp_path / "monitoring.db"
    store = MonitoringStore(store_path)
    now = time.time()
    for offset, severity, rule in [(-7200, "critical", "disk full"),
                                   (-60, "warning", "memory high"),
                                   (-30, "info", "note")]:
        store.record_alert(timestamp=now + offset, rule=rule, metric="m", severity=severity,
                           state="firing", value=1.0, threshold=0.5, message=f"{rule} fired")
    store.close()
    app = _app(Config(store=store_path), poll=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("3")
        table = app.query_one("#alerts-history", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        await pilot.press("f")  # warning and critical
        await wait_until(pilot, lambda: table.row_count == 2 and "note" not in _cells(table))
        await pilot.press("f")  # critical only
        await wait_until(pilot, lambda: table.row_count == 1 and "disk full" in _cells(table))
        await pilot.press("f", "t")  # all severities, last hour
        await wait_until(pilot, lambda: table.row_count == 2 and "disk full" not in _cells(table))
        assert "last hour" in _text(app, "#alerts-filter")
        table.focus()
        table.move_cursor(row=1)  # "memory high" (newest first: note, memory high)
        await pilot.press("k")
        await wait_until(pilot, lambda: ":" in str(table.get_row_at(1)[5]))
    acked = {r.rule: r.acknowledged_at for r in MonitoringStore(store_path).alert_history()}
    assert acked["memory high"] is not None and acked["note"] is None
    assert acked["disk full"] is None


async def test_advise_then_create_indexes_with_a_backup_first(demo: DemoWorkspace) -> None:
    app = _app(_demo_config(demo))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: "journal_mode" in _text(app, "#db-info"))
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "never writes the live file" in _text(app, ".confirm-cost")
        await pilot.press("y")
        await wait_until(pilot, lambda: "Advisor (measured on a scratch copy)"
                         in _text(app, "#db-info"), timeout=30)
        assert "CREATE INDEX" in _text(app, "#db-info")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "CREATE INDEX" in _text(app, "#confirm-sql")
        await pilot.press("B")  # back up first, then run
        log = app.query_one("#actions-log", DataTable)
        await wait_until(pilot, lambda: "Create recommended indexes" in _cells(log), timeout=30)
        assert "Back up" in _cells(log)
    conn = sqlite3.connect(demo.database)
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='index'")]
    conn.close()
    assert any(name.startswith("luciq_") for name in names)
    backups = list(demo.folder.glob("secure_ab_testing.luciq-backup-*.db"))
    assert len(backups) == 1
    conn = sqlite3.connect(backups[0])
    assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE type='index'").fetchone()[0] == 0
    conn.close()


async def test_resources_window_switch_and_sort(tmp_path: Path) -> None:
    import time

    from luciq_tui.ui.panes.resources import ResourcesPane
    from luciq_tui.ui.timegraph import TimeGraph

    store_path = tmp_path / "monitoring.db"
    store = MonitoringStore(store_path)
    now = time.time()
    for second in range(0, 900, 5):  # a quarter hour of memory at 40 %, then 60 %
        store.record_metrics(now - 900 + second, {"memory.percent": 40.0 if second < 450
                                                  else 60.0, "cpu.percent": 5.0})
    store.close()
    app = _app(Config(store=store_path))
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(ResourcesPane)
        table = app.query_one("#res-processes", LineTable)
        # The pane's keys work once the focus is in it (the process table takes it at start).
        await wait_until(pilot, lambda: table.row_count > 0 and app.focused is table)
        memory = app.query_one("#graph-memory", TimeGraph)
        assert "60 s live" in "".join(s.text for s in memory.render_line(0))
        await pilot.press("g")  # 15 min, read back from monitoring.db
        await wait_until(pilot, lambda: "15 min" in "".join(
            s.text for s in memory.render_line(0)) and pane.history.get("memory.percent"))
        history = pane.history["memory.percent"]
        assert history[0] == 40.0 and 60.0 in history  # (the live samples come last)
        await pilot.press("g", "g", "g")  # 1 h, 24 h, back to live
        assert pane.window == 0
        pids_by_cpu = [table.get_row_at(r)[0] for r in range(table.row_count)]
        await pilot.press("s")
        rss = [table.get_row_at(r)[4] for r in range(table.row_count)]
        assert pane.sort_by_memory and table.border_title == "by memory (s)"
        assert len(rss) == len(pids_by_cpu)


async def test_low_bandwidth_redraws_less_and_hides_the_latency_graph(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace as change

    from luciq_tui.core.resources import ProcessRow
    from luciq_tui.ui.panes.resources import ResourcesPane
    from luciq_tui.ui.timegraph import TimeGraph

    clock = [1000.0]
    monkeypatch.setattr(ResourcesPane, "clock", lambda self: clock[0])
    app = _app(Config(store=tmp_path / "monitoring.db", low_bandwidth=True), poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "low-bandwidth" in _text(app, "#status-bar")
        assert not app.query("#graph-latency")
        pane = app.query_one(ResourcesPane)
        optimizer = app.monitor.optimizers["resources"]
        first = optimizer.observe()
        app.show_snapshot("resources", first)
        drawn = _text(app, "#res-summary")
        second = optimizer.observe()
        app.show_snapshot("resources", second)  # within 5 s of the last draw: not drawn
        await pilot.pause()
        assert pane.snapshot is second and pane._dirty
        assert _text(app, "#res-summary") == drawn
        # 6 s on: the summary is drawn again, the graphs and tables (most of the bytes) not
        # before 15 s; a key the operator presses draws them at once.
        cpu = app.query_one("#graph-cpu", TimeGraph)
        graphed = cpu._series
        table = app.query_one("#res-processes", LineTable)
        clock[0] += 6
        third = change(optimizer.observe(), cpu_percent=77.7,
                       processes=(ProcessRow(10, "web", "www", 9.0, 2**30),))
        app.show_snapshot("resources", third)
        await pilot.pause()
        assert "77.7%" in _text(app, "#res-summary")
        assert cpu._series == graphed and table.get_row_at(0)[0] != "10"
        await pilot.press("s")
        assert table.get_row_at(0)[0] == "10" and cpu._series != graphed
        clock[0] += 16
        app.show_snapshot("resources", change(third, processes=(
            ProcessRow(11, "db", "app", 1.0, 2**20),)))
        await pilot.pause()
        assert table.get_row_at(0)[0] == "11"


async def test_process_table_repaints_only_the_rows_that_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace as change

    from textual.geometry import Region

    from luciq_tui.core.resources import ProcessRow
    from luciq_tui.ui.panes.resources import PROCESS_COLUMNS, ResourcesPane

    app = _app(Config(store=tmp_path / "monitoring.db"), poll=False)
    async with app.run_test(size=(160, 48)) as pilot:
        optimizer = app.monitor.optimizers["resources"]
        base = optimizer.observe()
        rows = (ProcessRow(10, "web", "www", 9.0, 2**30), ProcessRow(11, "db", "app", 1.0, 2**20))
        app.show_snapshot("resources", change(base, processes=rows))
        await pilot.pause()
        table = app.query_one("#res-processes", LineTable)
        assert [table.get_row_at(r)[3] for r in range(2)] == ["9.0", "1.0"]
        table.move_cursor(row=1)
        await pilot.pause()
        repainted: list[tuple[Region, ...]] = []
        refresh = table.refresh
        monkeypatch.setattr(table, "refresh", lambda *regions, **kwargs: (
            repainted.append(regions), refresh(*regions, **kwargs))[1])
        moved = (change(rows[0], cpu_percent=8.0), rows[1])  # one cell of the first row
        app.show_snapshot("resources", change(base, processes=moved))
        await pilot.pause()
        assert [table.get_row_at(r)[3] for r in range(2)] == ["8.0", "1.0"]
        # Its line (under the header), from the CPU % column to its end: nothing else.
        start = 1 + sum(column.width + 1 for column in PROCESS_COLUMNS[:3])
        assert repainted == [(Region(start, 1, PROCESS_COLUMNS[3].width + 1, 1),)]
        assert app.query_one(ResourcesPane).selected_pid == "11"
        swapped = (rows[0], change(rows[1], cpu_percent=50.0))  # new order: rebuilt
        app.show_snapshot("resources", change(base, processes=swapped))
        await pilot.pause()
        assert [table.get_row_at(r)[0] for r in range(2)] == ["11", "10"]
        assert app.query_one(ResourcesPane).selected_pid == "11"  # the selection follows


WITHOUT_TLS = """
import sys
from pathlib import Path

from luciq_tui.cli import keep_tls_out
from luciq_tui.core.config import Config, EndpointConfig

assert not keep_tls_out(Config(endpoints=(EndpointConfig("web", "https://example.test/"),)))
assert "ssl" not in sys.modules
config = Config(store=Path(sys.argv[1]))
assert keep_tls_out(config) and sys.modules["ssl"] is None

import asyncio

from luciq_tui.core.alerts import AlertEngine
from luciq_tui.core.monitor import Monitor, build_optimizers
from luciq_tui.core.store import MonitoringStore
from luciq_tui.ui.app import make_app
from luciq_tui.ui.lines import LineTable


async def main() -> None:
    store = MonitoringStore(config.store_path())
    monitor = Monitor(build_optimizers(config, store), store, AlertEngine(config.alert_rules))
    app = make_app(config, monitor)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if app.query_one("#res-processes", LineTable).row_count:
                break
            await pilot.pause(0.05)
        await pilot.press("g", "g", "2", "3", "4", "5", "1")  # history reads through aiosqlite
        await pilot.pause(0.3)
        assert app.query_one("#res-processes", LineTable).row_count
    monitor.close()
    print("ran without ssl:", sys.modules["ssl"] is None)


asyncio.run(main())
"""


def test_the_dashboard_runs_without_ssl_when_nothing_speaks_tls(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", WITHOUT_TLS, str(tmp_path / "m.db")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ran without ssl: True" in done.stdout
