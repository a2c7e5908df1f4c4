"""The database commands: bad input, the advisor on the small demo, optimize --json."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_database import _bad_files

from conftest import digest
from luciq_tui.core.advisor import advise, analyze_query, plan_cost
from luciq_tui.core.database import quote_identifier
from luciq_tui.core.demo import DemoWorkspace
from luciq_tui.core.workload import WorkloadQuery, load_workload


def _luciq(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--config", str(config)] if config else []
    return subprocess.run([sys.executable, "-m", "luciq_tui", *args, *extra],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", ["zero-byte", "text", "truncated", "corrupted page",
                                  "directory", "missing"])
@pytest.mark.parametrize("command", ["inspect", "advise", "optimize", "bench"])
def test_bad_database_is_exit_2_one_line_and_unchanged(
    tmp_path: Path, demo: DemoWorkspace, kind: str, command: str
) -> None:
    path = _bad_files(tmp_path, demo)[kind]
    before = digest(path) if path.is_file() else None
    args = [command, str(path), "--workload", str(demo.workload)]
    if command == "optimize":
        args += ["--apply", "--yes"]
    result = _luciq(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.stderr
    if before is not None:
        assert digest(path) == before


def test_locked_database_is_exit_2(demo: DemoWorkspace) -> None:
    holder = sqlite3.connect(demo.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = _luciq("inspect", str(demo.database))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2 and "locked" in result.stderr


def test_bad_workload_is_exit_2(demo: DemoWorkspace, tmp_path: Path) -> None:
    result = _luciq("advise", str(demo.database), "--workload", str(tmp_path / "none.sql"))
    assert result.returncode == 2 and "workload file not found" in result.stderr
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing here\n")
    result = _luciq("bench", str(demo.database), "--workload", str(empty))
    assert result.returncode == 2 and "holds no SQL statement" in result.stderr


def test_inspect_json_and_findings_exit(demo: DemoWorkspace) -> None:
    result = _luciq("inspect", str(demo.database), "--workload", str(demo.workload), "--json")
    assert result.returncode == 1  # findings: no WAL, scans
    report = json.loads(result.stdout)
    assert report["journal_mode"] == "delete" and len(report["workload"]) == 4
    assert any(f["title"] == "not in WAL mode" for f in report["findings"])


def test_query_shapes() -> None:
    schema = {"ua": ["test_id", "user_id", "variant"], "ce": ["test_id", "user_id", "event",
                                                              "value", "timestamp"]}
    uses = analyze_query(
        "SELECT a.variant, SUM(e.value) FROM ce AS e JOIN ua AS a ON a.test_id = e.test_id "
        "AND a.user_id = e.user_id WHERE e.test_id = 7 AND e.event = 'buy' AND "
        "e.timestamp >= '2025' GROUP BY a.variant", schema)
    by_table = {use.table: use for use in uses}
    assert by_table["ce"].eq == ["test_id", "event"] and by_table["ce"].range == ["timestamp"]
    assert set(by_table["ce"].join) == {"test_id", "user_id"}
    assert by_table["ua"].eq == ["test_id"]  # pinned through the join, as SQLite infers
    assert by_table["ua"].group == ["variant"]


def test_plan_cost_orders_plans() -> None:
    scan = plan_cost(["SCAN t"])
    search = plan_cost(["SEARCH t USING INDEX i (a=?)"])
    covering = plan_cost(["SEARCH t USING COVERING INDEX i (a=? AND b=?)"])
    assert covering < search < scan
    assert plan_cost(["SEARCH t USING INDEX i (a=?)", "USE TEMP B-TREE FOR GROUP BY"]) > search


def test_advisor_on_the_demo_never_touches_the_file(demo: DemoWorkspace) -> None:
    before = digest(demo.database)
    advice = advise(demo.database, load_workload(demo.workload), measure=True)
    assert digest(demo.database) == before
    assert not any(p.name.endswith(("-wal", "-journal")) for p in demo.folder.iterdir())
    keys = {(a.candidate.table, a.candidate.columns) for a in advice.indexes}
    assert ("user_assignments", ("test_id", "user_id", "variant")) in keys
    assert ("conversion_events", ("timestamp", "event", "value")) in keys
    assert ("conversion_events", ("test_id", "event", "user_id", "value")) in keys
    for query in advice.queries:  # every seed query searches instead of scanning
        assert not any(line.strip().startswith("SCAN") for line in query.plan_after), query
        assert query.before_ms is not None and query.after_ms is not None
    tables = {a.candidate.table for a in advice.indexes}
    assert len(tables) == 2  # merged: no two indexes where one serves
    for index in advice.indexes:
        assert index.serves and index.insert_us_after is not None
    assert any("sqlite_stat1" in caveat for caveat in advice.caveats)


def test_advisor_drops_redundant_and_handles_odd_names(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    table = 'or"ders ü'
    conn = sqlite3.connect(path)
    quoted = quote_identifier(table)
    conn.execute(f'CREATE TABLE {quoted} (id INTEGER PRIMARY KEY, "cüst id" INT, "st""at" TEXT)')
    conn.executemany(f"INSERT INTO {quoted} VALUES (?, ?, ?)",
                     [(i, i % 500, "open" if i % 3 else "shut") for i in range(5000)])
    conn.execute(f'CREATE INDEX "by st" ON {quoted}("st""at")')
    conn.execute(f'CREATE INDEX "by st id" ON {quoted}("st""at", id)')
    conn.commit()
    conn.close()
    query = WorkloadQuery("by_customer",
                          f'SELECT "st""at" FROM {quoted} WHERE "cüst id" = 42')
    advice = advise(path, [query], measure=True)
    assert [a.candidate.columns for a in advice.indexes] == [("cüst id", 'st"at')]
    assert advice.indexes[0].sql == ('CREATE INDEX "luciq_or_ders_ü_cüst_id_st_at" ON '
                                     '"or""ders ü"("cüst id", "st""at");')
    assert {d.index for d in advice.drops} == {"by st", "by st id"}
    assert advice.queries[0].speedup is not None


def test_optimize_apply_json(demo: DemoWorkspace, tmp_path: Path) -> None:
    config = tmp_path / "luciq.toml"
    config.write_text(f'store = "{tmp_path / "monitoring.db"}"\n')
    dry = _luciq("optimize", str(demo.database), "--workload", str(demo.workload), "--json",
                 config=config)
    assert dry.returncode == 0 and json.loads(dry.stdout)["applied"] == []
    conn = sqlite3.connect(demo.database)
    rows_before = conn.execute("SELECT count(*) FROM conversion_events").fetchone()[0]
    conn.close()
    result = _luciq("optimize", str(demo.database), "--workload", str(demo.workload), "--apply",
                    "--yes", "--backup", "--json", config=config)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "PRAGMA journal_mode=WAL;" in report["applied"]
    assert sum(line.startswith("CREATE INDEX") for line in report["applied"]) >= 3
    assert [q["name"][0] for q in report["queries"]] == ["a", "b", "c", "d"]
    for query in report["queries"]:
        assert query["before_ms"] > 0 and query["after_ms"] > 0
        assert query["speedup"] == pytest.approx(query["before_ms"] / query["after_ms"])
        assert query["plan_before"] and query["plan_after"]
    conn = sqlite3.connect(demo.database)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM conversion_events").fetchone()[0] == rows_before
    conn.close()
    assert list(demo.folder.glob("secure_ab_testing.luciq-backup-*.db"))
    assert _luciq("optimize", str(demo.database), "--apply", config=config).returncode == 2


def test_every_action_on_odd_names(tmp_path: Path) -> None:
    """Quotes, spaces and Unicode in file, table, column and index names, through the
    advisor, index creation, drop, checkpoint, VACUUM and backup."""
    import threading

    from luciq_tui.core.config import DatabaseConfig
    from luciq_tui.core.database import DatabaseOptimizer
    from luciq_tui.core.optimizer import run_action

    folder = tmp_path / "dïr 'x'"
    folder.mkdir()
    path = folder / 'db "1".db'
    quoted = quote_identifier('tä"ble x')
    conn = sqlite3.connect(path)
    conn.execute(f'CREATE TABLE {quoted} ("k ey" INT, "v\'al" TEXT)')
    conn.executemany(f"INSERT INTO {quoted} VALUES (?, ?)", [(i % 300, "x") for i in range(3000)])
    conn.execute(f'CREATE INDEX "ïdx ""v""" ON {quoted}("v\'al")')
    conn.execute(f'CREATE INDEX "ïdx ""vk""" ON {quoted}("v\'al", "k ey")')
    conn.commit()
    conn.close()
    workload = folder / "w.sql"
    workload.write_text(f"-- name: lookup\nSELECT \"v'al\" FROM {quoted} WHERE \"k ey\" = 7;\n")
    optimizer = DatabaseOptimizer([DatabaseConfig("odd", path, workload)], workload_interval=0)
    for name in ("enable_wal", "advise", "create_indexes", "drop_index", "checkpoint", "vacuum",
                 "backup", "analyze", "integrity"):
        optimizer.observe()
        spec = next(s for s in optimizer.actions(None) if s.name == name)
        assert spec.available, (name, spec.reason)
        result = run_action(optimizer, optimizer.preview(spec), read_only=False,
                            cancel=threading.Event())
        assert result.ok, (name, result.summary)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0] == 3000
    conn.close()
    assert list(folder.glob('db "1".luciq-backup-*.db'))
