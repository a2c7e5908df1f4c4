"""The index advisor: what-if indexes tested with SQLite's own planner on true statistics.

For each workload query it derives candidate indexes from the query's shape (equality
columns, then one range column, then GROUP BY / ORDER BY columns, plus covering variants),
puts them all into a schema-only `:memory:` copy of the database carrying *true* statistics
(the file's own `sqlite_stat1`, or exact distinct counts), keeps those the planner uses,
merges them across the workload (equality columns ordered by how many queries share them,
then by selectivity; left prefixes of kept indexes dropped when no plan gets worse), and
can measure the survivors on a scratch copy of the data: median time of every query before
and after, and the insert cost they add. It never writes to the live file.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luciq_tui.core.database import _bind_count, explain, open_readonly, quote_identifier
from luciq_tui.core.workload import WorkloadQuery

Progress = Callable[[float | None, str], None]
MAX_INDEX_COLUMNS = 6


class AdvisorError(Exception):
    """The advisor cannot work on this input (the message says why)."""


@dataclass
class TableUse:
    """How one query uses one table."""

    table: str
    eq: list[str] = field(default_factory=list)  # col = constant
    join: list[str] = field(default_factory=list)  # col = other_table.col
    range: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # every column referenced


@dataclass(frozen=True)
class Candidate:
    table: str
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        safe = "_".join("".join(ch if ch.isalnum() else "_" for ch in part)
                        for part in (self.table, *self.columns))
        return f"luciq_{safe}"[:120]

    def create_sql(self, name: str | None = None) -> str:
        cols = ", ".join(quote_identifier(column) for column in self.columns)
        return (f"CREATE INDEX {quote_identifier(name or self.name)} ON "
                f"{quote_identifier(self.table)}({cols})")


@dataclass(frozen=True)
class QueryAdvice:
    name: str
    sql: str
    plan_before: tuple[str, ...]
    plan_after: tuple[str, ...]
    indexes_used: tuple[str, ...]
    before_ms: float | None = None
    after_ms: float | None = None

    @property
    def speedup(self) -> float | None:
        if self.before_ms is None or self.after_ms is None or self.after_ms <= 0:
            return None
        return self.before_ms / self.after_ms


@dataclass(frozen=True)
class IndexAdvice:
    candidate: Candidate
    serves: tuple[str, ...]  # query names whose plan uses it
    statistics: str  # the sqlite_stat1 row it was tested with
    benefit_ms: float | None = None  # workload time saved per run, measured
    build_s: float | None = None
    insert_us_before: float | None = None  # per-row insert cost into its table, measured
    insert_us_after: float | None = None

    @property
    def sql(self) -> str:
        return self.candidate.create_sql() + ";"


@dataclass(frozen=True)
class DropAdvice:
    index: str
    table: str
    reason: str

    @property
    def sql(self) -> str:
        return f"DROP INDEX {quote_identifier(self.index)};"


@dataclass(frozen=True)
class Advice:
    indexes: tuple[IndexAdvice, ...]
    queries: tuple[QueryAdvice, ...]
    drops: tuple[DropAdvice, ...]
    skipped: tuple[str, ...]  # queries the advisor could not analyse, and why
    caveats: tuple[str, ...]
    measured: bool
    seconds: float


# -- reading a query's shape -------------------------------------------------------------
def _conjuncts(node: object) -> list[Any]:
    from sqlglot import exp

    if node is None:
        return []
    if isinstance(node, exp.Where):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node] if isinstance(node, exp.Expression) else []


def _constant(node: object) -> bool:
    from sqlglot import exp

    return isinstance(node, (exp.Literal, exp.Placeholder, exp.Null, exp.Boolean)) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)
    )


def analyze_query(sql: str, schema: dict[str, list[str]]) -> list[TableUse]:
    """Which columns of which tables one SELECT uses, and how. Raises AdvisorError."""
    import sqlglot  # loaded only when advising: the dashboard need not carry it
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError as error:
        raise AdvisorError(f"cannot parse: {str(error).splitlines()[0]}") from error
    if not isinstance(tree, exp.Select):
        raise AdvisorError("not a plain SELECT")
    aliases: dict[str, str] = {}
    for table in tree.find_all(exp.Table):
        if table.name in schema:
            aliases[table.alias_or_name] = table.name
    if not aliases:
        raise AdvisorError("reads no table of this database")
    uses = {alias: TableUse(table) for alias, table in aliases.items()}

    def resolve(column: exp.Column) -> tuple[str, str] | None:
        name = column.name
        if column.table:
            return (column.table, name) if column.table in uses else None
        owners = [alias for alias, table in aliases.items() if name in schema[table]]
        return (owners[0], name) if len(owners) == 1 else None

    def add(target: list[str], column: str) -> None:
        if column not in target:
            target.append(column)

    for column in tree.find_all(exp.Column):
        found = resolve(column)
        if found:
            add(uses[found[0]].columns, found[1])
    pairs: list[tuple[tuple[str, str], tuple[str, str]]] = []
    predicates = _conjuncts(tree.args.get("where"))
    for join in tree.args.get("joins") or []:
        predicates += _conjuncts(join.args.get("on"))
    for predicate in predicates:
        if isinstance(predicate, exp.EQ):
            left, right = predicate.left, predicate.right
            if isinstance(left, exp.Column) and isinstance(right, exp.Column):
                a, b = resolve(left), resolve(right)
                if a and b and a[0] != b[0]:
                    add(uses[a[0]].join, a[1])
                    add(uses[b[0]].join, b[1])
                    pairs.append((a, b))
                continue
            operand: object = left if isinstance(left, exp.Column) else right
            other: object = right if operand is left else left
            found = resolve(operand) if isinstance(operand, exp.Column) else None
            if found and _constant(other):
                add(uses[found[0]].eq, found[1])
        elif isinstance(predicate, (exp.In, exp.Is)) and isinstance(predicate.this, exp.Column):
            found = resolve(predicate.this)
            if found:
                add(uses[found[0]].eq, found[1])
        elif isinstance(predicate, (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Like)):
            side: object = predicate.this if isinstance(predicate, (exp.Between, exp.Like)) else (
                predicate.left if isinstance(predicate.left, exp.Column) else predicate.right)
            found = resolve(side) if isinstance(side, exp.Column) else None
            if found:
                add(uses[found[0]].range, found[1])
    # `a.x = b.x AND b.x = 7` pins a.x too: SQLite's planner makes the same inference.
    changed = True
    while changed:
        changed = False
        for left_side, right_side in pairs:
            for one, pinned in ((left_side, right_side), (right_side, left_side)):
                if pinned[1] in uses[pinned[0]].eq and one[1] not in uses[one[0]].eq:
                    add(uses[one[0]].eq, one[1])
                    changed = True
    group = tree.args.get("group")
    for node in (group.expressions if group else []):
        found = resolve(node) if isinstance(node, exp.Column) else None
        if found:
            add(uses[found[0]].group, found[1])
    order = tree.args.get("order")
    for node in (order.expressions if order else []):
        inner = node.this if isinstance(node, exp.Ordered) else node
        found = resolve(inner) if isinstance(inner, exp.Column) else None
        if found and not (isinstance(node, exp.Ordered) and node.args.get("desc")):
            add(uses[found[0]].order, found[1])
    return list(uses.values())


# -- statistics ----------------------------------------------------------------------------
class Statistics:
    """True statistics of the live file, read once each: row counts and distinct counts."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._rows: dict[str, int] = {}
        self._distinct: dict[tuple[str, tuple[str, ...]], int] = {}

    def rows(self, table: str) -> int:
        if table not in self._rows:
            row = self.conn.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchone()
            self._rows[table] = int(row[0])
        return self._rows[table]

    def distinct(self, table: str, columns: tuple[str, ...]) -> int:
        """Exact number of distinct values of a column prefix."""
        key = (table, columns)
        if key not in self._distinct:
            cols = ", ".join(quote_identifier(c) for c in columns)
            row = self.conn.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote_identifier(table)} GROUP BY {cols})"
            ).fetchone()
            self._distinct[key] = max(1, int(row[0]))
        return self._distinct[key]

    def stat(self, candidate: Candidate, exact_prefix: int) -> str:
        """The sqlite_stat1 row for a candidate: exact for its first `exact_prefix` columns,
        then assuming independence (a covering tail barely moves the planner)."""
        rows = self.rows(candidate.table)
        if rows == 0:
            return "0 " + " ".join("1" for _ in candidate.columns)
        values = []
        distinct = 1
        for depth in range(1, len(candidate.columns) + 1):
            if depth <= exact_prefix:
                distinct = self.distinct(candidate.table, candidate.columns[:depth])
            else:
                one = self.distinct(candidate.table, (candidate.columns[depth - 1],))
                distinct = min(rows, distinct * one)
            values.append(str(max(1, round(rows / distinct))))
        return f"{rows} " + " ".join(values)


