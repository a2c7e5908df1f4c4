from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from conftest import digest
from luciq_tui.core.config import DatabaseConfig
from luciq_tui.core.database import DatabaseOptimizer, inspect_database, quote_identifier
from luciq_tui.core.demo import DemoWorkspace
from luciq_tui.core.optimizer import ActionRefused, run_action


def _config(demo: DemoWorkspace) -> DatabaseConfig:
    return DatabaseConfig("ab", demo.database, demo.workload)


def test_demo_database_inspects_as_unoptimized(demo: DemoWorkspace) -> None:
    before = digest(demo.database)
    info = inspect_database(_config(demo))
    assert info.error is None
    assert info.journal_mode == "delete"
    assert not info.has_stat1 and info.indexes == ()
    assert {t.name: t.rows for t in info.tables} == {"user_assignments": 2000,
                                                     "conversion_events": 6000}
    plans = {p.name: p.flags for p in info.workload}
    assert list(plans) == ["a_assignments_per_variant", "b_conversions_per_variant",
                           "c_user_variant", "d_last_hour_events"]
    assert all("SCAN" in flags for flags in plans.values())
    assert "AUTOMATIC INDEX" in plans["b_conversions_per_variant"]
    titles = {f.title for f in info.findings}
    assert {"not in WAL mode", "no statistics"} <= titles
    assert info.health == "warning"
    assert digest(demo.database) == before  # inspection never changes a byte


def _bad_files(tmp_path: Path, demo: DemoWorkspace) -> dict[str, Path]:
    files = {}
    files["zero-byte"] = tmp_path / "zero.db"
    files["zero-byte"].write_bytes(b"")
    files["text"] = tmp_path / "notes.db"
    files["text"].write_text("just some text, not a database\n" * 10)
    files["truncated"] = tmp_path / "truncated.db"
    files["truncated"].write_bytes(demo.database.read_bytes()[:8192])
    corrupt = bytearray(demo.database.read_bytes())
    corrupt[4096:8192] = b"\xff" * 4096  # trash page 2
    files["corrupted page"] = tmp_path / "corrupt.db"
    files["corrupted page"].write_bytes(bytes(corrupt))
    files["directory"] = tmp_path / "folder.db"
    files["directory"].mkdir()
    files["missing"] = tmp_path / "missing.db"
    return files


@pytest.mark.parametrize("kind", ["zero-byte", "text", "truncated", "corrupted page",
                                  "directory", "missing"])
def test_bad_database_files_get_a_clear_error_and_no_change(
    tmp_path: Path, demo: DemoWorkspace, kind: str
) -> None:
    path = _bad_files(tmp_path, demo)[kind]
    before = digest(path) if path.is_file() else None
    info = inspect_database(DatabaseConfig("bad", path))
    assert info.error is not None and str(path) in info.error
    assert info.health == "error"
    assert "Traceback" not in info.error
    if before is not None:
        assert digest(path) == before
    # Actions refuse too, and still change nothing.
    optimizer = DatabaseOptimizer([DatabaseConfig("bad", path)])
    optimizer.observe()
    specs = optimizer.actions(None)
    assert all(not spec.available for spec in specs)
    if before is not None:
        assert digest(path) == before


def test_read_only_file_can_be_inspected_but_not_changed(demo: DemoWorkspace) -> None:
    demo.database.chmod(0o444)
    try:
        info = inspect_database(_config(demo))
        assert info.error is None
    finally:
        demo.database.chmod(0o644)


def test_locked_database_is_reported_not_raised(demo: DemoWorkspace) -> None:
    holder = sqlite3.connect(demo.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        info = inspect_database(_config(demo))
        assert info.error is not None and "locked" in info.error
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_enable_wal_through_the_protocol(demo: DemoWorkspace) -> None:
    optimizer = DatabaseOptimizer([_config(demo)])
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "enable_wal")
    preview = optimizer.preview(spec)
    assert "PRAGMA journal_mode=WAL;" in preview.details
    logged = []
    result = run_action(optimizer, preview, read_only=False, log=logged.append)
    assert result.ok, result.summary
    assert result.before == {"journal_mode": "delete"} and result.after == {"journal_mode": "wal"}
    assert logged == [result]
    assert inspect_database(_config(demo)).journal_mode == "wal"
    # Now it is no longer offered.
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "enable_wal")
    assert not spec.available and spec.reason == "already in WAL mode"


def test_read_only_mode_refuses_and_changes_nothing(demo: DemoWorkspace) -> None:
    before = digest(demo.database)
    optimizer = DatabaseOptimizer([_config(demo)])
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "enable_wal")
    result = run_action(optimizer, optimizer.preview(spec), read_only=True)
    assert not result.ok and "read-only" in result.summary
    assert digest(demo.database) == before


def test_analyze_writes_statistics_and_can_be_cancelled(demo: DemoWorkspace) -> None:
    conn = sqlite3.connect(demo.database)
    conn.execute("CREATE INDEX ua_test ON user_assignments(test_id)")
    conn.close()
    optimizer = DatabaseOptimizer([_config(demo)])
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "analyze")
    preview = optimizer.preview(spec)
    cancel = threading.Event()
    cancel.set()
    cancelled = optimizer.execute(preview, lambda f, m: None, cancel)
    assert cancelled.cancelled and not cancelled.ok
    assert not inspect_database(_config(demo)).has_stat1
    messages: list[str] = []
    result = optimizer.execute(preview, lambda f, m: messages.append(m), threading.Event())
    assert result.ok and result.after["stat1_rows"] >= 1
    info = inspect_database(_config(demo))
    assert info.has_stat1 and all(index.has_stats for index in info.indexes)


