from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from conftest import SMALL_ROWS, digest
from luciq_tui.core.demo import DemoService, DemoWorkspace, ensure_workspace
from luciq_tui.core.filesystem import scan_root
from luciq_tui.core.workload import load_workload


def test_workspace_is_unoptimized_and_shaped_as_specified(demo_template: DemoWorkspace) -> None:
    conn = sqlite3.connect(f"{demo_template.database.as_uri()}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    assert names == {"user_assignments", "conversion_events"}  # no indexes, no stat1
    assert conn.execute("SELECT count(*) FROM user_assignments").fetchone()[0] == SMALL_ROWS
    assert conn.execute("SELECT count(*) FROM conversion_events").fetchone()[0] == 3 * SMALL_ROWS
    assert conn.execute("SELECT count(DISTINCT test_id) FROM user_assignments").fetchone()[0] == 50
    dupes = conn.execute("SELECT count(*) FROM (SELECT 1 FROM user_assignments GROUP BY "
                         "test_id, user_id HAVING count(*) > 1)").fetchone()[0]
    assert dupes == 0
    variants = conn.execute("SELECT max(n), min(n) FROM (SELECT count(DISTINCT variant) n "
                            "FROM user_assignments GROUP BY test_id)").fetchone()
    assert variants[0] <= 4 and variants[1] >= 2
    queries = load_workload(demo_template.workload)
    assert [q.name[0] for q in queries] == ["a", "b", "c", "d"]
    for query in queries:  # every seed query runs and returns rows
        assert conn.execute(query.sql).fetchall(), query.name
    conn.close()
    assert scan_root(demo_template.root, min_age_seconds=300).files == 9


def test_same_seed_same_bytes_and_reuse(tmp_path: Path, demo_template: DemoWorkspace) -> None:
    again = ensure_workspace(tmp_path / "again", rows=SMALL_ROWS)
    assert again.built
    assert digest(again.database) == digest(demo_template.database)
    assert digest(again.workload) == digest(demo_template.workload)
    reused = ensure_workspace(tmp_path / "again", rows=SMALL_ROWS)
    assert not reused.built and digest(reused.database) == digest(again.database)


def test_demo_service_answers_on_loopback(demo: DemoWorkspace) -> None:
    service = DemoService(demo.database).start()
    try:
        assert service.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{service.base_url}/health").text == "ok\n"
        results = httpx.get(f"{service.base_url}/api/results/7")
        assert results.status_code == 200 and "control" in results.text
        assert httpx.get(f"{service.base_url}/nope").status_code == 404
    finally:
        service.stop()