# -- plan quality ----------------------------------------------------------------------------
def plan_cost(plan: Sequence[str]) -> tuple[int, int, int, int, int, int]:
    """Lower is better: full scans, automatic indexes, temp b-trees, skip-scans, table
    lookups, and fewer constraints used by searches."""
    scans = automatic = temp = skips = lookups = constraints = 0
    for raw in plan:
        line = raw.strip()
        if line.startswith("SCAN ") and " USING " not in line and "CONSTANT" not in line:
            scans += 1
        if "AUTOMATIC" in line:
            automatic += 1
        if "USE TEMP B-TREE" in line:
            temp += 1
        skips += line.count("ANY(")
        covered = "COVERING INDEX" in line or "PRIMARY KEY" in line
        if line.startswith("SEARCH ") and not covered:
            lookups += 1
        if line.startswith("SCAN ") and " USING INDEX " in line:
            lookups += 1
        if "(" in line and line.startswith("SEARCH "):
            constraints += line.split("(", 1)[1].count("?")
    return (scans, automatic, temp, skips, lookups, -constraints)


# -- the advisor ---------------------------------------------------------------------------
def _schema(conn: sqlite3.Connection) -> tuple[list[tuple[str, str, str, str | None]],
                                                 dict[str, list[str]]]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid").fetchall()
    columns: dict[str, list[str]] = {}
    for kind, name, _tbl, sql in rows:
        if kind == "table" and not (sql or "").upper().startswith("CREATE VIRTUAL"):
            columns[name] = [row[1] for row in conn.execute(
                "SELECT cid, name FROM pragma_table_info(?)", (name,)).fetchall()]
    return rows, columns


