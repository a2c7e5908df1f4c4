"""The database actions that change a file (or copy it), each cancellable and measured.

Every change runs in SQLite's own transactions, so a process killed in the middle leaves
the file as it was before (or after) the statement, never half-written. Long statements
report progress through SQLite's progress handler and stop when `cancel` is set.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from luciq_tui.core.optimizer import ActionRefused

Progress = Callable[[float | None, str], None]
# SQLite calls the progress handler every this many VM instructions. Each call takes the
# GIL from the dashboard's event loop, so not too often: about every few milliseconds.
PROGRESS_OPS = 200_000


class Cancelled(Exception):
    """The operator cancelled; SQLite rolled the statement back."""


@contextmanager
def watched(conn: sqlite3.Connection, label: str, progress: Progress,
            cancel: threading.Event) -> Iterator[None]:
    """Report progress while a statement runs and interrupt it when `cancel` is set."""
    if cancel.is_set():
        raise Cancelled(label)
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        if steps[0] % 10 == 1:
            progress(None, f"{label}: {steps[0] * PROGRESS_OPS:,} VM steps")
        return 1 if cancel.is_set() else 0

    conn.set_progress_handler(tick, PROGRESS_OPS)
    try:
        yield
    except sqlite3.OperationalError as error:
        if "interrupt" in str(error):
            raise Cancelled(label) from error
        raise
    finally:
        conn.set_progress_handler(None, 0)


def backup_path(path: Path, folder: Path | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return (folder or path.parent) / f"{path.stem}.luciq-backup-{stamp}{path.suffix or '.db'}"


def backup(path: Path, target: Path, progress: Progress, cancel: threading.Event) -> int:
    """Copy a live database with SQLite's online backup API; returns the pages copied.

    Refuses when the target's disk has less free space than the database's size."""
    size = path.stat().st_size + (Path(str(path) + "-wal").stat().st_size
                                  if Path(str(path) + "-wal").exists() else 0)
    free = shutil.disk_usage(target.parent).free
    if free < size * 1.1:
        raise ActionRefused(f"{target.parent} has {free / 2**20:.0f} MiB free; the backup "
                            f"needs about {size / 2**20:.0f} MiB")
    if target.exists():
        raise ActionRefused(f"{target} already exists")
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    partial = target.with_name(target.name + ".partial")
    dest = sqlite3.connect(partial)
    copied = [0]

    def report(status: int, remaining: int, total: int) -> None:
        copied[0] = total - remaining
        progress(copied[0] / total if total else None, f"backup: {copied[0]:,} of {total:,} pages")
        if cancel.is_set():
            raise Cancelled("backup")

    try:
        source.backup(dest, pages=1024, progress=report)
    except Cancelled:
        dest.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    dest.close()
    partial.rename(target)
    return copied[0]


def create_indexes(conn: sqlite3.Connection, statements: Sequence[str], progress: Progress,
                   cancel: threading.Event) -> list[tuple[str, float]]:
    """Run each CREATE INDEX in its own transaction; a cancel keeps the ones finished."""
    done = []
    for number, statement in enumerate(statements, 1):
        progress((number - 1) / len(statements), f"index {number} of {len(statements)}")
        clock = time.perf_counter()
        with watched(conn, f"index {number} of {len(statements)}", progress, cancel):
            conn.execute(statement)
        done.append((statement, time.perf_counter() - clock))
    progress(1.0, "indexes built")
    return done


def checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """`PRAGMA wal_checkpoint(TRUNCATE)`: (busy, WAL frames, frames checkpointed)."""
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def vacuum(conn: sqlite3.Connection, path: Path, progress: Progress,
           cancel: threading.Event) -> None:
    """VACUUM after checking there is room for the copy it writes."""
    needed = path.stat().st_size * 2
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise ActionRefused(f"{path.parent} has {free / 2**20:.0f} MiB free; VACUUM needs "
                            f"about {needed / 2**20:.0f} MiB")
    with watched(conn, "VACUUM", progress, cancel):
        conn.execute("VACUUM")


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Exact rows per table: the before/after proof that an action lost nothing."""
    from luciq_tui.core.database import quote_identifier

    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL%'")]
    return {table: int(conn.execute(f"SELECT count(*) FROM {quote_identifier(table)}")
                       .fetchone()[0]) for table in tables}
