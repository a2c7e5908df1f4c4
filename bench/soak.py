"""Does the dashboard's memory stay flat, and the store as small as its retention says?

Method: `luciq demo` on the demo workspace runs in a tmux session at 160×48 (a 1 s refresh)
for `--minutes` (default 60). RSS (`VmRSS` of the process) is read every minute; the bar
compares the last reading with the one after 5 minutes (within 10 %). At the end the store's
rows are counted against what the retention predicts: one sample per metric per second for
the run (raw retention is 24 h), plus one rollup row per metric per finished minute. Run by
hand: `.venv/bin/python bench/soak.py [--dir demo] [--minutes 60]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True,
                          check=False).stdout


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("demo"))
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(__doc__.split("\n\n", 1)[1].strip().replace("\n", " "))
    folder = Path(tempfile.mkdtemp(prefix="luciq-soak-"))
    config = folder / "luciq.toml"
    store = folder / "monitoring.db"
    config.write_text(f'store = "{store}"\n')
    session = "luciq-soak"
    tmux("kill-session", "-t", session)
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48",
         f"env TERM=xterm-256color {sys.executable} -m luciq_tui demo --dir "
         f"{args.dir.resolve()} --config {config}")
    time.sleep(5)
    pane_pid = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
    pid = pane_pid
    readings: list[tuple[float, int]] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < args.minutes * 60:
            readings.append(((time.monotonic() - started) / 60, rss_kb(pid)))
            print(f"{readings[-1][0]:5.1f} min: RSS {readings[-1][1] / 1024:.1f} MB",
                  flush=True)
            time.sleep(60)
        readings.append(((time.monotonic() - started) / 60, rss_kb(pid)))
    finally:
        tmux("send-keys", "-t", session, "q")
        time.sleep(3)
        tmux("kill-session", "-t", session)
    conn = sqlite3.connect(store)
    raw = conn.execute("SELECT count(*) FROM performance_metrics").fetchone()[0]
    metrics = conn.execute("SELECT count(DISTINCT metric_name) FROM performance_metrics "
                           "WHERE metric_name NOT LIKE 'api.%' AND metric_name NOT LIKE "
                           "'db.%' AND metric_name NOT LIKE 'fs.%'").fetchone()[0]
    rollups = conn.execute("SELECT count(*) FROM metric_rollups").fetchone()[0]
    conn.close()
    size = store.stat().st_size + sum(p.stat().st_size for p in folder.glob("monitoring.db-*"))
    shutil.rmtree(folder, ignore_errors=True)
    after_five = next((kb for minute, kb in readings if minute >= 5), readings[0][1])
    last = readings[-1][1]
    print(f"RSS after 5 min {after_five / 1024:.1f} MB, at the end {last / 1024:.1f} MB "
          f"({(last - after_five) / after_five * 100:+.1f} %; bar: within 10 %)")
    seconds = args.minutes * 60
    print(f"store: {raw:,} raw samples ({metrics} resource metrics at 1 s predict about "
          f"{int(metrics * seconds):,} plus the database, endpoint and filesystem ones), "
          f"{rollups:,} rollup rows, {size / 2**20:.1f} MiB on disk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
