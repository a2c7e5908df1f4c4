"""The database optimizer: inspects SQLite files read-only and applies what persists.

Inspection opens each file with `mode=ro` and a busy timeout, so the application's writers
are never blocked and no byte of the file changes. It never scans a table: row counts come
from `sqlite_stat1` or `max(rowid)`. Actions open a read-write connection only after the
operator confirmed the exact SQL.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from luciq_tui.core.config import DatabaseConfig
from luciq_tui.core.maintenance import (
    PROGRESS_OPS,
    Cancelled,
    backup,
    backup_path,
    checkpoint,
    create_indexes,
    vacuum,
    watched,
)
from luciq_tui.core.optimizer import (
    ActionRefused,
    ActionResult,
    ActionSpec,
    Optimizer,
    Preview,
    ProgressCallback,
)
from luciq_tui.core.workload import WorkloadError, WorkloadQuery, load_workload

if TYPE_CHECKING:
    from luciq_tui.core.advisor import Advice

SQLITE_HEADER = b"SQLite format 3\x00"
NETWORK_FILESYSTEMS = {
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "fuse.sshfs", "9p", "ceph", "glusterfs",
    "fuse.glusterfs", "afs", "lustre", "fuse.s3fs", "davfs", "fuse.rclone",
}
BUSY_TIMEOUT_MS = 2000
PER_CONNECTION_SNIPPET = (
    "PRAGMA synchronous=NORMAL;   -- safe with WAL; may lose the last commits on power loss",
    "PRAGMA cache_size=-65536;    -- 64 MiB page cache for this connection",
    "PRAGMA temp_store=MEMORY;",
    "PRAGMA busy_timeout=5000;",
)
SEVERITY_ORDER = {"ok": 0, "info": 1, "warning": 2, "critical": 3, "error": 4}


def quote_identifier(name: str) -> str:
    """Quote an SQL identifier: every name Luciq puts into SQL goes through here."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class TableInfo:
    name: str
    kind: str  # table, view, virtual
    rows: int | None
    rows_source: str  # "sqlite_stat1", "max(rowid)", ""
    without_rowid: bool = False
    rowid_max: int | None = None  # a cheap upper bound on rows, to tell stale statistics

    @property
    def stale(self) -> bool:
        """sqlite_stat1's row count is about 10× off from the table's size now."""
        if self.rows_source != "sqlite_stat1" or self.rows is None or self.rowid_max is None:
            return False
        low, high = sorted((max(1, self.rows), max(1, self.rowid_max)))
        return high >= 10 * low and high - low >= 1000


@dataclass(frozen=True)
class IndexInfo:
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool
    partial: bool
    origin: str  # c (CREATE INDEX), u (UNIQUE constraint), pk
    has_stats: bool
    redundant_with: str | None = None
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryPlan:
    name: str
    sql: str
    plan: tuple[str, ...]
    flags: tuple[str, ...]
    indexes_used: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Finding:
    severity: str  # info, warning, critical
    title: str
    evidence: str
    fix: str  # the action name that fixes it, or advice


@dataclass(frozen=True)
class QueryTiming:
    """One run of one workload query: wall-clock ms, or None when it ran out of budget."""

    name: str
    ms: float | None
    rows: int
    error: str | None = None


@dataclass(frozen=True)
class IntegrityResult:
    ok: bool
    kind: str  # quick_check or integrity_check
    problems: tuple[str, ...]
    timestamp: float


@dataclass(frozen=True)
class DatabaseInfo:
    """Everything one inspection found about one database (or why it could not look)."""

    name: str
    path: Path
    error: str | None = None
    size_bytes: int = 0
    wal_bytes: int = 0
    shm_bytes: int = 0
    page_size: int = 0
    page_count: int = 0
    freelist_count: int = 0
    journal_mode: str = ""
    auto_vacuum: int = 0
    user_version: int = 0
    sqlite_version: str = sqlite3.sqlite_version
    filesystem: str = ""
    network_filesystem: bool = False
    has_stat1: bool = False
    tables: tuple[TableInfo, ...] = ()
    indexes: tuple[IndexInfo, ...] = ()
    workload: tuple[QueryPlan, ...] = ()
    workload_error: str | None = None
    findings: tuple[Finding, ...] = ()
    inspected_ms: float = 0.0
    timings: tuple[QueryTiming, ...] = ()
    integrity: IntegrityResult | None = None
    advice: Advice | None = None

    def timing(self, query: str) -> QueryTiming | None:
        return next((t for t in self.timings if t.name == query), None)

    @property
    def free_percent(self) -> float:
        return 100.0 * self.freelist_count / self.page_count if self.page_count else 0.0

    @property
    def health(self) -> str:
        """The worst finding's severity: ok, info, warning, critical or error."""
        if self.error:
            return "error"
        worst = "ok"
        for finding in self.findings:
            if SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER[worst]:
                worst = finding.severity
        return worst


@dataclass(frozen=True)
class DatabaseSnapshot:
    databases: tuple[DatabaseInfo, ...] = field(default_factory=tuple)
    timestamp: float = 0.0

    def get(self, name: str) -> DatabaseInfo | None:
        return next((db for db in self.databases if db.name == name), None)


