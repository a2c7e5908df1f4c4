"""Time from start to the dashboard's first frame.

Method: `luciq --config FILE` (no databases or endpoints; a temporary store) is started in a
fresh tmux session at 160×48; the pane is read every 10 ms until the tab bar ("Resources …
Endpoints") is on screen; the time from the session's start to that read, 7 times, median
and worst. Run by hand: `.venv/bin/python bench/startup.py` (bar: under 1 s).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True,
                          check=False).stdout


def once(config: Path) -> float:
    session = "luciq-startup"
    tmux("kill-session", "-t", session)
    started = time.perf_counter()
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48",
         f"env TERM=xterm-256color {sys.executable} -m luciq_tui --config {config}")
    try:
        while time.perf_counter() - started < 10:
            screen = tmux("capture-pane", "-p", "-t", session)
            if "Resources" in screen and "Endpoints" in screen:
                return time.perf_counter() - started
            time.sleep(0.01)
        raise RuntimeError("no frame within 10 s")
    finally:
        tmux("kill-session", "-t", session)


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(__doc__.split("\n\n", 1)[1].strip().replace("\n", " "))
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "luciq.toml"
        config.write_text(f'store = "{Path(folder) / "monitoring.db"}"\n')
        times = [once(config) for _ in range(7)]
    print(f"first frame: median {statistics.median(times) * 1000:.0f} ms, worst "
          f"{max(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
