"""The demo workspace (SPEC §9): the seed's database in its unoptimized state, and friends.

Everything is generated from a fixed seed, so every figure is comparable run to run:
`secure_ab_testing.db` (rollback journal, no indexes, no statistics), the seed's four
queries as a workload file, a folder of Python caches to clean, and a small HTTP service on
loopback whose `/api/results` endpoint runs query (b) against the demo database.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from luciq_tui.core.config import Config, DatabaseConfig, EndpointConfig

SEED = 20250531
DEFAULT_ROWS = 1_000_000
TESTS = 50
SPAN_DAYS = 90
# The data ends at a fixed moment, so "the last hour" holds the same rows on every build.
END_EPOCH = 1748649600  # 2025-05-31 00:00:00 UTC, the seed report's date
LAST_HOUR = "2025-05-30 23:00:00"
DEMO_TEST_ID = 7
VARIANTS = ("control", "variant_a", "variant_b", "variant_c")
EVENTS = (("view", 0.50), ("click", 0.30), ("signup", 0.12), ("purchase", 0.08))
DB_NAME = "secure_ab_testing.db"
WORKLOAD_NAME = "workload.sql"
ROOT_NAME = "app_root"

SCHEMA = """
CREATE TABLE user_assignments (
    test_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    variant TEXT NOT NULL,
    timestamp TEXT NOT NULL
);
CREATE TABLE conversion_events (
    test_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    value REAL NOT NULL DEFAULT 0,
    timestamp TEXT NOT NULL
);
"""

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DemoWorkspace:
    folder: Path
    database: Path
    workload: Path
    root: Path
    store: Path
    rows: int
    built: bool
    build_seconds: float


def workload_sql(user_id: int) -> str:
    """The seed's four queries, (a) to (d), as a workload file."""
    return f"""\
-- The seed report's four workload queries, on the demo database.
-- name: a_assignments_per_variant
SELECT variant, COUNT(*) AS users
FROM user_assignments
WHERE test_id = {DEMO_TEST_ID}
GROUP BY variant;

-- name: b_conversions_per_variant
SELECT a.variant, COUNT(*) AS conversions, SUM(e.value) AS value
FROM conversion_events AS e
JOIN user_assignments AS a ON a.test_id = e.test_id AND a.user_id = e.user_id
WHERE e.test_id = {DEMO_TEST_ID} AND e.event = 'purchase'
GROUP BY a.variant;

-- name: c_user_variant
SELECT variant
FROM user_assignments
WHERE test_id = {DEMO_TEST_ID} AND user_id = {user_id};

-- name: d_last_hour_events
SELECT event, COUNT(*) AS events, SUM(value) AS value
FROM conversion_events
WHERE timestamp >= '{LAST_HOUR}'
GROUP BY event;
"""


