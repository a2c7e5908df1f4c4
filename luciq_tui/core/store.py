"""The monitoring store, `monitoring.db`: metric samples, alert transitions, the action log.

The writer is one stdlib `sqlite3` connection shared by the worker threads behind a lock;
samples are batched and written in one transaction per flush interval. Alert transitions
and action-log rows are committed at once, before anything shows them. The dashboard reads
history back through `StoreReader` (aiosqlite), so reads never block its event loop.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS performance_metrics (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    metric_name TEXT NOT NULL,
    metric_value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_performance_metrics_timestamp
    ON performance_metrics(timestamp);
CREATE INDEX IF NOT EXISTS idx_performance_metrics_name_time
    ON performance_metrics(metric_name, timestamp);
CREATE TABLE IF NOT EXISTS metric_rollups (
    metric_name TEXT NOT NULL,
    minute INTEGER NOT NULL,
    avg_value REAL NOT NULL,
    min_value REAL NOT NULL,
    max_value REAL NOT NULL,
    samples INTEGER NOT NULL,
    PRIMARY KEY (metric_name, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS store_state (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    rule TEXT NOT NULL,
    metric TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    threshold REAL,
    message TEXT NOT NULL,
    acknowledged_at REAL,
    action_id INTEGER
);
CREATE INDEX IF NOT EXISTS idx_alerts_timestamp ON alerts(timestamp);
CREATE INDEX IF NOT EXISTS idx_alerts_rule_metric ON alerts(rule, metric, id);
CREATE TABLE IF NOT EXISTS action_log (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    optimizer TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    ok INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    duration_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_action_log_timestamp ON action_log(timestamp);
CREATE TABLE IF NOT EXISTS probe_results (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    endpoint TEXT NOT NULL,
    status INTEGER,
    latency_ms REAL,
    ok INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS idx_probe_results_timestamp ON probe_results(timestamp);
CREATE TABLE IF NOT EXISTS baselines (
    endpoint TEXT PRIMARY KEY,
    timestamp REAL NOT NULL,
    samples INTEGER NOT NULL,
    p50_ms REAL,
    p95_ms REAL,
    p99_ms REAL,
    error_rate REAL NOT NULL
);
"""


@dataclass(frozen=True)
class AlertRecord:
    """One alert transition as stored."""

    id: int
    timestamp: float
    rule: str
    metric: str
    severity: str
    state: str
    value: float | None
    threshold: float | None
    message: str
    acknowledged_at: float | None
    action_id: int | None = None


@dataclass(frozen=True)
class ActionLogRecord:
    """One line of the action log."""

    id: int
    timestamp: float
    optimizer: str
    action: str
    target: str
    ok: bool
    cancelled: bool
    summary: str
    details: Mapping[str, Any]
    duration_s: float


@dataclass(frozen=True)
class Baseline:
    """An endpoint's saved latency distribution, to compare later measurements with."""

    endpoint: str
    timestamp: float
    samples: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float


