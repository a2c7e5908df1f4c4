"""How long `luciq demo` takes to build its default workspace here.

Method: build the workspace from nothing in a fresh temporary folder, `--repeat` times,
timing each build with `time.perf_counter`; print each run, the median and the machine.
Run by hand: `.venv/bin/python bench/demo_build.py [--rows N] [--repeat K]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from luciq_tui.core.demo import DEFAULT_ROWS, ensure_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"method: build the demo workspace ({args.rows:,} assignments, {args.rows * 3:,} "
          f"events) from nothing, {args.repeat} times, wall-clock per build")
    times = []
    for run in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            workspace = ensure_workspace(Path(folder), rows=args.rows)
            elapsed = time.perf_counter() - started
            size = workspace.database.stat().st_size
        times.append(elapsed)
        print(f"run {run}: {elapsed:.2f} s ({size / 2**20:.0f} MiB database)")
    print(f"median: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