def build_database(path: Path, rows: int = DEFAULT_ROWS,
                   progress: Progress | None = None) -> int:
    """Write the demo database to `path` (atomically); returns the user id query (c) uses."""
    report = progress or (lambda fraction, message: None)
    rng = random.Random(SEED)
    users = max(10, rows // 5)
    per_test = max(2, min(users, rows // TESTS))
    start_epoch = END_EPOCH - SPAN_DAYS * 86400
    span = SPAN_DAYS * 86400

    report(0.0, "generating assignments")
    assignments: list[tuple[int, int, str, int]] = []
    for test_id in range(1, TESTS + 1):
        variants = VARIANTS[: 2 + rng.randrange(3)]
        for user_id in rng.sample(range(1, users + 1), per_test):
            assignments.append((test_id, user_id, rng.choice(variants),
                                start_epoch + rng.randrange(span)))
    rng.shuffle(assignments)
    probe_user = next(a[1] for a in assignments if a[0] == DEMO_TEST_ID)

    tmp = path.with_name(path.name + ".building")
    for leftover in (tmp, Path(str(tmp) + "-journal")):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO user_assignments VALUES (?, ?, ?, datetime(?, 'unixepoch'))",
            assignments,
        )
        conn.execute("COMMIT")
        report(0.25, f"wrote {len(assignments):,} assignments")

        names = [name for name, _weight in EVENTS]
        weights = [weight for _name, weight in EVENTS]
        total_events = rows * 3
        chunk = 250_000
        written = 0
        while written < total_events:
            count = min(chunk, total_events - written)
            kinds = rng.choices(names, weights, k=count)
            batch: list[tuple[Any, ...]] = []
            for kind in kinds:
                test_id, user_id, _variant, assigned = assignments[rng.randrange(len(assignments))]
                value = round(rng.uniform(5, 200), 2) if kind == "purchase" else 0.0
                moment = assigned + rng.randrange(max(1, END_EPOCH - assigned))
                batch.append((test_id, user_id, kind, value, moment))
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO conversion_events VALUES (?, ?, ?, ?, datetime(?, 'unixepoch'))",
                batch,
            )
            conn.execute("COMMIT")
            written += count
            report(0.25 + 0.75 * written / total_events, f"wrote {written:,} events")
        # Leave the file as an unoptimized application would: rollback journal, no
        # indexes, no statistics.
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    os.replace(tmp, path)
    return probe_user


CACHE_LAYOUT = {
    "shop/__pycache__/models.cpython-311.pyc": 48_000,
    "shop/__pycache__/views.cpython-311.pyc": 36_000,
    "shop/api/__pycache__/routes.cpython-311.pyc": 22_000,
    "shop/legacy/compat.pyc": 9_000,
    "tests/__pycache__/test_models.cpython-311-pytest-8.3.2.pyc": 64_000,
    ".pytest_cache/v/cache/lastfailed": 2_000,
    ".pytest_cache/v/cache/nodeids": 12_000,
    ".mypy_cache/3.11/shop/models.data.json": 150_000,
    ".ruff_cache/0.6.0/123456789": 4_000,
}
KEEP_LAYOUT = {
    "shop/models.py": 3_000,
    "shop/views.py": 2_000,
    "shop/notes.pyc.txt": 500,  # looks like a cache, is not one
    "README.md": 800,
}


def populate_root(root: Path, age_seconds: float = 3600.0) -> int:
    """Put (back) the demo's cache files, aged past the cleaner's minimum; returns bytes."""
    total = 0
    old = time.time() - age_seconds
    for relative, size in {**CACHE_LAYOUT, **KEEP_LAYOUT}.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(bytes(size))
        os.utime(target, (old, old))
        if relative in CACHE_LAYOUT:
            total += size
    for folder in sorted({p for r in CACHE_LAYOUT for p in (root / r).parents if root in p.parents},
                         key=lambda p: len(p.parts), reverse=True):
        os.utime(folder, (old, old))
    return total


def workspace_ready(folder: Path, rows: int) -> bool:
    """Whether `folder` already holds a demo workspace of `rows` rows."""
    marker = folder / ".rows"
    try:
        return ((folder / DB_NAME).exists() and (folder / WORKLOAD_NAME).exists()
                and marker.read_text().strip() == str(rows))
    except OSError:
        return False


def ensure_workspace(folder: Path, rows: int = DEFAULT_ROWS,
                     progress: Progress | None = None) -> DemoWorkspace:
    """Build the demo workspace in `folder` unless it is already there; reuse it if it is."""
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    database = folder / DB_NAME
    workload = folder / WORKLOAD_NAME
    marker = folder / ".rows"
    built = False
    started = time.perf_counter()
    if not workspace_ready(folder, rows):
        user = build_database(database, rows, progress)
        workload.write_text(workload_sql(user), encoding="utf-8")
        marker.write_text(str(rows))
        built = True
    populate_root(folder / ROOT_NAME)
    return DemoWorkspace(folder, database, workload, folder / ROOT_NAME,
                         folder / "monitoring.db", rows, built,
                         time.perf_counter() - started)


class DemoService:
    """A small HTTP service on loopback, for the Endpoints pane to watch."""

    def __init__(self, database: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.database = database
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = service.respond(urlsplit(self.path).path)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="luciq-demo-http",
                                       daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, path: str) -> tuple[int, str]:
        if path == "/health":
            return 200, "ok\n"
        if path.startswith("/api/results/"):
            try:
                test_id = int(path.rsplit("/", 1)[1])
            except ValueError:
                return 400, "test id must be a number\n"
            return self._results(test_id)
        return 404, "not found\n"

    def _results(self, test_id: int) -> tuple[int, str]:
        """Query (b) for one test: its latency is the database's, measured by the probe."""
        uri = f"{self.database.resolve().as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=5.0)
            try:
                rows = conn.execute(
                    "SELECT a.variant, COUNT(*), SUM(e.value) FROM conversion_events AS e "
                    "JOIN user_assignments AS a ON a.test_id = e.test_id "
                    "AND a.user_id = e.user_id WHERE e.test_id = ? AND e.event = 'purchase' "
                    "GROUP BY a.variant", (test_id,)).fetchall()
            finally:
                conn.close()
        except sqlite3.Error as error:
            return 503, f"database error: {error}\n"
        return 200, "".join(f"{variant}\t{count}\t{value or 0:.2f}\n"
                            for variant, count, value in rows)

    def start(self) -> DemoService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def demo_config(workspace: DemoWorkspace, service_url: str | None, base: Config) -> Config:
    """The config the dashboard uses on the demo workspace."""
    from dataclasses import replace

    endpoints: tuple[EndpointConfig, ...] = ()
    if service_url:
        endpoints = (
            EndpointConfig("health", f"{service_url}/health", timeout=2.0),
            EndpointConfig("results", f"{service_url}/api/results/{DEMO_TEST_ID}", timeout=5.0),
        )
    return replace(
        base,
        store=base.store or workspace.store,
        databases=(DatabaseConfig("secure_ab_testing", workspace.database, workspace.workload),
                   *base.databases),
        endpoints=endpoints + base.endpoints,
        filesystem_roots=(workspace.root, *base.filesystem_roots),
        relief_command=base.relief_command or ("sync",),
    )
