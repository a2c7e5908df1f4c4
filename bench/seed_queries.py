"""The seed report's before/after table, measured: Luciq's advisor against `.expert`.

Method, printed with the results: build (or reuse) the default demo workspace (SPEC §9:
1 M assignments, 3 M events, unoptimized); make three copies of its database; on one run
nothing, on one run `luciq optimize --apply --yes` (the real command, in a subprocess), on
one create the indexes Debian's `sqlite3` CLI `.expert` recommends for each seed query (its
default: no sampling), then ANALYZE and WAL, so both optimized copies differ only in their
indexes. Each copy then runs each query 5 times after a warm-up run (median, warm cache, one
read-only connection), and 20,000 rows are inserted into conversion_events inside a
transaction that is rolled back (median of 3). Run by hand:
`.venv/bin/python bench/seed_queries.py [--dir demo] [--rows N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from luciq_tui.core.advisor import median_ms
from luciq_tui.core.demo import DEFAULT_ROWS, ensure_workspace
from luciq_tui.core.workload import WorkloadQuery, load_workload

BARS = {"a": 20.0, "b": 5.0, "c": 500.0, "d": 10.0}


def expert_indexes(database: Path, workload: list[WorkloadQuery]) -> list[str]:
    """What `.expert` of the sqlite3 command-line shell recommends, query by query."""
    statements: list[str] = []
    for query in workload:
        result = subprocess.run(["sqlite3", str(database)], input=f".expert\n{query.sql};\n",
                                capture_output=True, text=True, check=False, timeout=600)
        for line in result.stdout.splitlines():
            if line.startswith("CREATE INDEX") and line not in statements:
                statements.append(line)
    return statements


def time_workload(database: Path, workload: list[WorkloadQuery]) -> dict[str, float]:
    conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        return {q.name: median_ms(conn, q.sql, runs=5, budget_s=60) for q in workload}
    finally:
        conn.close()


def insert_ms(database: Path, rows: int = 20_000) -> float:
    conn = sqlite3.connect(database, isolation_level=None)
    times = []
    try:
        for _ in range(3):
            conn.execute("BEGIN")
            clock = time.perf_counter()
            conn.execute("INSERT INTO conversion_events SELECT * FROM conversion_events "
                         f"LIMIT {rows}")
            times.append((time.perf_counter() - clock) * 1000)
            conn.execute("ROLLBACK")
    finally:
        conn.close()
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("demo"))
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    args = parser.parse_args()
    if shutil.which("sqlite3") is None:
        print("needs Debian's sqlite3 command-line shell (apt-get install sqlite3)")
        return 2
    version = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True,
                             check=False).stdout.split()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; Python "
          f"{platform.python_version()} with SQLite {sqlite3.sqlite_version}; sqlite3 CLI "
          f"{version}")
    print(__doc__.split("\n\n", 1)[1].strip().replace("\n", " "))
    workspace = ensure_workspace(args.dir, args.rows)
    workload = list(load_workload(workspace.workload))
    scratch = Path(tempfile.mkdtemp(prefix="luciq-bench-"))
    try:
        copies = {}
        for variant in ("before", "luciq", "expert"):
            copies[variant] = scratch / f"{variant}.db"
            shutil.copyfile(workspace.database, copies[variant])
        config = scratch / "luciq.toml"
        config.write_text(f'store = "{scratch / "monitoring.db"}"\n')
        clock = time.perf_counter()
        optimize = subprocess.run(
            [sys.executable, "-m", "luciq_tui", "optimize", str(copies["luciq"]), "--workload",
             str(workspace.workload), "--apply", "--yes", "--json", "--config", str(config)],
            capture_output=True, text=True, check=False)
        luciq_seconds = time.perf_counter() - clock
        if optimize.returncode != 0:
            print(optimize.stderr)
            return 1
        applied = json.loads(optimize.stdout)["applied"]
        expert = expert_indexes(copies["expert"], workload)
        conn = sqlite3.connect(copies["expert"], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in expert:
            conn.execute(statement)
        conn.execute("ANALYZE")
        conn.close()
        timings = {variant: time_workload(path, workload) for variant, path in copies.items()}
        inserts = {variant: insert_ms(path) for variant, path in copies.items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\nluciq optimize --apply took {luciq_seconds:.1f} s and ran:")
    for line in applied:
        print(f"  {line}")
    print(".expert recommended:")
    for line in expert:
        print(f"  {line}")
    print("\n| Query | Before | After (Luciq) | Speedup | .expert | Speedup | Bar |")
    print("|---|---|---|---|---|---|---|")
    passed = True
    for query in workload:
        before = timings["before"][query.name]
        after = timings["luciq"][query.name]
        other = timings["expert"][query.name]
        bar = BARS.get(query.name[0])
        ok = bar is None or before / after >= bar
        passed &= ok
        print(f"| {query.name} | {before:.3f} ms | {after:.3f} ms | {before / after:,.1f}× | "
              f"{other:.3f} ms | {before / other:,.1f}× | "
              f"{'≥' if ok else 'MISSED <'}{bar:g}× |")
    totals = {variant: sum(times.values()) for variant, times in timings.items()}
    print(f"| whole workload | {totals['before']:.2f} ms | {totals['luciq']:.2f} ms | "
          f"{totals['before'] / totals['luciq']:,.1f}× | {totals['expert']:.2f} ms | "
          f"{totals['before'] / totals['expert']:,.1f}× | Luciq "
          f"{'faster' if totals['luciq'] < totals['expert'] else 'NOT faster'} than .expert |")
    print(f"| 20,000 inserts | {inserts['before']:.1f} ms | {inserts['luciq']:.1f} ms | "
          f"{inserts['luciq'] / inserts['before']:.1f}× slower | {inserts['expert']:.1f} ms | "
          f"{inserts['expert'] / inserts['before']:.1f}× slower | |")
    passed &= totals["luciq"] < totals["expert"]
    print("\nall bars met" if passed else "\nSOME BARS MISSED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