def test_redundant_index_and_quoted_identifiers(tmp_path: Path) -> None:
    path = tmp_path / "odd names.db"
    table = 'we"ird tä ble'
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {quote_identifier(table)} (\"a b\" INT, \"ç\" INT, x INT)")
    conn.executemany(f"INSERT INTO {quote_identifier(table)} VALUES (?, ?, ?)",
                     [(i, i % 7, i % 3) for i in range(200)])
    conn.execute(f'CREATE INDEX "i one" ON {quote_identifier(table)}("a b")')
    conn.execute(f'CREATE INDEX "i two" ON {quote_identifier(table)}("a b", "ç")')
    conn.execute(f'CREATE UNIQUE INDEX "i uniq" ON {quote_identifier(table)}(x, "a b")')
    conn.execute(f'CREATE INDEX "i x" ON {quote_identifier(table)}(x)')
    conn.commit()
    conn.close()
    info = inspect_database(DatabaseConfig("odd", path))
    assert info.error is None
    assert info.tables[0].name == table and info.tables[0].rows == 200
    redundant = {i.name: i.redundant_with for i in info.indexes}
    assert redundant["i one"] == "i two"
    assert redundant["i x"] == "i uniq"
    assert redundant["i two"] is None and redundant["i uniq"] is None
    assert {i.name: i.columns for i in info.indexes}["i two"] == ("a b", "ç")
    # Actions work on odd paths and names too.
    optimizer = DatabaseOptimizer([DatabaseConfig("odd", path)])
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "analyze")
    assert run_action(optimizer, optimizer.preview(spec), read_only=False).ok


def test_preview_refuses_a_database_that_went_away(demo: DemoWorkspace, tmp_path: Path) -> None:
    optimizer = DatabaseOptimizer([_config(demo)])
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "analyze")
    shutil.move(demo.database, tmp_path / "elsewhere.db")
    with pytest.raises(ActionRefused, match="not found"):
        optimizer.preview(spec)


def test_stale_statistics_are_found(tmp_path: Path) -> None:
    path = tmp_path / "grown.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INT)")
    conn.execute("CREATE INDEX t_k ON t(k)")
    conn.executemany("INSERT INTO t(k) VALUES (?)", [(i % 10,) for i in range(500)])
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    assert not any(f.title == "stale statistics"
                   for f in inspect_database(DatabaseConfig("g", path)).findings)
    conn.executemany("INSERT INTO t(k) VALUES (?)", [(i % 10,) for i in range(20_000)])
    conn.commit()
    conn.close()
    info = inspect_database(DatabaseConfig("g", path))
    stale = [f for f in info.findings if f.title == "stale statistics"]
    assert stale and "500 rows" in stale[0].evidence and stale[0].fix == "analyze"


def test_integrity_checks_find_corruption_and_change_nothing(demo: DemoWorkspace) -> None:
    import threading

    optimizer = DatabaseOptimizer([_config(demo)])
    optimizer.observe()
    for name in ("integrity", "integrity_full"):
        spec = next(s for s in optimizer.actions(None) if s.name == name)
        result = optimizer.execute(optimizer.preview(spec), lambda f, m: None, threading.Event())
        assert result.ok, result.summary
    assert optimizer.metrics(optimizer.observe())["db.ab.integrity_ok"] == 1.0
    # Break an index's page: integrity_check must say so, and the file stays as it was.
    conn = sqlite3.connect(demo.database)
    conn.execute("CREATE INDEX ua_user ON user_assignments(user_id)")
    conn.commit()
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'ua_user'").fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(demo.database.read_bytes())
    offset = (root[0] - 1) * page_size
    data[offset + 8: offset + 64] = b"\x00" * 56  # scramble the index's root page cells
    demo.database.write_bytes(bytes(data))
    before = digest(demo.database)
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "integrity_full")
    result = optimizer.execute(optimizer.preview(spec), lambda f, m: None, threading.Event())
    assert not result.ok and "problem" in result.summary and result.output
    assert optimizer.metrics(optimizer.observe())["db.ab.integrity_ok"] == 0.0
    assert digest(demo.database) == before


def test_an_action_on_a_read_only_file_is_a_plain_refusal(
    demo: DemoWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root writes any file, so read-only is simulated where Luciq opens it for writing."""
    import luciq_tui.core.database as database

    def read_only(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               isolation_level=None)
        return conn

    monkeypatch.setattr(database, "open_readwrite", read_only)
    before = digest(demo.database)
    optimizer = DatabaseOptimizer([_config(demo)])
    optimizer.observe()
    spec = next(s for s in optimizer.actions(None) if s.name == "enable_wal")
    result = run_action(optimizer, optimizer.preview(spec), read_only=False)
    assert not result.ok and "read-only" in result.summary and str(demo.database) in result.summary
    assert digest(demo.database) == before
