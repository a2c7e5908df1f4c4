"""Workload files: the SQL an application runs, one statement after another.

Statements are separated by `;` (SQLite decides where one ends, so a `;` inside a string
is safe); a `-- name: X` line names the statement that follows it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

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


def load_workload(path: Path) -> tuple[WorkloadQuery, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise WorkloadError(f"{path}: workload file not found") from error
    except IsADirectoryError as error:
        raise WorkloadError(f"{path}: is a directory, not a workload file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise WorkloadError(f"{path}: cannot read workload: {error}") from error
    return parse_workload(text)
