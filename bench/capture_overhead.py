"""What `luciq_tui.capture` costs an application, per query.

Method: a 100,000-row table in a temporary file; the same 100,000 primary-key lookups
(`SELECT v FROM t WHERE id = ?`, fetchone) timed on a plain connection and on a captured
one, alternating 5 rounds each; the medians of the rounds, per query. Run by hand:
`.venv/bin/python bench/capture_overhead.py`.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from luciq_tui import capture

QUERIES = 100_000


def run(conn: Any) -> float:
    clock = time.perf_counter()
    for i in range(QUERIES):
        conn.execute("SELECT v FROM t WHERE id = ?", (i % 100_000 + 1,)).fetchone()
    return (time.perf_counter() - clock) / QUERIES * 1e6


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(__doc__.split("\n\n", 1)[1].strip().replace("\n", " "))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "app.db"
        setup = sqlite3.connect(path)
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        setup.executemany("INSERT INTO t(v) VALUES (?)", [(f"v{i}",) for i in range(100_000)])
        setup.commit()
        setup.close()
        plain = sqlite3.connect(path)
        captured = capture.attach(sqlite3.connect(path), Path(folder) / "w.jsonl")
        plain_us, captured_us = [], []
        for _ in range(5):
            plain_us.append(run(plain))
            captured_us.append(run(captured))
        captured.close()
        plain.close()
    base, with_capture = statistics.median(plain_us), statistics.median(captured_us)
    print(f"plain:    {base:.2f} µs per query")
    print(f"captured: {with_capture:.2f} µs per query")
    print(f"overhead: {with_capture - base:.2f} µs per query "
          f"({(with_capture - base) / base * 100:.0f} % of the fastest kind of query)")


if __name__ == "__main__":
    main()
