"""Database actions against process death and against a steady writer (SPEC §11)."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from luciq_tui.core.config import DatabaseConfig
from luciq_tui.core.database import DatabaseOptimizer
from luciq_tui.core.demo import DemoWorkspace, ensure_workspace
from luciq_tui.core.optimizer import run_action

ROWS = 60_000  # big enough that each action takes a while, small enough for CI


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    return ensure_workspace(tmp_path_factory.mktemp("bigger"), rows=ROWS)


@pytest.fixture
def copy(bigger: DemoWorkspace, tmp_path: Path) -> tuple[Path, Path]:
    database = tmp_path / "app.db"
    shutil.copyfile(bigger.database, database)
    return database, bigger.workload


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in ("user_assignments", "conversion_events")}
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


CHILD = """
import sys, threading
from pathlib import Path
from luciq_tui.core.config import DatabaseConfig
from luciq_tui.core.database import DatabaseOptimizer
from luciq_tui.core.advisor import advise
from luciq_tui.core.workload import load_workload

path, workload, action = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
optimizer = DatabaseOptimizer([DatabaseConfig("app", path, workload)], workload_interval=0)
optimizer.observe()
if action == "create_indexes":
    optimizer.adopt_advice("app", advise(path, load_workload(workload)))
spec = next(s for s in optimizer.actions(None) if s.name == action)
preview = optimizer.preview(spec)

def progress(fraction, text):
    print("progress", text, flush=True)

print("start", flush=True)
result = optimizer.execute(preview, progress, threading.Event())
print("done", result.ok, result.summary, flush=True)
"""


@pytest.mark.parametrize("action", ["create_indexes", "vacuum", "enable_wal"])
def test_kill_9_in_the_middle_loses_nothing(copy: tuple[Path, Path], action: str) -> None:
    database, workload = copy
    before = counts(database)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(database), str(workload), action],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    seen = []
    for line in child.stdout:
        seen.append(line.split()[0])
        if line.startswith("progress"):
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=120)
    assert child.returncode == -signal.SIGKILL, (seen, child.stderr.read() if child.stderr else "")
    assert "done" not in seen  # it died in the middle of the action
    assert integrity(database) == "ok"
    assert counts(database) == before


WRITER = """
import sqlite3, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
conn = sqlite3.connect(path, timeout=30, isolation_level=None)
conn.execute("PRAGMA busy_timeout=30000")
ok = errors = 0
deadline = time.time() + seconds
print("ready", flush=True)
while time.time() < deadline:
    try:
        conn.execute("INSERT INTO conversion_events VALUES (1, 1, 'view', 0, '2025-06-01')")
        ok += 1
    except sqlite3.OperationalError as error:
        errors += 1
        print("error", error, file=sys.stderr, flush=True)
    time.sleep(0.002)
print(ok, errors, flush=True)
"""


@pytest.mark.parametrize("action", ["enable_wal", "analyze", "create_indexes", "vacuum",
                                    "checkpoint", "backup"])
def test_a_steady_writer_loses_nothing_during_an_action(copy: tuple[Path, Path],
                                                        action: str) -> None:
    database, workload = copy
    optimizer = DatabaseOptimizer([DatabaseConfig("app", database, workload)],
                                  workload_interval=0)
    if action == "checkpoint":
        spec = next(s for s in optimizer.actions(optimizer.observe()) if s.name == "enable_wal")
        assert run_action(optimizer, optimizer.preview(spec), read_only=False).ok
    if action == "create_indexes":
        from luciq_tui.core.advisor import advise
        from luciq_tui.core.workload import load_workload

        optimizer.adopt_advice("app", advise(database, load_workload(workload)))
    before = counts(database)["conversion_events"]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), "4"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    spec = next(s for s in optimizer.actions(optimizer.observe()) if s.name == action)
    result = run_action(optimizer, optimizer.preview(spec), read_only=False)
    out, err = writer.communicate(timeout=120)
    assert result.ok, result.summary
    written, errors = (int(value) for value in out.split())
    assert errors == 0, err  # no "database is locked" beyond the busy timeout
    assert written > 0
    assert counts(database)["conversion_events"] == before + written
    assert integrity(database) == "ok"
    for backup in database.parent.glob("app.luciq-backup-*.db"):
        assert integrity(backup) == "ok"
