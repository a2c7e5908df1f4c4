"""How long inspecting a database of many tables and indexes takes.

Method: a fresh file with 300 tables of 6 columns and 100 rows each, and 3 indexes per table
(900 in all); `inspect_database` (the Databases pane's and `luciq inspect`'s inspection: schema,
pragmas, index columns, redundancy, row estimates) timed 7 times on it; median and worst.
Run by hand: `.venv/bin/python bench/inspect_many.py`.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from luciq_tui.core.config import DatabaseConfig
from luciq_tui.core.database import inspect_database


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(__doc__.split("\n\n", 1)[1].strip().replace("\n", " "))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "many.db"
        conn = sqlite3.connect(path)
        for t in range(300):
            conn.execute(f'CREATE TABLE "t{t}" (id INTEGER PRIMARY KEY, a INT, b INT, c TEXT, '
                         "d REAL, e TEXT)")
            conn.executemany(f'INSERT INTO "t{t}"(a, b, c, d, e) VALUES (?, ?, ?, ?, ?)',
                             [(i, i % 7, str(i), i / 3, "x") for i in range(100)])
            conn.execute(f'CREATE INDEX "t{t}_a" ON "t{t}"(a)')
            conn.execute(f'CREATE INDEX "t{t}_ab" ON "t{t}"(a, b)')
            conn.execute(f'CREATE INDEX "t{t}_c" ON "t{t}"(c, d)')
        conn.commit()
        conn.close()
        times = []
        for _ in range(7):
            clock = time.perf_counter()
            info = inspect_database(DatabaseConfig("many", path))
            times.append((time.perf_counter() - clock) * 1000)
        assert info.error is None and len(info.tables) == 300 and len(info.indexes) == 900
    redundant = sum(1 for index in info.indexes if index.redundant_with)
    print(f"{len(info.tables)} tables, {len(info.indexes)} indexes ({redundant} redundant "
          f"found): median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms "
          f"(bar: under 1000 ms)")


if __name__ == "__main__":
    main()
