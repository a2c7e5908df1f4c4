"""`luciq inspect`, `advise`, `optimize` and `bench`: the database optimizer from a shell.

Each prints a table for people and, with `--json`, one JSON object on stdout. Exit status:
0 ok, 1 findings or a failed action, 2 bad input (one plain line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from luciq_tui.core.advisor import Advice, AdvisorError, advise
from luciq_tui.core.config import DatabaseConfig
from luciq_tui.core.database import (
    PER_CONNECTION_SNIPPET,
    DatabaseInfo,
    DatabaseOptimizer,
    check_database_file,
    explain,
    inspect_database,
    open_readonly,
    time_queries,
)
from luciq_tui.core.optimizer import ActionResult
from luciq_tui.core.workload import WorkloadError, WorkloadQuery, load_workload
from luciq_tui.format import human_bytes, millis

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """Input Luciq cannot use; the message names the thing and what to do (exit 2)."""


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    inspect = commands.add_parser("inspect", parents=[common],
                                  help="settings, tables, indexes, plans and findings of DB")
    inspect.add_argument("db", type=Path, metavar="DB")
    inspect.add_argument("--workload", type=Path, metavar="FILE")
    inspect.add_argument("--json", action="store_true")

    adv = commands.add_parser("advise", parents=[common],
                              help="recommend indexes for a workload (never touches DB)")
    adv.add_argument("db", type=Path, metavar="DB")
    adv.add_argument("--workload", type=Path, metavar="FILE", required=True)
    adv.add_argument("--no-measure", action="store_true",
                     help="planner only: skip timing on a scratch copy")
    adv.add_argument("--json", action="store_true")

    optimize = commands.add_parser(
        "optimize", parents=[common],
        help="WAL, recommended indexes and statistics for DB (a dry run unless --apply)")
    optimize.add_argument("db", type=Path, metavar="DB")
    optimize.add_argument("--workload", type=Path, metavar="FILE")
    optimize.add_argument("--apply", action="store_true", help="make the changes")
    optimize.add_argument("--backup", action="store_true", help="back DB up first")
    optimize.add_argument("--yes", action="store_true", help="do not ask before changing DB")
    optimize.add_argument("--runs", type=int, default=5, metavar="N",
                          help="timed runs per query, before and after (default 5)")
    optimize.add_argument("--json", action="store_true")

    bench = commands.add_parser("bench", parents=[common],
                                help="time each workload query on DB (median of N runs)")
    bench.add_argument("db", type=Path, metavar="DB")
    bench.add_argument("--workload", type=Path, metavar="FILE", required=True)
    bench.add_argument("--runs", type=int, default=5, metavar="N")
    bench.add_argument("--json", action="store_true")


def _database(args: argparse.Namespace) -> tuple[DatabaseConfig, tuple[WorkloadQuery, ...]]:
    path: Path = args.db
    problem = check_database_file(path)
    if problem:
        raise BadInput(problem)
    workload: tuple[WorkloadQuery, ...] = ()
    if getattr(args, "workload", None) is not None:
        try:
            workload = load_workload(args.workload)
        except WorkloadError as error:
            raise BadInput(str(error)) from error
        if not workload:
            raise BadInput(f"{args.workload}: holds no SQL statement")
    if getattr(args, "runs", 5) < 1:
        raise BadInput(f"--runs must be at least 1, got {args.runs}")
    return DatabaseConfig(path.stem, path, args.workload if workload else None), workload


def _inspect(config: DatabaseConfig) -> DatabaseInfo:
    info = inspect_database(config)
    if info.error:
        raise BadInput(info.error)
    return info


def run_inspect(args: argparse.Namespace) -> int:
    config, _workload = _database(args)
    info = _inspect(config)
    serious = [f for f in info.findings if f.severity in ("warning", "critical")]
    if args.json:
        print(json.dumps(info_json(info)))
        return EXIT_FINDINGS if serious else EXIT_OK
    print(f"{info.path}  {human_bytes(info.size_bytes)}, journal_mode={info.journal_mode}, "
          f"WAL {human_bytes(info.wal_bytes)}, {info.page_count:,} pages of {info.page_size} B, "
          f"{info.freelist_count:,} free ({info.free_percent:.1f} %), filesystem "
          f"{info.filesystem or '?'}, SQLite {info.sqlite_version}, statistics "
          f"{'sqlite_stat1' if info.has_stat1 else 'none'}; inspected in "
          f"{info.inspected_ms:.1f} ms")
    print("\nTables")
    for table in info.tables:
        rows = "-" if table.rows is None else f"{table.rows:,} ({table.rows_source})"
        print(f"  {table.name:<32} {table.kind:<8} {rows}")
    print("\nIndexes" + ("" if info.indexes else ": none"))
    for index in info.indexes:
        flags = [flag for flag, on in (("unique", index.unique), ("partial", index.partial),
                                       ("no stats", not index.has_stats)) if on]
        if index.redundant_with:
            flags.append(f"redundant with {index.redundant_with}")
        if info.workload and not index.used_by and not index.unique:
            flags.append("unused by the workload")
        print(f"  {index.name:<32} {index.table}({', '.join(index.columns)})  "
              f"{', '.join(flags)}")
    for plan in info.workload:
        print(f"\n{plan.name} [{', '.join(plan.flags) or 'ok'}]")
        for line in plan.plan or (f"error: {plan.error}",):
            print(f"  {line}")
    print("\nFindings" + ("" if info.findings else ": none"))
    for finding in info.findings:
        print(f"  {finding.severity:<8} {finding.title}: {finding.evidence} -> {finding.fix}")
    print("\nPer-connection settings do not persist; run on each application connection:")
    for line in PER_CONNECTION_SNIPPET:
        print(f"  {line}")
    return EXIT_FINDINGS if serious else EXIT_OK


def info_json(info: DatabaseInfo) -> dict[str, Any]:
    return {
        "path": str(info.path), "size_bytes": info.size_bytes, "wal_bytes": info.wal_bytes,
        "page_size": info.page_size, "page_count": info.page_count,
        "freelist_count": info.freelist_count, "journal_mode": info.journal_mode,
        "auto_vacuum": info.auto_vacuum, "user_version": info.user_version,
        "sqlite_version": info.sqlite_version, "filesystem": info.filesystem,
        "network_filesystem": info.network_filesystem, "has_stat1": info.has_stat1,
        "inspected_ms": info.inspected_ms,
        "tables": [{"name": t.name, "kind": t.kind, "rows": t.rows,
                    "rows_source": t.rows_source} for t in info.tables],
        "indexes": [{"name": i.name, "table": i.table, "columns": list(i.columns),
                     "unique": i.unique, "partial": i.partial, "has_stats": i.has_stats,
                     "redundant_with": i.redundant_with, "used_by": list(i.used_by)}
                    for i in info.indexes],
        "workload": [{"name": p.name, "sql": p.sql, "plan": list(p.plan),
                      "flags": list(p.flags), "error": p.error} for p in info.workload],
        "findings": [{"severity": f.severity, "title": f.title, "evidence": f.evidence,
                      "fix": f.fix} for f in info.findings],
    }


def _progress(quiet: bool) -> Callable[[float | None, str], None]:
    def report(fraction: float | None, text: str) -> None:
        if not quiet and sys.stderr.isatty():
            share = "" if fraction is None else f"{fraction * 100:3.0f}% "
            print(f"\r\033[K{share}{text[:70]}", end="", file=sys.stderr, flush=True)
    return report


def _advise(config: DatabaseConfig, workload: Sequence[WorkloadQuery], measure: bool,
            quiet: bool) -> Advice:
    try:
        advice = advise(config.path, workload, measure=measure, progress=_progress(quiet))
    except AdvisorError as error:
        raise BadInput(f"{config.path}: {error}") from error
    finally:
        if not quiet and sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)
    return advice


def advice_json(advice: Advice) -> dict[str, Any]:
    return {
        "indexes": [{"sql": a.sql, "table": a.candidate.table,
                     "columns": list(a.candidate.columns), "serves": list(a.serves),
                     "statistics": a.statistics, "benefit_ms": a.benefit_ms,
                     "build_s": a.build_s, "insert_us_before": a.insert_us_before,
                     "insert_us_after": a.insert_us_after} for a in advice.indexes],
        "queries": [{"name": q.name, "sql": q.sql, "plan_before": list(q.plan_before),
                     "plan_after": list(q.plan_after), "before_ms": q.before_ms,
                     "after_ms": q.after_ms, "speedup": q.speedup} for q in advice.queries],
        "drops": [{"sql": d.sql, "reason": d.reason} for d in advice.drops],
        "skipped": list(advice.skipped), "caveats": list(advice.caveats),
        "measured": advice.measured, "seconds": advice.seconds,
    }


def run_advise(args: argparse.Namespace) -> int:
    config, workload = _database(args)
    _inspect(config)
    advice = _advise(config, workload, not args.no_measure, args.json)
    if args.json:
        print(json.dumps(advice_json(advice)))
        return EXIT_FINDINGS if advice.indexes or advice.drops else EXIT_OK
    if not advice.indexes:
        print("No index would make this workload faster.")
    for index in advice.indexes:
        print(index.sql)
        line = f"  -- serves {', '.join(index.serves)}; stat1 {index.statistics}"
        if index.benefit_ms is not None:
            line += f"; saves {index.benefit_ms:.1f} ms per workload run"
        if index.build_s is not None:
            line += f"; builds in {index.build_s:.2f} s"
        if index.insert_us_before is not None and index.insert_us_after is not None:
            line += (f"; inserts into {index.candidate.table} "
                     f"{index.insert_us_before:.2f} → {index.insert_us_after:.2f} µs/row")
        print(line)
    for drop in advice.drops:
        print(f"{drop.sql}  -- {drop.reason}")
    print()
    print_query_table(advice.queries, measured=advice.measured,
                      method="median of 5 runs each on a scratch copy of the file")
    for query in advice.queries:
        print(f"\n{query.name}\n  before: " + "\n          ".join(query.plan_before)
              + "\n  after:  " + "\n          ".join(query.plan_after))
    for skipped in advice.skipped:
        print(f"skipped {skipped}", file=sys.stderr)
    print()
    for caveat in advice.caveats:
        print(f"note: {caveat}")
    return EXIT_FINDINGS if advice.indexes or advice.drops else EXIT_OK


def print_query_table(queries: Sequence[Any], measured: bool, method: str) -> None:
    if not measured:
        print("(not measured: --no-measure)")
        return
    print(f"| Query | Before | After | Speedup |   ({method})")
    print("|---|---|---|---|")
    for query in queries:
        speed = f"{query.speedup:,.1f}×" if query.speedup else "–"
        print(f"| {query.name} | {millis(query.before_ms)} | {millis(query.after_ms)} | "
              f"{speed} |")


def _time_workload(path: Path, workload: Sequence[WorkloadQuery], runs: int) -> dict[str, float]:
    return time_queries(path, workload, runs, budget_s=20.0)


def _plans(path: Path, workload: Sequence[WorkloadQuery]) -> dict[str, list[str]]:
    conn = open_readonly(path)
    try:
        return {q.name: list(explain(conn, WorkloadQuery(q.name, q.sql + " ")).plan)
                for q in workload}
    finally:
        conn.close()


def run_optimize(args: argparse.Namespace, read_only: bool,
                 log: Callable[[ActionResult], None]) -> int:
    config, workload = _database(args)
    info = _inspect(config)
    optimizer = DatabaseOptimizer([config], workload_interval=0)
    optimizer.observe()
    plan: list[str] = []  # action names, in order
    if info.journal_mode.lower() != "wal" and not info.network_filesystem:
        plan.append("enable_wal")
    advice = None
    if workload:
        advice = _advise(config, workload, False, args.json)
        optimizer.adopt_advice(config.name, advice)  # the recommendation we will apply
        if advice.indexes:
            plan.append("create_indexes")
    plan.append("analyze")
    specs = {s.name: s for s in optimizer.actions(None)}
    previews = [optimizer.preview(specs[name]) for name in plan]
    statements = [line for p in previews for line in p.details if not line.startswith("--")]
    if not args.apply:
        if args.json:
            print(json.dumps({"applied": [], "would_apply": statements,
                              "advice": advice_json(advice) if advice else None}))
        else:
            print("Dry run: nothing changed. With --apply Luciq would run:")
            for line in statements:
                print(f"  {line}")
            print("\nPer-connection settings do not persist; the application should run:")
            for line in PER_CONNECTION_SNIPPET:
                print(f"  {line}")
        return EXIT_OK
    if read_only:
        raise BadInput("read-only mode: --apply is refused")
    if not args.yes:
        if not sys.stdin.isatty():
            raise BadInput("--apply needs --yes when there is no terminal to confirm on")
        if input(f"Apply {len(statements)} statement(s) to {config.path}? [y/N] ").strip() \
                .lower() not in ("y", "yes"):
            print("nothing changed", file=sys.stderr)
            return EXIT_FINDINGS
    before_plans = _plans(config.path, workload)
    before_ms = _time_workload(config.path, workload, args.runs)
    results: list[ActionResult] = []
    cancel = threading.Event()
    from luciq_tui.core.optimizer import run_action

    if args.backup:
        results.append(run_action(optimizer, optimizer.preview(specs["backup"]),
                                  read_only=False, log=log, cancel=cancel))
        if not results[-1].ok:
            return _report_optimize(args, results, [], workload, before_ms, {}, before_plans,
                                    {})
    applied: list[str] = []
    for preview in previews:
        result = run_action(optimizer, preview, read_only=False, log=log, cancel=cancel,
                            progress=_progress(args.json))
        results.append(result)
        if not result.ok:
            break
        applied.extend(line for line in preview.details if not line.startswith("--"))
    after_ms = _time_workload(config.path, workload, args.runs)
    after_plans = _plans(config.path, workload)
    return _report_optimize(args, results, applied, workload, before_ms, after_ms,
                            before_plans, after_plans)


def _report_optimize(args: argparse.Namespace, results: list[ActionResult], applied: list[str],
                     workload: Sequence[WorkloadQuery], before_ms: dict[str, float],
                     after_ms: dict[str, float], before_plans: dict[str, list[str]],
                     after_plans: dict[str, list[str]]) -> int:
    ok = all(result.ok for result in results)
    queries = []
    for query in workload:
        before, after = before_ms.get(query.name), after_ms.get(query.name)
        queries.append({
            "name": query.name, "sql": query.sql, "before_ms": before, "after_ms": after,
            "speedup": before / after if before and after else None,
            "plan_before": before_plans.get(query.name, []),
            "plan_after": after_plans.get(query.name, []),
        })
    if args.json:
        print(json.dumps({"applied": applied, "ok": ok, "runs": args.runs,
                          "actions": [{"action": r.action.title, "ok": r.ok,
                                       "summary": r.summary} for r in results],
                          "queries": queries}))
    else:
        for result in results:
            print(f"{'ok ' if result.ok else 'FAILED '} {result.action.title}: {result.summary}")

        class Row:
            def __init__(self, row: dict[str, Any]) -> None:
                self.name, self.before_ms = row["name"], row["before_ms"]
                self.after_ms, self.speedup = row["after_ms"], row["speedup"]

        print()
        print_query_table([Row(q) for q in queries], measured=bool(after_ms),
                          method=f"median of {args.runs} runs each, on this file, before and "
                                 "after")
    return EXIT_OK if ok else EXIT_FINDINGS


def run_bench(args: argparse.Namespace) -> int:
    config, workload = _database(args)
    _inspect(config)
    timings = _time_workload(config.path, workload, args.runs)
    plans = _plans(config.path, workload)
    if args.json:
        print(json.dumps({"runs": args.runs, "queries": [
            {"name": q.name, "sql": q.sql, "median_ms": timings[q.name],
             "plan": plans[q.name]} for q in workload]}))
        return EXIT_OK
    print(f"| Query | Median | Plan |   (median of {args.runs} runs after one warm-up, on "
          f"{config.path})")
    print("|---|---|---|")
    for query in workload:
        print(f"| {query.name} | {millis(timings[query.name])} | "
              f"{' / '.join(line.strip() for line in plans[query.name])} |")
    return EXIT_OK