class MonitoringStore:
    """The writing side of `monitoring.db`, safe to share between worker threads."""

    def __init__(self, path: Path, flush_interval: float = 5.0, raw_hours: float = 24.0,
                 rollup_days: float = 30.0, maintain_every: float = 60.0) -> None:
        self.path = path
        self.flush_interval = flush_interval
        self.raw_seconds = raw_hours * 3600
        self.rollup_seconds = rollup_days * 86400
        self.maintain_every = maintain_every
        self._last_maintain = time.monotonic()
        self.warning: str | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[float, str, float]] = []
        self._last_flush = time.monotonic()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as error:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(str(path) + suffix)
                if source.exists():
                    os.replace(source, Path(str(aside) + suffix))
            self.warning = (
                f"{path} could not be opened ({error}); it was moved to {aside} "
                "and a new store was started"
            )
            self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False,
                               isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(alerts)")}
            if "action_id" not in columns:  # a store made before auto-actions
                conn.execute("ALTER TABLE alerts ADD COLUMN action_id INTEGER")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def record_metrics(self, timestamp: float, metrics: Mapping[str, float]) -> None:
        """Queue one sample of every metric; written at the next flush."""
        with self._lock:
            self._pending.extend((timestamp, name, value) for name, value in metrics.items())

    def maybe_flush(self) -> None:
        """Flush queued samples when the flush interval has passed, and roll up and prune
        once per `maintain_every` (called from a worker thread, never the UI loop)."""
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()
        if time.monotonic() - self._last_maintain >= self.maintain_every:
            self._last_maintain = time.monotonic()
            self.maintain()

    def maintain(self, now: float | None = None) -> tuple[int, int, int]:
        """Roll every finished minute up into `metric_rollups`, then delete raw samples older
        than the raw retention and rollups older than theirs. Returns (rolled minutes' rows,
        raw rows deleted, rollup rows deleted)."""
        now = time.time() if now is None else now
        self.flush()  # queued samples belong to the minutes being rolled up
        done_minute = int(now // 60)  # minutes before this one are complete
        with self._lock, _transaction(self._conn):
            row = self._conn.execute(
                "SELECT value FROM store_state WHERE key = 'rolled_up_to'").fetchone()
            start = int(row[0]) if row else int(
                (self._conn.execute("SELECT min(timestamp) FROM performance_metrics")
                 .fetchone()[0] or now) // 60)
            rolled = self._conn.execute(
                "INSERT OR REPLACE INTO metric_rollups(metric_name, minute, avg_value, "
                "min_value, max_value, samples) SELECT metric_name, CAST(timestamp / 60 AS "
                "INTEGER), avg(metric_value), min(metric_value), max(metric_value), count(*) "
                "FROM performance_metrics WHERE timestamp >= ? AND timestamp < ? "
                "GROUP BY metric_name, CAST(timestamp / 60 AS INTEGER)",
                (start * 60, done_minute * 60)).rowcount
            self._conn.execute(
                "INSERT OR REPLACE INTO store_state(key, value) VALUES ('rolled_up_to', ?)",
                (max(start, done_minute),))
            raw = self._conn.execute("DELETE FROM performance_metrics WHERE timestamp < ?",
                                     (now - self.raw_seconds,)).rowcount
            old = self._conn.execute("DELETE FROM metric_rollups WHERE minute < ?",
                                     (int((now - self.rollup_seconds) // 60),)).rowcount
        return rolled, raw, old

    def flush(self) -> int:
        """Write every queued sample in one transaction; returns how many rows."""
        with self._lock:
            rows, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            if not rows:
                return 0
            with _transaction(self._conn):
                self._conn.executemany(
                    "INSERT INTO performance_metrics(timestamp, metric_name, metric_value) "
                    "VALUES (?, ?, ?)",
                    rows,
                )
            return len(rows)

    def record_alert(
        self,
        *,
        timestamp: float,
        rule: str,
        metric: str,
        severity: str,
        state: str,
        value: float | None,
        threshold: float | None,
        message: str,
    ) -> int:
        """Commit one alert transition; returns its row id."""
        with self._lock, _transaction(self._conn):
            cursor = self._conn.execute(
                "INSERT INTO alerts(timestamp, rule, metric, severity, state, value, "
                "threshold, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (timestamp, rule, metric, severity, state, value, threshold, message),
            )
            return int(cursor.lastrowid or 0)

    def acknowledge_alert(self, alert_id: int, when: float | None = None) -> None:
        with self._lock, _transaction(self._conn):
            self._conn.execute(
                "UPDATE alerts SET acknowledged_at = ? WHERE id = ?",
                (when or time.time(), alert_id),
            )

    def link_action(self, alert_id: int, action_id: int) -> None:
        """Note on an alert row which action-log line its auto-action wrote."""
        with self._lock, _transaction(self._conn):
            self._conn.execute("UPDATE alerts SET action_id = ? WHERE id = ?",
                               (action_id, alert_id))

    def open_alerts(self) -> list[AlertRecord]:
        """The last transition of every (rule, metric) whose alert is still pending or firing."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts AS a WHERE a.id = (SELECT max(b.id) FROM "
                "alerts AS b WHERE b.rule = a.rule AND b.metric = a.metric) "
                "AND a.state IN ('pending', 'firing') ORDER BY a.id"
            ).fetchall()
        return [AlertRecord(*row) for row in rows]

    def log_action(
        self,
        *,
        timestamp: float,
        optimizer: str,
        action: str,
        target: str,
        ok: bool,
        cancelled: bool,
        summary: str,
        details: Mapping[str, Any],
        duration_s: float,
    ) -> int:
        """Commit one action-log line; returns its row id."""
        with self._lock, _transaction(self._conn):
            cursor = self._conn.execute(
                "INSERT INTO action_log(timestamp, optimizer, action, target, ok, cancelled, "
                "summary, details, duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (timestamp, optimizer, action, target, int(ok), int(cancelled), summary,
                 json.dumps(details, default=str), duration_s),
            )
            return int(cursor.lastrowid or 0)

    def record_probes(self, rows: Iterable[tuple[float, str, int | None, float | None, bool,
                                                 str | None]]) -> None:
        with self._lock, _transaction(self._conn):
            self._conn.executemany(
                "INSERT INTO probe_results(timestamp, endpoint, status, latency_ms, ok, error) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def save_baseline(self, baseline: Baseline) -> None:
        """Keep `baseline` as the endpoint's reference, replacing the previous one."""
        with self._lock, _transaction(self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO baselines(endpoint, timestamp, samples, p50_ms, p95_ms, "
                "p99_ms, error_rate) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (baseline.endpoint, baseline.timestamp, baseline.samples, baseline.p50_ms,
                 baseline.p95_ms, baseline.p99_ms, baseline.error_rate),
            )

    def baselines(self) -> dict[str, Baseline]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT endpoint, timestamp, samples, p50_ms, p95_ms, p99_ms, error_rate "
                "FROM baselines").fetchall()
        return {row[0]: Baseline(*row) for row in rows}

    def alert_history(self, limit: int = 200) -> list[AlertRecord]:
        with self._lock:
            rows = self._conn.execute(ALERT_QUERY, (limit,)).fetchall()
        return [AlertRecord(*row) for row in rows]

    def action_log(self, limit: int = 200) -> list[ActionLogRecord]:
        with self._lock:
            rows = self._conn.execute(ACTION_QUERY, (limit,)).fetchall()
        return [_action_record(row) for row in rows]

    def metric_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM performance_metrics")
                       .fetchone()[0])

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._conn.close()


ALERT_COLUMNS = ("id, timestamp, rule, metric, severity, state, value, threshold, message, "
                 "acknowledged_at, action_id")
ALERT_QUERY = f"SELECT {ALERT_COLUMNS} FROM alerts ORDER BY timestamp DESC, id DESC LIMIT ?"


def alert_query(limit: int, since: float | None,
                severities: tuple[str, ...] | None) -> tuple[str, tuple[Any, ...]]:
    """The history query with its filters, every value bound as a parameter."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("timestamp >= ?")
        params.append(since)
    if severities:
        where.append(f"severity IN ({', '.join('?' for _ in severities)})")
        params.extend(severities)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"SELECT {ALERT_COLUMNS} FROM alerts{clause} ORDER BY timestamp DESC, id DESC "
            "LIMIT ?", (*params, limit))
ACTION_QUERY = (
    "SELECT id, timestamp, optimizer, action, target, ok, cancelled, summary, details, "
    "duration_s FROM action_log ORDER BY timestamp DESC, id DESC LIMIT ?"
)


def _action_record(row: tuple[Any, ...]) -> ActionLogRecord:
    try:
        details = json.loads(row[8])
    except (TypeError, ValueError):
        details = {}
    return ActionLogRecord(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]),
                           row[7], details, row[9])


class _transaction:
    """BEGIN IMMEDIATE … COMMIT on an autocommit connection, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")


HISTORY_RAW = (
    "SELECT CAST(timestamp / ? AS INTEGER) AS bucket, avg(metric_value) FROM "
    "performance_metrics WHERE metric_name = ? AND timestamp >= ? GROUP BY bucket "
    "ORDER BY bucket"
)
HISTORY_ROLLUP = (
    "SELECT CAST(minute * 60 / ? AS INTEGER) AS bucket, sum(avg_value * samples) / "
    "sum(samples) FROM metric_rollups WHERE metric_name = ? AND minute >= ? GROUP BY bucket "
    "ORDER BY bucket"
)


class StoreReader:
    """Reads history for the dashboard without blocking its event loop (aiosqlite)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def _fetch(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        import aiosqlite  # with asyncio: only the dashboard reads this way

        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        async with (
            aiosqlite.connect(uri, uri=True, timeout=5.0) as conn,
            conn.execute(query, params) as cursor,
        ):
            return [tuple(row) for row in await cursor.fetchall()]

    async def alert_history(self, limit: int = 200, since: float | None = None,
                            severities: tuple[str, ...] | None = None) -> list[AlertRecord]:
        """The newest alert transitions, optionally only since a time and of some severities."""
        query, params = alert_query(limit, since, severities)
        return [AlertRecord(*row) for row in await self._fetch(query, params)]

    async def history(self, metrics: Iterable[str], window_s: float, points: int,
                      now: float | None = None) -> dict[str, tuple[float, ...]]:
        """Each metric over the last `window_s`, averaged into at most `points` buckets:
        raw samples for windows up to the raw retention, per-minute rollups beyond."""
        now = time.time() if now is None else now
        bucket = max(1.0, window_s / max(1, points))
        since = now - window_s
        result = {}
        for metric in metrics:
            if window_s <= 3600:
                rows = await self._fetch(HISTORY_RAW, (bucket, metric, since))
            else:
                rows = await self._fetch(HISTORY_ROLLUP, (max(60.0, bucket), metric,
                                                          int(since // 60)))
            result[metric] = tuple(float(value) for _bucket, value in rows)
        return result

    async def action_log(self, limit: int = 200) -> list[ActionLogRecord]:
        return [_action_record(row) for row in await self._fetch(ACTION_QUERY, (limit,))]
