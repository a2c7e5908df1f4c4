"""What the dashboard costs the machine it watches, beside glances and btop.

Method: each program runs in its own tmux session at 160×48 with a 1 s refresh (Luciq on a
config with no database or endpoint, its store in a temporary folder; `glances -t 1` from its
own venv; Debian's btop with `update_ms = 1000`), one after the other. After a 5 s warm-up,
for `--seconds` (default 60): CPU is the user + system ticks of the program's processes from
`/proc/PID/stat`, as % of one core; peak RSS is `VmHWM`; terminal output is what the program
wrote to its terminal (tmux `pipe-pane`), a stand-in for SSH bandwidth. `--extra-processes N`
starts N idle `sleep` processes first (ended afterwards). Needs tmux; glances is looked up at
`--glances` (default /tmp/glances-venv/bin/glances: `python3 -m venv /tmp/glances-venv &&
/tmp/glances-venv/bin/pip install glances`), btop on the PATH (`apt-get install btop`).
Run by hand: `.venv/bin/python bench/overhead.py [--seconds 60] [--extra-processes 1000]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True,
                          check=False).stdout


def tree(pid: int) -> list[int]:
    """The program and its children (glances and btop may fork)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) in found:
                found.append(int(entry.name))
    return found


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total


def peak_rss_kb(pids: list[int]) -> int:
    best = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except OSError:
            continue
    return best


def measure(name: str, command: str, seconds: float, folder: Path,
            env: dict[str, str]) -> dict[str, float]:
    slug = name.replace(" ", "").replace("-", "")
    session = f"luciq-ovh-{slug}"
    output = folder / f"{slug}.out"
    tmux("kill-session", "-t", session)
    exports = " ".join(f"{key}={value}" for key, value in env.items())
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48",
         f"env {exports} {command}")
    time.sleep(1.0)
    pane_pid = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
    time.sleep(4.0)
    tmux("pipe-pane", "-o", "-t", session, f"cat >> {output}")
    pids = tree(pane_pid)
    start_ticks, start = cpu_ticks(pids), time.monotonic()
    time.sleep(seconds)
    pids = tree(pane_pid)
    used = cpu_ticks(pids) - start_ticks
    elapsed = time.monotonic() - start
    rss = peak_rss_kb(pids)
    tmux("pipe-pane", "-t", session)
    tmux("kill-session", "-t", session)
    written = output.stat().st_size if output.exists() else 0
    return {"cpu": used / TICKS / elapsed * 100, "rss_mb": rss / 1024,
            "bytes_per_s": written / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--extra-processes", type=int, default=0)
    parser.add_argument("--glances", default="/tmp/glances-venv/bin/glances")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("needs tmux (apt-get install tmux)")
        return 2
    processes = len([p for p in Path("/proc").iterdir() if p.name.isdigit()])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {processes} processes "
          f"(+{args.extra_processes} idle ones for this run); Python {platform.python_version()}")
    print(__doc__.split("\n\n", 1)[1].strip().replace("\n", " "))
    folder = Path(tempfile.mkdtemp(prefix="luciq-overhead-"))
    sleepers = [subprocess.Popen(["sleep", "3600"]) for _ in range(args.extra_processes)]
    try:
        config = folder / "luciq.toml"
        config.write_text(f'store = "{folder / "monitoring.db"}"\n')
        home = folder / "home"
        (home / ".config" / "btop").mkdir(parents=True)
        (home / ".config" / "btop" / "btop.conf").write_text("update_ms = 1000\n")
        env = {"TERM": "xterm-256color", "HOME": str(home)}
        programs = {
            "luciq": f"{sys.executable} -m luciq_tui --config {config} --refresh 1",
            "luciq --low-bandwidth": f"{sys.executable} -m luciq_tui --config {config} "
                                     "--refresh 1 --low-bandwidth",
        }
        if Path(args.glances).exists():
            programs["glances"] = f"{args.glances} -t 1"
        if shutil.which("btop"):
            programs["btop"] = "btop"
        results = {}
        for name, command in programs.items():
            results[name] = measure(name, command, args.seconds, folder, env)
            print(f"{name}: measured", flush=True)
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print("\n| program | CPU, % of one core | peak RSS | terminal output |")
    print("|---|---|---|---|")
    for name, figures in results.items():
        print(f"| {name} | {figures['cpu']:.2f} | {figures['rss_mb']:.0f} MB | "
              f"{figures['bytes_per_s'] / 1024:.1f} KB/s |")
    luciq = results["luciq"]
    low = results["luciq --low-bandwidth"]
    glances, btop = results.get("glances"), results.get("btop")
    bars = [(f"peak RSS at most 50 MB: {luciq['rss_mb']:.1f} MB", luciq["rss_mb"] <= 50)]
    if glances and args.extra_processes:
        bars.append((f"CPU below glances' with {args.extra_processes} extra processes: "
                     f"{luciq['cpu']:.2f} vs {glances['cpu']:.2f} %",
                     luciq["cpu"] < glances["cpu"]))
    elif glances:
        bars.append((f"CPU at most half of glances': {luciq['cpu']:.2f} vs "
                     f"{glances['cpu']:.2f} / 2 = {glances['cpu'] / 2:.2f} %",
                     luciq["cpu"] <= glances["cpu"] / 2))
    if glances:
        bars.append((f"--low-bandwidth output at or below glances': "
                     f"{low['bytes_per_s']:.0f} vs {glances['bytes_per_s']:.0f} B/s",
                     low["bytes_per_s"] <= glances["bytes_per_s"]))
    if btop:
        bars.append((f"output below btop's: {luciq['bytes_per_s']:.0f} vs "
                     f"{btop['bytes_per_s']:.0f} B/s", luciq["bytes_per_s"] < btop["bytes_per_s"]))
    for text, held in bars:
        print(f"{'met' if held else 'NOT MET'}: {text}")
    for other in ("glances", "btop"):
        if other in results:
            theirs = results[other]
            print(f"luciq / {other}: CPU {luciq['cpu'] / max(theirs['cpu'], 1e-9):.2f}×, "
                  f"RSS {luciq['rss_mb'] / max(theirs['rss_mb'], 1e-9):.2f}×, output "
                  f"{luciq['bytes_per_s'] / max(theirs['bytes_per_s'], 1e-9):.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
