from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luciq_tui.core.workload import WorkloadError, load_workload, parse_workload


def test_names_comments_and_semicolons_in_strings() -> None:
    queries = parse_workload(
        "-- a comment before everything\n"
        "-- name: first\nSELECT 1;\n\n"
        "-- name: second\nSELECT ';' AS semi\nFROM t\nWHERE x = 1;\n"
        "SELECT 3"
    )
    assert [q.name for q in queries] == ["first", "second", "q3"]
    assert queries[1].sql == "SELECT ';' AS semi\nFROM t\nWHERE x = 1"
    assert queries[2].sql == "SELECT 3"


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20))
def test_every_statement_is_kept_in_order(values: list[int]) -> None:
    text = "\n".join(f"-- name: n{i}\nSELECT {v};" for i, v in enumerate(values))
    queries = parse_workload(text)
    assert [q.sql for q in queries] == [f"SELECT {v}" for v in values]
    assert [q.name for q in queries] == [f"n{i}" for i in range(len(values))]


def test_unreadable_workload_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="not found"):
        load_workload(tmp_path / "nope.sql")
    with pytest.raises(WorkloadError, match="is a directory"):
        load_workload(tmp_path)
