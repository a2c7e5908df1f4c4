from __future__ import annotations

import sqlite3
from pathlib import Path

from luciq_tui.core.store import MonitoringStore, StoreReader


def test_schema_has_the_seed_tables_and_indexes_in_wal(tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    assert {"performance_metrics", "alerts", "action_log", "probe_results",
            "idx_performance_metrics_timestamp", "idx_alerts_timestamp"} <= names
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_metrics_are_batched_until_flush(tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db", flush_interval=3600)
    store.record_metrics(1.0, {"cpu.percent": 5.0, "memory.percent": 40.0})
    store.record_metrics(2.0, {"cpu.percent": 6.0})
    store.maybe_flush()  # the interval has not passed: nothing written yet
    assert store.metric_count() == 0
    assert store.flush() == 3
    assert store.metric_count() == 3
    store.close()


def test_alerts_and_action_log_round_trip(tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db")
    first = store.record_alert(timestamp=10.0, rule="memory high", metric="memory.percent",
                               severity="warning", state="firing", value=82.0, threshold=80.0,
                               message="memory.percent is 82.0")
    store.record_alert(timestamp=20.0, rule="memory high", metric="memory.percent",
                       severity="warning", state="resolved", value=70.0, threshold=80.0,
                       message="back")
    store.acknowledge_alert(first, when=15.0)
    store.log_action(timestamp=30.0, optimizer="database", action="ANALYZE", target="app",
                     ok=True, cancelled=False, summary="done", details={"after": {"x": 1}},
                     duration_s=0.5)
    history = store.alert_history()
    assert [record.state for record in history] == ["resolved", "firing"]  # newest first
    assert history[1].acknowledged_at == 15.0
    log = store.action_log()
    assert log[0].action == "ANALYZE" and log[0].ok and log[0].details == {"after": {"x": 1}}
    store.close()


async def test_reader_sees_what_the_writer_committed(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.db"
    store = MonitoringStore(path)
    store.record_alert(timestamp=1.0, rule="r", metric="m", severity="critical",
                       state="firing", value=1.0, threshold=0.5, message="m is 1.0")
    reader = StoreReader(path)
    alerts = await reader.alert_history()
    assert [(a.rule, a.severity, a.state) for a in alerts] == [("r", "critical", "firing")]
    assert await reader.action_log() == []
    store.close()


def test_corrupt_store_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.db"
    garbage = b"this is not a database, just some text " * 200
    path.write_bytes(garbage)
    store = MonitoringStore(path)
    assert store.warning is not None and "moved to" in store.warning
    store.record_metrics(1.0, {"cpu.percent": 1.0})
    assert store.flush() == 1
    store.close()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("monitoring.db.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == garbage


def test_two_writers_on_one_store(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.db"
    one, two = MonitoringStore(path), MonitoringStore(path)
    for i in range(50):
        one.record_metrics(float(i), {"a": 1.0})
        two.record_metrics(float(i), {"b": 2.0})
        one.flush()
        two.flush()
    assert one.metric_count() == 100
    one.close()
    two.close()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_rollups_and_retention_with_a_fake_clock(tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db", raw_hours=1, rollup_days=1)
    start = 1_700_000_000.0 - 1_700_000_000.0 % 60  # on a minute boundary
    for second in range(0, 3 * 3600, 10):  # three hours of samples every 10 s
        store.record_metrics(start + second, {"cpu.percent": float(second // 60 % 60)})
    store.flush()
    rolled, raw_deleted, _ = store.maintain(now=start + 3 * 3600)
    assert rolled == 180  # every finished minute, once
    assert raw_deleted == 2 * 360  # raw older than 1 h is gone (6 samples a minute)
    assert store.metric_count() == 360
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    minute = conn.execute("SELECT avg_value, min_value, max_value, samples FROM metric_rollups "
                          "WHERE minute = ?", (int(start // 60) + 5,)).fetchone()
    assert minute == (5.0, 5.0, 5.0, 6)
    # Running again rolls up nothing twice; a day later the old rollups go too.
    assert store.maintain(now=start + 3 * 3600)[0] == 0
    _, _, old = store.maintain(now=start + 86400 + 3 * 3600)
    assert old == 180
    store.close()


async def test_history_reads_raw_and_rollups(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.db"
    store = MonitoringStore(path)
    now = 1_800_000_000.0
    for second in range(0, 7200):
        store.record_metrics(now - 7200 + second, {"memory.percent": 50.0 if second < 3600
                                                   else 70.0})
    store.flush()
    store.maintain(now=now)
    reader = StoreReader(path)
    last_15m = (await reader.history(["memory.percent"], 900, 60, now=now))["memory.percent"]
    assert len(last_15m) == 60 and set(last_15m) == {70.0}
    day = (await reader.history(["memory.percent"], 86400, 100, now=now))["memory.percent"]
    assert day and min(day) >= 50.0 and max(day) == 70.0  # from the per-minute rollups
    store.close()
