"""Capture an application's SQL, with counts and durations, for Luciq's advisor.

One line in the application, where it opens its connection:

    conn = luciq_tui.capture.attach(sqlite3.connect("app.db"), "/var/lib/app/workload.jsonl")

`attach` returns a stand-in for the connection that behaves like it (every attribute is the
connection's own) but times `execute`, `executemany` and the fetches that follow them. SQL is
normalized (literals become `?`) and aggregated in memory; every `flush_seconds` the totals
are appended to the log as JSON lines: `{"sql", "example", "count", "total_ms", "max_ms",
"at"}`. `example` is the first statement seen with its literals (for EXPLAIN); pass
`keep_examples=False` to keep only the normalized text. `sqlite3`'s trace callback alone
gives no durations, which is why this wraps the calls instead. It imports nothing but the
standard library.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACE = re.compile(r"\s+")


def normalize(sql: str) -> str:
    """`SELECT * FROM t WHERE id = 42 AND name = 'x'` → `SELECT * FROM t WHERE id = ? AND
    name = ?`; IN lists of any length become `(?)`; white space is folded."""
    text = _STRING.sub("?", sql)
    text = _NUMBER.sub("?", text)
    text = _IN_LIST.sub("(?)", text)
    return _SPACE.sub(" ", text).strip().rstrip(";").strip()


class Recorder:
    """Aggregates timings per normalized statement and appends them to the log."""

    def __init__(self, log: Path, flush_seconds: float = 10.0,
                 keep_examples: bool = True) -> None:
        self.log = log
        self.flush_seconds = flush_seconds
        self.keep_examples = keep_examples
        self._stats: dict[str, list[Any]] = {}
        self._normalized: dict[str, str] = {}
        self._lock = threading.Lock()
        self._next_flush = time.monotonic() + flush_seconds
        atexit.register(self.flush)

    def key(self, sql: str) -> str:
        key = self._normalized.get(sql)
        if key is None:
            key = normalize(sql)
            if len(self._normalized) < 4096:
                self._normalized[sql] = key
        return key

    def add(self, key: str, sql: str, seconds: float, new_call: bool) -> None:
        with self._lock:
            entry = self._stats.get(key)
            if entry is None:
                entry = self._stats[key] = [0, 0.0, 0.0, sql if self.keep_examples else ""]
            if new_call:
                entry[0] += 1
            entry[1] += seconds
            if seconds > entry[2]:
                entry[2] = seconds
        if time.monotonic() >= self._next_flush:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            stats, self._stats = self._stats, {}
            self._next_flush = time.monotonic() + self.flush_seconds
        if not stats:
            return
        now = time.time()
        lines = "".join(
            json.dumps({"sql": key, "example": example, "count": count,
                        "total_ms": round(total * 1000, 4), "max_ms": round(peak * 1000, 4),
                        "at": now}) + "\n"
            for key, (count, total, peak, example) in stats.items()
        )
        try:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(lines)
        except OSError:
            pass  # capturing must never break the application


class CapturingCursor:
    """A cursor that times its statements and the fetches that read their rows."""

    def __init__(self, cursor: sqlite3.Cursor, recorder: Recorder) -> None:
        self._cursor = cursor
        self._recorder = recorder
        self._key = ""
        self._sql = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def _timed(self, sql: str, call: Any, *args: Any) -> CapturingCursor:
        key = self._recorder.key(sql)
        clock = time.perf_counter()
        try:
            call(sql, *args)
        finally:
            self._recorder.add(key, sql, time.perf_counter() - clock, True)
        self._key, self._sql = key, sql
        return self

    def execute(self, sql: str, parameters: Any = ()) -> CapturingCursor:
        return self._timed(sql, self._cursor.execute, parameters)

    def executemany(self, sql: str, seq: Iterable[Any]) -> CapturingCursor:
        return self._timed(sql, self._cursor.executemany, seq)

    def _fetch(self, call: Any, *args: Any) -> Any:
        clock = time.perf_counter()
        try:
            return call(*args)
        finally:
            if self._key:
                self._recorder.add(self._key, self._sql, time.perf_counter() - clock, False)

    def fetchone(self) -> Any:
        return self._fetch(self._cursor.fetchone)

    def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return list(self._fetch(self._cursor.fetchmany))
        return list(self._fetch(self._cursor.fetchmany, size))

    def fetchall(self) -> list[Any]:
        return list(self._fetch(self._cursor.fetchall))

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return self._fetch(self._cursor.__next__)


class CapturingConnection:
    """Stands in for a `sqlite3.Connection`; see the module's docstring."""

    def __init__(self, conn: sqlite3.Connection, recorder: Recorder) -> None:
        self._conn = conn
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __enter__(self) -> CapturingConnection:
        self._conn.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._conn.__exit__(*exc)

    def cursor(self, *args: Any, **kwargs: Any) -> CapturingCursor:
        return CapturingCursor(self._conn.cursor(*args, **kwargs), self._recorder)

    def execute(self, sql: str, parameters: Any = ()) -> CapturingCursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Any]) -> CapturingCursor:
        return self.cursor().executemany(sql, seq)

    def close(self) -> None:
        self._recorder.flush()
        self._conn.close()


_recorders: dict[str, Recorder] = {}


def attach(conn: sqlite3.Connection, log: str | os.PathLike[str], *,
           flush_seconds: float = 10.0, keep_examples: bool = True) -> CapturingConnection:
    """Wrap `conn` so its SQL is captured to `log` (connections sharing a log share totals)."""
    path = Path(log)
    key = str(path.resolve())
    recorder = _recorders.get(key)
    if recorder is None:
        recorder = _recorders[key] = Recorder(path, flush_seconds, keep_examples)
    return CapturingConnection(conn, recorder)