def check_database_file(path: Path) -> str | None:
    """Why `path` cannot be inspected as a SQLite database, or None if it looks like one."""
    try:
        if not path.exists():
            return f"{path}: not found; check the path in the config"
        if path.is_dir():
            return f"{path}: is a directory, not a database file"
        size = path.stat().st_size
        if size == 0:
            return f"{path}: empty file (0 bytes), not a SQLite database"
        with path.open("rb") as handle:
            header = handle.read(100)
    except PermissionError:
        return f"{path}: permission denied; run Luciq as a user that can read it"
    except OSError as error:
        return f"{path}: cannot read: {error.strerror or error}"
    if not header.startswith(SQLITE_HEADER):
        return f"{path}: not a SQLite database (the file does not start with 'SQLite format 3')"
    if len(header) < 100:
        return f"{path}: truncated: shorter than a SQLite header"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages_in_header = int.from_bytes(header[28:32], "big")
    if page_size and pages_in_header and size < page_size * pages_in_header:
        wal = Path(str(path) + "-wal")
        if not wal.exists():
            return (
                f"{path}: truncated: the header says {pages_in_header} pages of {page_size} bytes "
                f"but the file holds {size} bytes; restore it from a backup"
            )
    return None


def explain_sqlite_error(path: Path, error: sqlite3.Error) -> str:
    """A plain sentence for an SQLite error on `path`, with what to do about it."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"{path}: database is locked by another connection; Luciq will try again"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (
            f"{path}: corrupt ({text}); Luciq changed nothing; restore from a backup or "
            "recover a copy with `sqlite3 FILE .recover`"
        )
    if "unable to open" in text:
        return f"{path}: cannot open ({text}); check permissions on the file and its folder"
    if "readonly" in text or "read-only" in text:
        return f"{path}: read-only ({text}); the action needs write access to the file and folder"
    return f"{path}: {text}"


def filesystem_of(path: Path) -> str:
    """The filesystem type holding `path` (longest matching mount point)."""
    try:
        target = str(path.resolve())
    except OSError:
        return ""
    best, fstype = "", ""
    try:
        partitions = psutil.disk_partitions(all=True)
    except OSError:
        return ""
    for part in partitions:
        mount = part.mountpoint.rstrip("/") or "/"
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best):
            best, fstype = mount, part.fstype
    return fstype


def open_readonly(path: Path) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def open_readwrite(path: Path) -> sqlite3.Connection:
    """A read-write connection to an existing file (never creates one)."""
    uri = f"{path.resolve().as_uri()}?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False,
                           isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _bind_count(conn: sqlite3.Connection, sql: str) -> int:
    """How many positional parameters a statement takes (they are bound to NULL)."""
    try:
        conn.execute(f"EXPLAIN QUERY PLAN {sql}")
        return 0
    except sqlite3.ProgrammingError as error:
        words = str(error).split()
        for index, word in enumerate(words):
            if word == "uses" and index + 1 < len(words):
                return int(words[index + 1].rstrip(","))
        raise


def explain(conn: sqlite3.Connection, query: WorkloadQuery) -> QueryPlan:
    """`EXPLAIN QUERY PLAN` as an indented tree, with the flags that signal missing indexes."""
    try:
        params = [None] * _bind_count(conn, query.sql)
        rows = conn.execute(f"EXPLAIN QUERY PLAN {query.sql}", params).fetchall()
    except (sqlite3.Error, ValueError) as error:
        return QueryPlan(query.name, query.sql, (), (), (), error=str(error))
    depth: dict[int, int] = {0: -1}
    lines = []
    flags: list[str] = []
    used: list[str] = []
    for node, parent, _unused, detail in rows:
        level = depth.get(parent, -1) + 1
        depth[node] = level
        lines.append("  " * level + str(detail))
        text = str(detail)
        if (text.startswith("SCAN ") and not text.startswith("SCAN CONSTANT")
                and " USING " not in text):
            flags.append("SCAN")
        if "USE TEMP B-TREE" in text:
            flags.append("TEMP B-TREE")
        if "AUTOMATIC" in text:
            flags.append("AUTOMATIC INDEX")
        marker = " USING COVERING INDEX " if " USING COVERING INDEX " in text else " USING INDEX "
        if marker in text and "AUTOMATIC" not in text:
            name = text.split(marker, 1)[1].split(" (", 1)[0].strip()
            used.append(name)
    return QueryPlan(query.name, query.sql, tuple(lines), tuple(dict.fromkeys(flags)),
                     tuple(dict.fromkeys(used)))


def time_workload(
    path: Path, workload: Sequence[QueryPlan], budget_s: float
) -> tuple[QueryTiming, ...]:
    """Run each workload query once on a read-only connection, timed; a query still running
    after `budget_s` is interrupted and reported without a time."""
    timings = []
    try:
        conn = open_readonly(path)
    except sqlite3.Error as error:
        return tuple(QueryTiming(plan.name, None, 0, str(error)) for plan in workload)
    try:
        for plan in workload:
            if plan.error:
                timings.append(QueryTiming(plan.name, None, 0, plan.error))
                continue
            deadline = time.perf_counter() + budget_s

            def over_budget(deadline: float = deadline) -> int:
                return int(time.perf_counter() > deadline)

            conn.set_progress_handler(over_budget, PROGRESS_OPS)
            started = time.perf_counter()
            try:
                params = [None] * _bind_count(conn, plan.sql)
                rows = len(conn.execute(plan.sql, params).fetchall())
            except sqlite3.OperationalError as error:
                text = ("over its time budget of "
                        f"{budget_s:g} s") if "interrupt" in str(error) else str(error)
                timings.append(QueryTiming(plan.name, None, 0, text))
                continue
            except (sqlite3.Error, ValueError) as error:
                timings.append(QueryTiming(plan.name, None, 0, str(error)))
                continue
            timings.append(QueryTiming(plan.name, (time.perf_counter() - started) * 1000, rows))
    finally:
        conn.set_progress_handler(None, 0)
        conn.close()
    return tuple(timings)


def _index_columns(conn: sqlite3.Connection, index: str) -> tuple[tuple[str, str, int], ...]:
    columns = []
    for _seqno, cid, name, desc, coll, key in conn.execute(
        "SELECT seqno, cid, name, desc, coll, key FROM pragma_index_xinfo(?)", (index,)
    ):
        if not key:
            continue
        label = name if name is not None else ("rowid" if cid == -1 else "<expression>")
        columns.append((label, coll or "BINARY", int(desc)))
    return tuple(columns)


def inspect_database(
    config: DatabaseConfig, workload: Sequence[WorkloadQuery] | None = None
) -> DatabaseInfo:
    """Inspect one database read-only. Never raises for a bad file: the error is reported."""
    started = time.perf_counter()
    path = config.path
    problem = check_database_file(path)
    if problem:
        return DatabaseInfo(config.name, path, error=problem)
    workload_error = None
    if workload is None and config.workload is not None:
        try:
            workload = load_workload(config.workload)
        except WorkloadError as error:
            workload_error = str(error)
    try:
        conn = open_readonly(path)
    except sqlite3.Error as error:
        return DatabaseInfo(config.name, path, error=explain_sqlite_error(path, error))
    try:
        info = _inspect(conn, config, workload or (), workload_error)
    except sqlite3.Error as error:
        return DatabaseInfo(config.name, path, error=explain_sqlite_error(path, error))
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    return _with_findings(info, elapsed)


def _pragma(conn: sqlite3.Connection, name: str) -> Any:
    row = conn.execute(f"PRAGMA {name}").fetchone()
    return row[0] if row else None


def _inspect(
    conn: sqlite3.Connection,
    config: DatabaseConfig,
    workload: Sequence[WorkloadQuery],
    workload_error: str | None,
) -> DatabaseInfo:
    path = config.path
    schema = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name"
    ).fetchall()
    names = {row[1] for row in schema}
    has_stat1 = "sqlite_stat1" in names
    stat_rows: dict[tuple[str, str | None], str] = {}
    if has_stat1:
        for tbl, idx, stat in conn.execute("SELECT tbl, idx, stat FROM sqlite_stat1"):
            stat_rows[(tbl, idx)] = stat
    tables = []
    for kind, name, _tbl, sql in schema:
        if name.startswith("sqlite_") or kind not in ("table", "view"):
            continue
        sql_text = (sql or "").upper()
        if kind == "view":
            tables.append(TableInfo(name, "view", None, ""))
            continue
        if sql_text.startswith("CREATE VIRTUAL TABLE"):
            tables.append(TableInfo(name, "virtual", None, ""))
            continue
        without_rowid = "WITHOUT ROWID" in sql_text
        bound = None
        if not without_rowid:  # O(log n): the rowid b-tree's last entry
            row = conn.execute(f"SELECT max(rowid) FROM {quote_identifier(name)}").fetchone()
            bound = int(row[0]) if row and row[0] is not None else 0
        rows, source = _estimate_rows(name, bound, stat_rows)
        tables.append(TableInfo(name, "table", rows, source, without_rowid, bound))

    indexes = []
    for table in tables:
        if table.kind != "table":
            continue
        for _seq, index, unique, origin, partial in conn.execute(
            "SELECT seq, name, \"unique\", origin, partial FROM pragma_index_list(?)",
            (table.name,),
        ):
            columns = _index_columns(conn, index)
            indexes.append((table.name, index, bool(unique), str(origin), bool(partial), columns))

    plans = tuple(explain(conn, query) for query in workload)
    used: dict[str, list[str]] = {}
    for plan in plans:
        for index in plan.indexes_used:
            used.setdefault(index, []).append(plan.name)

    index_infos = []
    for table_name, index, unique, origin, partial, columns in indexes:
        redundant = None
        for other_table, other, other_unique, _o, other_partial, other_columns in indexes:
            if other == index or other_table != table_name or other_partial or partial:
                continue
            is_prefix = other_columns[: len(columns)] == columns
            if not is_prefix or (unique and not (other_unique and other_columns == columns)):
                continue
            if len(other_columns) > len(columns) or other < index:
                redundant = other
                break
        index_infos.append(IndexInfo(
            name=index,
            table=table_name,
            columns=tuple(f"{name}{' DESC' if desc else ''}" for name, _c, desc in columns),
            unique=unique,
            partial=partial,
            origin=origin,
            has_stats=(table_name, index) in stat_rows,
            redundant_with=redundant,
            used_by=tuple(used.get(index, ())),
        ))

    wal = Path(str(path) + "-wal")
    shm = Path(str(path) + "-shm")
    fstype = filesystem_of(path)
    return DatabaseInfo(
        name=config.name,
        path=path,
        size_bytes=path.stat().st_size,
        wal_bytes=wal.stat().st_size if wal.exists() else 0,
        shm_bytes=shm.stat().st_size if shm.exists() else 0,
        page_size=int(_pragma(conn, "page_size") or 0),
        page_count=int(_pragma(conn, "page_count") or 0),
        freelist_count=int(_pragma(conn, "freelist_count") or 0),
        journal_mode=str(_pragma(conn, "journal_mode") or ""),
        auto_vacuum=int(_pragma(conn, "auto_vacuum") or 0),
        user_version=int(_pragma(conn, "user_version") or 0),
        sqlite_version=sqlite3.sqlite_version,
        filesystem=fstype,
        network_filesystem=fstype in NETWORK_FILESYSTEMS,
        has_stat1=has_stat1,
        tables=tuple(tables),
        indexes=tuple(index_infos),
        workload=plans,
        workload_error=workload_error,
    )


def _estimate_rows(
    table: str, rowid_max: int | None, stat_rows: dict[tuple[str, str | None], str]
) -> tuple[int | None, str]:
    """Rows from sqlite_stat1 when it has the table, else max(rowid) as an upper bound."""
    for (tbl, _idx), stat in stat_rows.items():
        if tbl == table:
            return int(stat.split()[0]), "sqlite_stat1"
    if rowid_max is None:
        return None, ""
    return rowid_max, "max(rowid)"


def _with_findings(info: DatabaseInfo, elapsed_ms: float) -> DatabaseInfo:
    return replace(info, findings=tuple(findings_for(info)), inspected_ms=elapsed_ms)


def findings_for(info: DatabaseInfo) -> Iterable[Finding]:
    """What is wrong with a database, each with its evidence and its fix."""
    if info.network_filesystem:
        yield Finding("critical", "on a network filesystem",
                      f"{info.path} is on {info.filesystem}; WAL's shared memory does not work "
                      "across hosts", "move the database to a local disk")
    if info.journal_mode.lower() != "wal":
        yield Finding("warning", "not in WAL mode",
                      f"journal_mode={info.journal_mode}: readers and the writer block each "
                      "other", "enable_wal")
    big = [t for t in info.tables if t.kind == "table" and (t.rows or 0) >= 1000]
    if big and not info.has_stat1:
        yield Finding("warning", "no statistics",
                      "sqlite_stat1 is missing: the planner guesses table and index sizes",
                      "analyze")
    elif info.has_stat1:
        stale = [t for t in info.tables if t.stale]
        if stale:
            yield Finding("warning", "stale statistics",
                          "; ".join(f"{t.name}: sqlite_stat1 says {t.rows:,} rows, max(rowid) "
                                    f"is {t.rowid_max:,}" for t in stale[:3]), "analyze")
        missing = [i.name for i in info.indexes if not i.has_stats]
        if missing:
            yield Finding("info", "indexes without statistics",
                          f"no sqlite_stat1 row for {', '.join(missing[:5])}", "analyze")
    for plan in info.workload:
        if plan.error:
            yield Finding("warning", f"query {plan.name} does not prepare", plan.error,
                          "fix the workload file")
        elif plan.flags:
            yield Finding("warning", f"query {plan.name}: {', '.join(plan.flags)}",
                          " / ".join(line.strip() for line in plan.plan),
                          "create an index (see the advisor)")
    for index in info.indexes:
        if index.redundant_with:
            yield Finding("info", f"index {index.name} is redundant",
                          f"its columns are a left prefix of {index.redundant_with}",
                          "drop it (after a backup)")
    if info.free_percent >= 20:
        yield Finding("info", "many free pages",
                      f"{info.freelist_count} of {info.page_count} pages free "
                      f"({info.free_percent:.0f} %)", "vacuum")
    if info.workload_error:
        yield Finding("warning", "workload file unreadable", info.workload_error,
                      "fix the workload path in the config")


# Offered for every readable database: (name, title, key, description).
ALWAYS_OFFERED = (
    ("analyze", "ANALYZE", "a", "Gather planner statistics (sqlite_stat1) for every index."),
    ("integrity", "Integrity check", "i", "PRAGMA quick_check on a read-only connection."),
    ("integrity_full", "Full integrity check", "I",
     "PRAGMA integrity_check: also checks every index against its table (slower)."),
    ("vacuum", "VACUUM", "v", "Rebuild the file without free pages (blocks writers while it "
     "runs)."),
    ("backup", "Back up", "b", "Copy the live database with SQLite's online backup API."),
)


class DatabaseOptimizer(Optimizer[DatabaseSnapshot]):
    """Inspects every configured database, times its workload now and then, advises indexes
    and carries out the actions that fix what it found."""

    name = "database"

    def __init__(
        self,
        databases: Sequence[DatabaseConfig],
        interval: float = 10.0,
        workload_interval: float = 60.0,
        query_budget_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.databases = tuple(databases)
        self.interval = interval
        self.workload_interval = workload_interval
        self.query_budget_s = query_budget_s
        self.clock = clock
        self._latest = DatabaseSnapshot()
        self._timed_at: dict[str, float] = {}
        self._timings: dict[str, tuple[QueryTiming, ...]] = {}
        self._integrity: dict[str, IntegrityResult] = {}
        self._advice: dict[str, Advice] = {}
        self.backup_dir: Path | None = None

    def _config(self, name: str) -> DatabaseConfig:
        for config in self.databases:
            if config.name == name:
                return config
        raise ActionRefused(f"no database named {name!r} is configured")

    def observe(self) -> DatabaseSnapshot:
        infos = []
        for config in self.databases:
            info = inspect_database(config)
            if info.error is None and info.workload and self._timing_due(config.name):
                self._timings[config.name] = time_workload(info.path, info.workload,
                                                           self.query_budget_s)
            infos.append(replace(info, timings=self._timings.get(config.name, ()),
                                 integrity=self._integrity.get(config.name),
                                 advice=self._advice.get(config.name)))
        snapshot = DatabaseSnapshot(tuple(infos), time.time())
        self._latest = snapshot
        return snapshot

    def _timing_due(self, name: str) -> bool:
        """Time the workload at most once per `workload_interval` (0 turns it off): it loads
        the monitored database, so it runs far less often than the cheap inspection."""
        if self.workload_interval <= 0:
            return False
        now = self.clock()
        last = self._timed_at.get(name)
        if last is not None and now - last < self.workload_interval:
            return False
        self._timed_at[name] = now
        return True

    def metrics(self, snapshot: DatabaseSnapshot) -> dict[str, float]:
        values: dict[str, float] = {}
        for db in snapshot.databases:
            values[f"db.{db.name}.ok"] = 0.0 if db.error else 1.0
            if db.error:
                continue
            values[f"db.{db.name}.size_bytes"] = float(db.size_bytes)
            values[f"db.{db.name}.wal_bytes"] = float(db.wal_bytes)
            values[f"db.{db.name}.free_percent"] = db.free_percent
            for timing in db.timings:
                if timing.ms is not None:
                    values[f"db.{db.name}.query.{timing.name}.ms"] = timing.ms
            if db.integrity is not None:
                values[f"db.{db.name}.integrity_ok"] = 1.0 if db.integrity.ok else 0.0
        return values

    def actions(self, snapshot: DatabaseSnapshot | None) -> tuple[ActionSpec, ...]:
        snapshot = snapshot or self._latest
        specs = []
        for config in self.databases:
            info = snapshot.get(config.name)
            broken = info is None or info.error is not None
            reason = (info.error or "") if info is not None else "not inspected yet"
            wal = info is not None and info.journal_mode.lower() == "wal"
            specs.append(ActionSpec(
                self.name, "enable_wal", "Enable WAL", "w", config.name,
                "Switch the journal to write-ahead logging (persists in the file).",
                available=not broken and not wal and not (info and info.network_filesystem),
                reason=reason if broken else ("already in WAL mode" if wal else
                                              "on a network filesystem"),
            ))
            specs.extend(ActionSpec(self.name, name, title, key, config.name, description,
                                    available=not broken, reason=reason)
                         for name, title, key, description in ALWAYS_OFFERED)
            has_workload = bool(info and info.workload)
            specs.append(ActionSpec(
                self.name, "advise", "Advise indexes", "x", config.name,
                "Test candidate indexes with the planner on true statistics and measure them "
                "on a scratch copy (never the live file).",
                available=not broken and has_workload,
                reason=reason if broken else "no workload for this database",
            ))
            advice = self._advice.get(config.name)
            specs.append(ActionSpec(
                self.name, "create_indexes", "Create recommended indexes", "n", config.name,
                "Create the indexes the advisor recommends, then ANALYZE them.",
                available=not broken and advice is not None and bool(advice.indexes),
                reason=reason if broken else ("run Advise indexes (x) first" if advice is None
                                              else "the advisor recommends no index"),
            ))
            drop = self._drop_target(config.name, info)
            specs.append(ActionSpec(
                self.name, "drop_index", "Drop redundant index", "d", config.name,
                f"Drop {drop[0]}: {drop[1]}" if drop else "Drop an index nothing needs.",
                available=not broken and drop is not None,
                reason=reason if broken else "no redundant or unused index found",
            ))
            specs.append(ActionSpec(
                self.name, "checkpoint", "Checkpoint WAL", "k", config.name,
                "PRAGMA wal_checkpoint(TRUNCATE): fold the WAL back into the file.",
                available=not broken and wal,
                reason=reason if broken else "not in WAL mode",
            ))
        return tuple(specs)

    def adopt_advice(self, name: str, advice: Advice) -> None:
        """Use `advice` (from `advisor.advise`) as this database's recommendation, as the
        Advise action would; `optimize` and the benches advise outside the action."""
        self._config(name)
        self._advice[name] = advice

    def _drop_target(self, name: str, info: DatabaseInfo | None) -> tuple[str, str] | None:
        """The index to offer dropping: the advisor's first suggestion, else a redundant one."""
        advice = self._advice.get(name)
        if advice is not None and advice.drops:
            return advice.drops[0].index, advice.drops[0].reason
        for index in (info.indexes if info else ()):
            if index.redundant_with and not index.unique and index.origin == "c":
                return index.name, f"a left prefix of {index.redundant_with}"
        return None

    def preview(self, action: ActionSpec) -> Preview:
        config = self._config(action.target)
        problem = check_database_file(config.path)
        if problem:
            raise ActionRefused(problem)
        size = config.path.stat().st_size
        warnings = [f"Back up {config.path} first if it holds data you cannot rebuild."]
        if action.name == "enable_wal":
            fstype = filesystem_of(config.path)
            if fstype in NETWORK_FILESYSTEMS:
                raise ActionRefused(f"{config.path} is on {fstype}: WAL is unsafe there")
            return Preview(
                action=action,
                summary=f"Switch {config.name} to write-ahead logging",
                details=(f"-- {config.path}", "PRAGMA journal_mode=WAL;"),
                cost="needs a moment with no other connection reading; retried for 10 s",
                warnings=(
                    *warnings,
                    "Every process using the file must be on this host. Keep the -wal and "
                    "-shm files with the database: never copy or delete them apart.",
                    "Per-connection settings do not persist; the application should run:",
                    *PER_CONNECTION_SNIPPET,
                ),
                payload=(str(config.path),),
            )
        if action.name == "analyze":
            return Preview(
                action=action,
                summary=f"Gather planner statistics for {config.name}",
                details=(f"-- {config.path}", "ANALYZE;"),
                cost=f"reads every index in full ({size / 2**20:.0f} MiB file); "
                     "holds a write lock while it runs; Esc cancels",
                warnings=(
                    *warnings,
                    "Connections the application already holds do not see new statistics "
                    "until they reconnect or run `ANALYZE sqlite_schema`.",
                    f"SQLite here is {sqlite3.sqlite_version}"
                    + ("; `PRAGMA optimize` from a fresh connection does nothing before 3.46, "
                       "so Luciq runs ANALYZE." if sqlite3.sqlite_version_info < (3, 46) else ""),
                ),
                payload=(str(config.path),),
            )
        if action.name in ("advise", "create_indexes", "drop_index", "checkpoint", "vacuum",
                           "backup"):
            return self._preview_more(action, config, size, warnings)
        if action.name in ("integrity", "integrity_full"):
            pragma = "quick_check" if action.name == "integrity" else "integrity_check"
            return Preview(
                action=action,
                summary=f"Check {config.name} for corruption ({pragma})",
                details=(f"-- {config.path}, read-only connection", f"PRAGMA {pragma};"),
                cost=f"reads the whole file ({size / 2**20:.0f} MiB); changes nothing; "
                     "Esc cancels",
                payload=(str(config.path),),
            )
        raise ActionRefused(f"unknown database action {action.name!r}")

    def _integrity_check(
        self, config: DatabaseConfig, preview: Preview, cancel: threading.Event,
        progress: ProgressCallback,
    ) -> ActionResult:
        try:
            conn = open_readonly(config.path)
        except sqlite3.Error as error:
            raise ActionRefused(explain_sqlite_error(config.path, error)) from error
        pragma = "quick_check" if preview.action.name == "integrity" else "integrity_check"
        try:
            with watched(conn, pragma, progress, cancel):
                rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}")]
        except Cancelled:
            return ActionResult(preview.action, False, "cancelled; nothing checked",
                                cancelled=True)
        except sqlite3.DatabaseError as error:
            rows = [explain_sqlite_error(config.path, error)]
        finally:
            conn.close()
        ok = rows == ["ok"]
        result = IntegrityResult(ok, pragma, () if ok else tuple(rows[:20]), time.time())
        self._integrity[config.name] = result
        summary = f"{pragma}: ok" if ok else f"{pragma} found {len(rows)} problem(s)"
        return ActionResult(preview.action, ok, summary, after={"problems": list(result.problems)},
                            output="\n".join(result.problems))

    def execute(
        self, preview: Preview, progress: ProgressCallback, cancel: threading.Event
    ) -> ActionResult:
        action = preview.action
        config = self._config(action.target)
        path = Path(str(preview.payload[0]))
        if path != config.path:
            raise ActionRefused("the preview no longer matches the configuration")
        problem = check_database_file(path)
        if problem:
            raise ActionRefused(problem)
        if action.name in ("integrity", "integrity_full"):
            return self._integrity_check(config, preview, cancel, progress)
        if action.name == "advise":
            return self._advise(config, preview, progress, cancel)
        if action.name == "backup":
            return self._backup(config, preview, progress, cancel)
        try:
            conn = open_readwrite(path)
        except sqlite3.Error as error:
            raise ActionRefused(explain_sqlite_error(path, error)) from error
        try:
            if action.name == "enable_wal":
                return self._enable_wal(conn, preview, progress, cancel)
            if action.name == "analyze":
                return self._analyze(conn, config, preview, progress, cancel)
            if action.name in ("create_indexes", "drop_index", "checkpoint", "vacuum"):
                return self._change(conn, config, preview, progress, cancel)
        except Cancelled:
            return ActionResult(preview.action, False, "cancelled; SQLite rolled the "
                                "unfinished statement back", cancelled=True)
        except sqlite3.Error as error:
            raise ActionRefused(explain_sqlite_error(path, error)) from error
        finally:
            conn.close()
        raise ActionRefused(f"unknown database action {action.name!r}")

    def _enable_wal(
        self,
        conn: sqlite3.Connection,
        preview: Preview,
        progress: ProgressCallback,
        cancel: threading.Event,
    ) -> ActionResult:
        before = str(_pragma(conn, "journal_mode"))
        deadline = time.monotonic() + 10.0
        attempt = 0
        while True:
            attempt += 1
            progress(None, f"switching journal mode (attempt {attempt})")
            try:
                after = str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                if cancel.wait(0.5):
                    return ActionResult(preview.action, False, "cancelled before the switch",
                                        before={"journal_mode": before}, cancelled=True)
        ok = after.lower() == "wal"
        summary = f"journal_mode {before} → {after}" + ("" if ok else " (not switched)")
        return ActionResult(preview.action, ok, summary, before={"journal_mode": before},
                            after={"journal_mode": after})

    def _analyze(
        self,
        conn: sqlite3.Connection,
        config: DatabaseConfig,
        preview: Preview,
        progress: ProgressCallback,
        cancel: threading.Event,
    ) -> ActionResult:
        before_info = inspect_database(config)
        started = time.perf_counter()
        try:
            with watched(conn, "ANALYZE", progress, cancel):
                conn.execute("ANALYZE")
        except Cancelled:
            return ActionResult(preview.action, False, "cancelled; nothing changed "
                                "(ANALYZE rolled back)", cancelled=True)
        duration = time.perf_counter() - started
        stat_rows = conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0]
        after_info = inspect_database(config)
        changed = [
            after.name for before, after in zip(before_info.workload, after_info.workload,
                                                strict=False)
            if before.plan != after.plan
        ]
        summary = (f"sqlite_stat1 now has {stat_rows} rows; {len(changed)} of "
                   f"{len(after_info.workload)} workload plans changed")
        return ActionResult(
            preview.action, True, summary,
            before={"stat1": before_info.has_stat1,
                    "plans": {p.name: list(p.flags) for p in before_info.workload}},
            after={"stat1_rows": stat_rows,
                   "plans": {p.name: list(p.flags) for p in after_info.workload},
                   "changed_plans": changed},
            duration_s=duration,
        )


    # -- the advisor and the actions that change the file -----------------------------------
    def _preview_more(self, action: ActionSpec, config: DatabaseConfig, size: int,
                      warnings: list[str]) -> Preview:
        path = str(config.path)
        name = action.name
        if name == "advise":
            return Preview(
                action, f"Advise indexes for {config.name}'s workload",
                (f"-- {path}, read-only", "candidate indexes tested in a :memory: schema copy "
                 "with true statistics", "survivors built and timed on a scratch copy"),
                cost=f"reads the file and copies it ({size / 2**20:.0f} MiB) to a temporary "
                     "folder; counts distinct values; runs each query 6 times before and "
                     "after; never writes the live file",
                payload=(path,),
            )
        if name == "create_indexes":
            advice = self._advice.get(config.name)
            if advice is None or not advice.indexes:
                raise ActionRefused("run Advise indexes (x) first")
            statements = tuple(index.sql for index in advice.indexes)
            names = tuple(index.candidate.name for index in advice.indexes)
            analyze = tuple(f"ANALYZE {quote_identifier(n)};" for n in names)
            cost = "; ".join(
                f"{index.candidate.name}: built in {index.build_s:.1f} s on the scratch copy, "
                f"inserts {index.insert_us_before:.1f} → {index.insert_us_after:.1f} µs/row"
                for index in advice.indexes
                if index.build_s is not None and index.insert_us_before is not None
                and index.insert_us_after is not None)
            return Preview(
                action, f"Create {len(statements)} index(es) on {config.name}",
                (f"-- {path}", *statements, *analyze),
                cost=cost or "builds each index; holds the write lock while each builds",
                warnings=(*warnings, "Writers wait while each index builds; readers do not "
                          "in WAL mode. Esc stops after the current statement rolls back."),
                payload=(path, statements, analyze),
            )
        if name == "drop_index":
            target = self._drop_target(config.name, self._latest.get(config.name))
            if target is None:
                raise ActionRefused("no redundant or unused index found")
            return Preview(
                action, f"Drop index {target[0]} from {config.name}",
                (f"-- {path}", f"DROP INDEX {quote_identifier(target[0])};"),
                cost="fast; frees the index's pages for reuse",
                warnings=(*warnings, f"Why: {target[1]}.",
                          "A dropped index is gone: queries outside the workload that needed "
                          "it will scan. Rebuilding it takes as long as building it did."),
                payload=(path, target[0]),
            )
        if name == "checkpoint":
            return Preview(
                action, f"Checkpoint the WAL of {config.name} and truncate it",
                (f"-- {path}", "PRAGMA wal_checkpoint(TRUNCATE);"),
                cost="waits for readers to finish (busy timeout 5 s); then copies the WAL "
                     "into the file",
                payload=(path,),
            )
        if name == "vacuum":
            return Preview(
                action, f"VACUUM {config.name}",
                (f"-- {path}", "VACUUM;"),
                cost=f"rewrites the whole file ({size / 2**20:.0f} MiB); needs about twice "
                     "that free; blocks writers while it runs; Esc cancels (rolled back)",
                warnings=tuple(warnings),
                payload=(path,),
            )
        destination = backup_path(config.path, self.backup_dir)
        return Preview(
            action, f"Back up {config.name}",
            (f"-- online backup API, from {path}", f"to {destination}"),
            cost=f"copies {size / 2**20:.0f} MiB; writers keep working (the copy restarts "
                 "pages they change)",
            payload=(path, str(destination)),
        )

    def _advise(self, config: DatabaseConfig, preview: Preview, progress: ProgressCallback,
                cancel: threading.Event) -> ActionResult:
        from luciq_tui.core.advisor import AdvisorError, advise

        try:
            workload = load_workload(config.workload) if config.workload else ()
        except WorkloadError as error:
            raise ActionRefused(str(error)) from error
        try:
            advice = advise(config.path, workload, measure=True, progress=progress,
                            cancel=cancel)
        except AdvisorError as error:
            if str(error) == "cancelled":
                return ActionResult(preview.action, False, "cancelled", cancelled=True)
            raise ActionRefused(str(error)) from error
        self._advice[config.name] = advice
        lines = [index.sql for index in advice.indexes]
        summary = (f"{len(advice.indexes)} index(es) recommended" if advice.indexes
                   else "no index would help this workload")
        speedups = [f"{q.name} {q.speedup:.0f}×" for q in advice.queries if q.speedup]
        if speedups:
            summary += " (measured on a scratch copy: " + ", ".join(speedups) + ")"
        return ActionResult(
            preview.action, True, summary,
            before={q.name: q.before_ms for q in advice.queries},
            after={q.name: q.after_ms for q in advice.queries},
            output="\n".join(lines + [d.sql + "  -- " + d.reason for d in advice.drops]),
            duration_s=advice.seconds,
        )

    def _backup(self, config: DatabaseConfig, preview: Preview, progress: ProgressCallback,
                cancel: threading.Event) -> ActionResult:
        target = Path(str(preview.payload[1]))
        try:
            pages = backup(config.path, target, progress, cancel)
        except Cancelled:
            return ActionResult(preview.action, False, "cancelled; no backup written",
                                cancelled=True)
        except sqlite3.Error as error:
            raise ActionRefused(explain_sqlite_error(config.path, error)) from error
        size = target.stat().st_size
        return ActionResult(preview.action, True,
                            f"backed up {pages:,} pages ({size / 2**20:.1f} MiB) to {target}",
                            after={"backup": str(target), "bytes": size})

    def _change(self, conn: sqlite3.Connection, config: DatabaseConfig, preview: Preview,
                progress: ProgressCallback, cancel: threading.Event) -> ActionResult:
        """create_indexes, drop_index, checkpoint, vacuum: measured before and after."""
        name = preview.action.name
        before_info = inspect_database(config)
        before: dict[str, object] = {"size_bytes": before_info.size_bytes,
                                     "wal_bytes": before_info.wal_bytes,
                                     "free_pages": before_info.freelist_count}
        after: dict[str, object] = {}
        if name == "create_indexes":
            workload = before_info.workload
            queries_before = time_queries(config.path, workload)
            built = create_indexes(conn, preview.payload[1], progress, cancel)
            for statement in preview.payload[2]:
                conn.execute(statement)
            queries_after = time_queries(config.path, workload)
            before["queries_ms"] = queries_before
            after["queries_ms"] = queries_after
            after["built"] = [{"sql": sql, "seconds": round(sec, 3)} for sql, sec in built]
            self._advice.pop(config.name, None)
            speed = [f"{q} {b / a:.0f}×" for q, b in queries_before.items()
                     if (a := queries_after.get(q)) and b]
            summary = f"created {len(built)} index(es)" + (
                f"; measured here: {', '.join(speed)}" if speed else "")
        elif name == "drop_index":
            index = str(preview.payload[1])
            conn.execute(f"DROP INDEX {quote_identifier(index)}")
            self._advice.pop(config.name, None)
            summary = f"dropped {index}"
        elif name == "checkpoint":
            busy, frames, done = checkpoint(conn)
            summary = (f"checkpointed {done} of {frames} WAL frames"
                       + ("; readers kept it busy: try again" if busy else ""))
            after["busy"] = bool(busy)
        else:
            vacuum(conn, config.path, progress, cancel)
            summary = "vacuumed"
        after_info = inspect_database(config)
        after.update(size_bytes=after_info.size_bytes, wal_bytes=after_info.wal_bytes,
                     free_pages=after_info.freelist_count)
        summary += (f"; file {before_info.size_bytes / 2**20:.1f} → "
                    f"{after_info.size_bytes / 2**20:.1f} MiB, WAL "
                    f"{before_info.wal_bytes / 2**20:.1f} → {after_info.wal_bytes / 2**20:.1f} MiB")
        return ActionResult(preview.action, not after.get("busy", False), summary,
                            before=before, after=after)


def time_queries(path: Path, queries: Sequence[QueryPlan | WorkloadQuery], runs: int = 5,
                 budget_s: float = 10.0) -> dict[str, float]:
    """Median ms of each query on one fresh read-only connection (queries whose plan failed
    are left out): the before/after figure of every database action and command."""
    from luciq_tui.core.advisor import median_ms

    conn = open_readonly(path)
    try:
        return {query.name: median_ms(conn, query.sql, runs, budget_s=budget_s)
                for query in queries if not getattr(query, "error", None)}
    finally:
        conn.close()
