from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from luciq_tui import capture
from luciq_tui.core.workload import load_workload


def test_normalize() -> None:
    assert capture.normalize("SELECT * FROM t WHERE id = 42 AND name = 'it''s'") == \
        "SELECT * FROM t WHERE id = ? AND name = ?"
    assert capture.normalize("select a from t where x in (1, 2,3) and y > -1.5e3;") == \
        "select a from t where x in (?) and y > ?"
    assert capture.normalize('SELECT "col1", t2.c3 FROM t2') == 'SELECT "col1", t2.c3 FROM t2'


def test_attach_records_counts_durations_and_rows(tmp_path: Path) -> None:
    log = tmp_path / "workload.jsonl"
    conn = capture.attach(sqlite3.connect(":memory:"), log, flush_seconds=3600)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t(v) VALUES (?)", [(str(i + 1),) for i in range(100)])
    for i in range(5):
        rows = conn.execute(f"SELECT v FROM t WHERE id = {i + 1}").fetchall()
        assert rows == [(str(i + 1),)]
    cursor = conn.cursor()
    cursor.execute("SELECT count(*) FROM t")
    assert cursor.fetchone() == (100,)
    assert [row for row in conn.execute("SELECT id FROM t WHERE id < 3")] == [(1,), (2,)]
    conn.commit()  # the connection's own methods pass through
    assert conn.total_changes >= 100
    conn.close()
    entries = {e["sql"]: e for e in map(json.loads, log.read_text().splitlines())}
    lookup = entries["SELECT v FROM t WHERE id = ?"]
    assert lookup["count"] == 5 and lookup["example"] == "SELECT v FROM t WHERE id = 1"
    assert lookup["total_ms"] >= lookup["max_ms"] > 0
    assert entries["INSERT INTO t(v) VALUES (?)"]["count"] == 1
    workload = load_workload(log)  # the advisor reads the log as a workload: SELECTs only
    assert {q.sql for q in workload} == {"SELECT v FROM t WHERE id = 1",
                                         "SELECT count(*) FROM t",
                                         "SELECT id FROM t WHERE id < 3"}
    assert all(q.name.startswith("captured_") for q in workload)


def test_errors_still_count_and_reach_the_application(tmp_path: Path) -> None:
    conn = capture.attach(sqlite3.connect(":memory:"), tmp_path / "w.jsonl", flush_seconds=0)
    try:
        conn.execute("SELECT * FROM missing")
    except sqlite3.OperationalError as error:
        assert "no such table" in str(error)
    else:
        raise AssertionError("the error must reach the application")
    conn.close()
    assert "missing" in (tmp_path / "w.jsonl").read_text()
