"""Workload files: the SQL an application runs, one statement after another.

Statements are separated by `;` (SQLite decides where one ends, so a `;` inside a string
is safe); a `-- name: X` line names the statement that follows it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME_LINE = re.compile(r"^\s*--\s*name:\s*(?P<name>.+?)\s*$", re.IGNORECASE)


class WorkloadError(ValueError):
    """A workload file that cannot be read or parsed, naming the file."""


@dataclass(frozen=True)
class WorkloadQuery:
    name: str
    sql: str


def parse_workload(text: str) -> tuple[WorkloadQuery, ...]:
    """Split SQL text into named statements."""
    queries: list[WorkloadQuery] = []
    pending_name: str | None = None
    buffer: list[str] = []
    for line in text.splitlines():
        match = NAME_LINE.match(line)
        if match and not _strip_comments("\n".join(buffer)).strip():
            pending_name = match.group("name")
            continue
        buffer.append(line)
        joined = "\n".join(buffer)
        if sqlite3.complete_statement(joined):
            sql = _strip_comments(joined).strip().rstrip(";").strip()
            if sql:
                queries.append(WorkloadQuery(pending_name or f"q{len(queries) + 1}", sql))
            pending_name = None
            buffer = []
    rest = _strip_comments("\n".join(buffer)).strip().rstrip(";").strip()
    if rest:
        queries.append(WorkloadQuery(pending_name or f"q{len(queries) + 1}", rest))
    return tuple(queries)


def _strip_comments(sql: str) -> str:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines)


def parse_capture(text: str, source: str = "capture log") -> tuple[WorkloadQuery, ...]:
    """A capture log (`luciq_tui.capture`) as a workload: its SELECTs, the ones that took the
    most time in total first, each named `captured_N` and run with its first example."""
    totals: dict[str, list[Any]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            sql, total = str(entry["sql"]), float(entry.get("total_ms", 0.0))
        except (ValueError, KeyError, TypeError) as error:
            raise WorkloadError(f"{source}: line {number} is not a capture record") from error
        slot = totals.setdefault(sql, [0.0, entry.get("example") or sql])
        slot[0] += total
    selects = [(total, example) for sql, (total, example) in totals.items()
               if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    selects.sort(key=lambda item: -item[0])
    return tuple(WorkloadQuery(f"captured_{i}", example)
                 for i, (_total, example) in enumerate(selects, 1))


def load_workload(path: Path) -> tuple[WorkloadQuery, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise WorkloadError(f"{path}: workload file not found") from error
    except IsADirectoryError as error:
        raise WorkloadError(f"{path}: is a directory, not a workload file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise WorkloadError(f"{path}: cannot read workload: {error}") from error
    if text.lstrip().startswith("{"):
        return parse_capture(text, str(path))
    return parse_workload(text)