class _Scratch:
    """A schema-only in-memory copy with given statistics: the planner's what-if sandbox."""

    def __init__(self, schema_rows: Sequence[tuple[str, str, str, str | None]]) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        for kind, _name, _tbl, sql in schema_rows:
            if sql and kind in ("table", "index", "view") and not sql.upper().startswith(
                    "CREATE VIRTUAL"):
                try:
                    self.conn.execute(sql)
                except sqlite3.Error:
                    continue  # a view over a virtual table, say: not needed for plans
        self.conn.execute("ANALYZE")  # creates sqlite_stat1

    def load(self, stats: dict[tuple[str, str | None], str],
             candidates: Iterable[Candidate]) -> None:
        for existing in [row[0] for row in self.conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'luciq_%'")]:
            self.conn.execute(f"DROP INDEX {quote_identifier(existing)}")
        for candidate in candidates:
            self.conn.execute(candidate.create_sql())
        self.conn.execute("DELETE FROM sqlite_stat1")
        self.conn.executemany("INSERT INTO sqlite_stat1(tbl, idx, stat) VALUES (?, ?, ?)",
                              [(tbl, idx, stat) for (tbl, idx), stat in stats.items()])
        self.conn.execute("ANALYZE sqlite_schema")

    def plan(self, query: WorkloadQuery) -> tuple[tuple[str, ...], tuple[str, ...]]:
        # A fresh statement each time: a cached prepared EXPLAIN would keep an old plan.
        result = explain(self.conn, WorkloadQuery(query.name, query.sql + " "))
        return result.plan, result.indexes_used


def median_ms(conn: sqlite3.Connection, sql: str, runs: int = 5,
              budget_s: float = 20.0) -> float:
    """Median wall-clock ms of `runs` executions (fewer when one run alone is very slow);
    the first run warms the cache and is not counted."""
    params = [None] * _bind_count(conn, sql)
    conn.execute(sql, params).fetchall()
    times = []
    started = time.perf_counter()
    for _ in range(runs):
        clock = time.perf_counter()
        conn.execute(sql, params).fetchall()
        times.append((time.perf_counter() - clock) * 1000)
        if time.perf_counter() - started > budget_s and len(times) >= 3:
            break
    return statistics.median(times)


def _ordered_eq(use: TableUse, usage: dict[tuple[str, str], int],
                stats: Statistics) -> list[str]:
    """Equality columns for an index key: those compared with constants first (they serve
    the table as the outer loop too), then join columns (they serve it as the inner loop);
    within each, columns more queries share first, then the more selective."""
    def rank(column: str) -> tuple[int, int, str]:
        return (-usage.get((use.table, column), 0), -stats.distinct(use.table, (column,)),
                column)

    constants = sorted(dict.fromkeys(use.eq), key=rank)
    joins = sorted((c for c in dict.fromkeys(use.join) if c not in constants), key=rank)
    return constants + joins


def _candidates(uses: Iterable[TableUse], usage: dict[tuple[str, str], int],
                stats: Statistics) -> set[Candidate]:
    """Per query and table: equality columns, then one range column or the GROUP BY /
    ORDER BY columns; each also as a covering variant carrying the query's other columns."""
    found: set[Candidate] = set()
    for use in uses:
        eq = _ordered_eq(use, usage, stats)
        keys: list[list[str]] = []
        if use.range:
            keys += [[*eq, r] for r in use.range[:2]]
        tail = [c for c in (use.group or use.order) if c not in eq]
        if tail and (eq or not use.range):  # sorting a range's rows beats scanning them all
            keys.append([*eq, *tail])
            constants = [c for c in eq if c in use.eq]
            if constants != eq:  # as the outer loop: constants, then rows in tail order
                keys.append([*constants, *tail])
        if eq:
            keys.append(list(eq))
        for key in keys:
            key = key[:MAX_INDEX_COLUMNS]
            found.add(Candidate(use.table, tuple(key)))
            rest = [c for c in use.columns if c not in key]
            if rest and len(key) + len(rest) <= MAX_INDEX_COLUMNS:
                found.add(Candidate(use.table, tuple(key + rest)))
    return found


def advise(
    path: Path,
    workload: Sequence[WorkloadQuery],
    *,
    measure: bool = False,
    runs: int = 5,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    scratch_dir: Path | None = None,
) -> Advice:
    """Recommend indexes for `workload` on the database at `path` (opened read-only)."""
    started = time.perf_counter()
    report = progress or (lambda fraction, text: None)
    conn = open_readonly(path)
    try:
        schema_rows, columns = _schema(conn)
        stat1: dict[tuple[str, str | None], str] = {}
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone():
            stat1 = {(t, i): s for t, i, s in conn.execute(
                "SELECT tbl, idx, stat FROM sqlite_stat1")}
        stats = Statistics(conn)
        shapes: dict[str, list[TableUse]] = {}
        skipped = []
        for query in workload:
            try:
                shapes[query.name] = analyze_query(query.sql, columns)
            except AdvisorError as error:
                skipped.append(f"{query.name}: {error}")
        usage: dict[tuple[str, str], int] = {}
        for uses in shapes.values():
            for use in uses:
                for column in dict.fromkeys([*use.eq, *use.join]):
                    usage[(use.table, column)] = usage.get((use.table, column), 0) + 1

        report(0.05, "reading true statistics")
        candidates = _candidates([u for uses in shapes.values() for u in uses], usage, stats)
        existing_keys = _existing_index_keys(conn)
        candidates = {c for c in candidates if (c.table, c.columns) not in existing_keys}
        base_stats: dict[tuple[str, str | None], str] = dict(stat1)
        for table in {c.table for c in candidates} | {u.table for us in shapes.values()
                                                     for u in us}:
            if not any(t == table for t, _ in base_stats):
                base_stats[(table, None)] = str(stats.rows(table))
        for index_name, table, key in _existing_indexes(conn):
            if (table, index_name) not in base_stats:
                base_stats[(table, index_name)] = stats.stat(Candidate(table, key), len(key))
        cand_stats: dict[Candidate, str] = {}
        for number, candidate in enumerate(sorted(candidates, key=lambda c: (c.table,
                                                                               c.columns))):
            if cancel is not None and cancel.is_set():
                raise AdvisorError("cancelled")
            report(0.05 + 0.45 * number / max(1, len(candidates)),
                   f"statistics for {candidate.table}({', '.join(candidate.columns)})")
            key_len = _key_length(candidate, shapes)
            cand_stats[candidate] = stats.stat(candidate, key_len)
    finally:
        conn.close()

    scratch = _Scratch(schema_rows)

    def with_stats(chosen: Iterable[Candidate]) -> dict[tuple[str, str | None], str]:
        merged = dict(base_stats)
        for candidate in chosen:
            merged[(candidate.table, candidate.name)] = cand_stats[candidate]
        return merged

    queries = [q for q in workload if q.name in shapes]
    scratch.load(base_stats, ())
    before = {q.name: scratch.plan(q) for q in queries}

    def plans_for(chosen: set[Candidate]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        scratch.load(with_stats(chosen), chosen)
        return {q.name: scratch.plan(q) for q in queries}

    report(0.55, "asking the planner")
    chosen = set(candidates)
    plans = plans_for(chosen)
    used_names = {name for plan, used in plans.values() for name in used}
    chosen = {c for c in chosen if c.name in used_names}
    best = {name: plan_cost(plan) for name, (plan, _used) in plans_for(chosen).items()}
    # Merge: try dropping each index, smallest first; keep the drop when no plan gets worse.
    for candidate in sorted(chosen, key=lambda c: (len(c.columns), c.columns)):
        trial = chosen - {candidate}
        trial_plans = plans_for(trial)
        if all(plan_cost(trial_plans[name][0]) <= best[name] for name in best):
            chosen = trial
    final = plans_for(chosen)
    serves = {c: tuple(name for name, (_p, used) in final.items() if c.name in used)
              for c in chosen}
    chosen = {c for c in chosen if serves[c]}

    drops = _drop_advice(path, final, chosen)
    advice_queries = [
        QueryAdvice(q.name, q.sql, before[q.name][0], final[q.name][0], final[q.name][1])
        for q in queries
    ]
    index_advice = [IndexAdvice(c, serves[c], cand_stats[c])
                    for c in sorted(chosen, key=lambda c: (c.table, c.columns))]
    caveats = statistics_caveats(stat1_present=bool(stat1))
    if measure and index_advice:
        report(0.6, "measuring on a scratch copy")
        index_advice, advice_queries = _measure(path, index_advice, advice_queries, runs,
                                                report, cancel, scratch_dir)
        index_advice.sort(key=lambda a: -(a.benefit_ms or 0.0))
    report(1.0, "done")
    return Advice(tuple(index_advice), tuple(advice_queries), tuple(drops), tuple(skipped),
                  caveats, measure and bool(index_advice), time.perf_counter() - started)


def _key_length(candidate: Candidate, shapes: dict[str, list[TableUse]]) -> int:
    """How many leading columns are search keys (equality or range), not a covering tail."""
    keys: set[str] = set()
    for uses in shapes.values():
        for use in uses:
            if use.table == candidate.table:
                keys.update(use.eq, use.join, use.range, use.group, use.order)
    length = 0
    for column in candidate.columns:
        if column not in keys:
            break
        length += 1
    return max(1, length)


def _existing_indexes(conn: sqlite3.Connection) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for (table,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%'").fetchall():
        for (index,) in conn.execute("SELECT name FROM pragma_index_list(?)",
                                     (table,)).fetchall():
            key = tuple(str(row[0]) for row in conn.execute(
                "SELECT name FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
                (index,)).fetchall() if row[0] is not None)
            if key:
                found.append((index, table, key))
    return found


def _existing_index_keys(conn: sqlite3.Connection) -> set[tuple[str, tuple[str, ...]]]:
    return {(table, key) for _name, table, key in _existing_indexes(conn)}


def _drop_advice(path: Path, final: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
                 chosen: set[Candidate]) -> list[DropAdvice]:
    """Redundant indexes, and those no workload plan uses (never UNIQUE or PK ones)."""
    from luciq_tui.core.config import DatabaseConfig
    from luciq_tui.core.database import inspect_database

    info = inspect_database(DatabaseConfig("advise", path), workload=())
    used = {name for _plan, names in final.values() for name in names}
    drops = []
    for index in info.indexes:
        if index.origin != "c" or index.unique:
            continue
        if index.redundant_with:
            drops.append(DropAdvice(index.name, index.table,
                                    f"a left prefix of {index.redundant_with}"))
        elif final and index.name not in used:
            drops.append(DropAdvice(index.name, index.table,
                                    "no workload query uses it (with the recommended indexes "
                                    "in place); it only costs writes — keep it if queries "
                                    "outside the workload, or foreign keys, need it"))
    return drops


def statistics_caveats(stat1_present: bool) -> tuple[str, ...]:
    caveats = [f"SQLite here is {sqlite3.sqlite_version}."]
    if sqlite3.sqlite_version_info < (3, 46):
        caveats.append("Before 3.46, `PRAGMA optimize` from a fresh connection does nothing: "
                       "run ANALYZE (with `PRAGMA analysis_limit` on large files).")
    caveats.append("Connections the application already holds do not see new statistics "
                   "until they reconnect or run `ANALYZE sqlite_schema` (a CREATE INDEX "
                   "counts as a schema change and does refresh them).")
    if not stat1_present:
        caveats.append("The file has no sqlite_stat1: the advisor computed exact distinct "
                       "counts itself; run ANALYZE after creating indexes so the application's "
                       "planner sees the same statistics.")
    return tuple(caveats)


def _measure(
    path: Path,
    indexes: list[IndexAdvice],
    queries: list[QueryAdvice],
    runs: int,
    report: Progress,
    cancel: threading.Event | None,
    scratch_dir: Path | None,
) -> tuple[list[IndexAdvice], list[QueryAdvice]]:
    """Time the workload and inserts on a scratch copy, before and after the indexes."""
    folder = Path(tempfile.mkdtemp(prefix="luciq-advise-", dir=scratch_dir))
    try:
        needed = path.stat().st_size * 2
        if shutil.disk_usage(folder).free < needed:
            raise AdvisorError(f"not enough free space in {folder} for a scratch copy "
                               f"({needed / 2**20:.0f} MiB needed)")
        copy = folder / "scratch.db"
        source = open_readonly(path)
        target = sqlite3.connect(copy, isolation_level=None)
        try:
            source.backup(target)
        finally:
            source.close()
        target.execute("PRAGMA journal_mode=OFF")
        before_ms = {q.name: median_ms(target, q.sql, runs) for q in queries}
        tables = {a.candidate.table for a in indexes}
        insert_before = {t: insert_cost_us(target, t) for t in tables}
        builds: dict[Candidate, float] = {}
        for number, advice in enumerate(indexes):
            if cancel is not None and cancel.is_set():
                raise AdvisorError("cancelled")
            report(0.6 + 0.3 * number / len(indexes), f"building {advice.candidate.name}")
            clock = time.perf_counter()
            target.execute(advice.candidate.create_sql())
            builds[advice.candidate] = time.perf_counter() - clock
        target.execute("ANALYZE")
        report(0.92, "timing the workload with the indexes")
        after_ms = {q.name: median_ms(target, q.sql, runs) for q in queries}
        insert_after = {t: insert_cost_us(target, t) for t in tables}
        target.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    measured_queries = [
        QueryAdvice(q.name, q.sql, q.plan_before, q.plan_after, q.indexes_used,
                    before_ms[q.name], after_ms[q.name]) for q in queries
    ]
    measured_indexes = []
    for advice in indexes:
        benefit = 0.0
        for query in measured_queries:
            if query.name in advice.serves and query.before_ms is not None:
                sharing = max(1, len([a for a in indexes if query.name in a.serves]))
                benefit += (query.before_ms - (query.after_ms or 0.0)) / sharing
        table = advice.candidate.table
        measured_indexes.append(IndexAdvice(
            advice.candidate, advice.serves, advice.statistics, benefit,
            builds.get(advice.candidate), insert_before.get(table), insert_after.get(table)))
    return measured_indexes, measured_queries


def insert_cost_us(conn: sqlite3.Connection, table: str, rows: int = 5000) -> float | None:
    """Microseconds per row to insert copies of existing rows, rolled back afterwards; None
    when copies cannot be inserted (a UNIQUE constraint, say)."""
    info = conn.execute("SELECT name, type, pk FROM pragma_table_info(?)", (table,)).fetchall()
    keys = [row for row in info if row[2]]
    rowid_alias = len(keys) == 1 and str(keys[0][1]).upper() == "INTEGER"
    columns = [row[0] for row in info if not (rowid_alias and row[2])]
    cols = ", ".join(quote_identifier(c) for c in columns)
    quoted = quote_identifier(table)
    conn.execute("SAVEPOINT luciq_insert_cost")
    try:
        clock = time.perf_counter()
        cursor = conn.execute(f"INSERT INTO {quoted}({cols}) SELECT {cols} FROM {quoted} "
                              f"LIMIT {int(rows)}")
        elapsed = time.perf_counter() - clock
        count = cursor.rowcount
    except sqlite3.IntegrityError:
        return None
    finally:
        conn.execute("ROLLBACK TO luciq_insert_cost")
        conn.execute("RELEASE luciq_insert_cost")
    return elapsed / count * 1e6 if count > 0 else None
