"""The `luciq` command: the dashboard, the demo, and the headless subcommands.

Exit status: 0 ok, 1 findings or a failed action, 2 bad input (one plain line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from luciq_tui import dbcli
from luciq_tui.core.alerts import AlertEngine
from luciq_tui.core.config import (
    MAX_BURST_CONCURRENCY,
    MAX_BURST_COUNT,
    MAX_BURST_SECONDS,
    Config,
    ConfigError,
    EndpointConfig,
    default_config_path,
    load_config,
    write_default_config,
)
from luciq_tui.core.monitor import Monitor, build_optimizers
from luciq_tui.core.store import MonitoringStore
from luciq_tui.dbcli import BadInput
from luciq_tui.format import millis

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
    if value < 0.1:
        raise argparse.ArgumentTypeError(f"must be at least 0.1 seconds, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 100:
        raise argparse.ArgumentTypeError(f"must be at least 100, got {text}")
    return value


def _common_options(for_subcommand: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after the command's name.

    A subcommand's copy has no defaults of its own, so `luciq --read-only demo` keeps the flag.
    """
    default = argparse.SUPPRESS if for_subcommand else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="FILE", default=default,
                        help=f"config file (default: {default_config_path()})")
    common.add_argument("--read-only", action="store_true",
                        default=argparse.SUPPRESS if for_subcommand else False,
                        help="hide and refuse every action: for watching")
    common.add_argument("--low-bandwidth", action="store_true",
                        default=argparse.SUPPRESS if for_subcommand else False,
                        help="redraw at most every 5 s and hide the latency graph: for slow "
                             "links")
    common.add_argument("--refresh", type=_positive_float, metavar="SECONDS", default=default,
                        help="seconds between samples and redraws (default 1)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(for_subcommand=True)
    parser = argparse.ArgumentParser(
        prog="luciq", parents=[_common_options(for_subcommand=False)],
        description="Watch this machine and its SQLite databases; fix the usual causes of "
                    "slowness safely, with a record of what was done.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", parents=[common],
                               help="build the demo workspace and open the dashboard on it")
    demo.add_argument("--dir", type=Path, default=Path("demo"), metavar="D",
                      help="workspace folder (default: ./demo)")
    demo.add_argument("--rows", type=_positive_int, default=1_000_000, metavar="N",
                      help="assignments to generate; events are 3×N (default 1000000)")
    demo.add_argument("--build-only", action="store_true",
                      help="build (or check) the workspace and exit")

    clean = commands.add_parser("clean", parents=[common],
                                help="find (and with --apply delete) caches under ROOTs")
    clean.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    clean.add_argument("--apply", action="store_true", help="delete what the dry run lists")
    clean.add_argument("--yes", action="store_true", help="do not ask before deleting")
    clean.add_argument("--json", action="store_true", help="one JSON object on stdout")
    clean.add_argument("--min-age", type=float, metavar="SECONDS",
                       help="leave files changed more recently alone (default: config, 300)")

    probe = commands.add_parser("probe", parents=[common],
                                help="send a bounded burst to each URL and report latency")
    probe.add_argument("urls", nargs="+", metavar="URL")
    probe.add_argument("--count", type=int, default=10, metavar="N",
                       help=f"requests per URL (default 10, at most {MAX_BURST_COUNT})")
    probe.add_argument("--concurrency", type=int, default=2, metavar="C",
                       help=f"requests at a time (default 2, at most {MAX_BURST_CONCURRENCY})")
    probe.add_argument("--timeout", type=_positive_float, default=5.0, metavar="SECONDS",
                       help="per-request timeout (default 5)")
    probe.add_argument("--json", action="store_true", help="one JSON object on stdout")

    dbcli.add_parsers(commands, common)

    check = commands.add_parser(
        "check", parents=[common],
        help="sample once, evaluate every alert rule; exit 0 OK, 1 WARNING, 2 CRITICAL")
    check.add_argument("--json", action="store_true", help="one JSON object on stdout")
    check.add_argument("--window", type=_positive_float, default=1.0, metavar="SECONDS",
                       help="how long to measure rates such as CPU and disk IO (default 1)")

    config = commands.add_parser("config", help="manage the config file")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION",
                                            required=True)
    init = config_commands.add_parser("init", help="write a commented default config")
    init.add_argument("--path", type=Path, metavar="FILE",
                      help=f"where to write it (default: {default_config_path()})")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    config_commands.add_parser("check", parents=[common],
                               help="validate the config file and print a summary")
    return parser


def _load(args: argparse.Namespace) -> Config:
    try:
        config = load_config(args.config)
    except ConfigError as error:
        raise BadInput(str(error)) from error
    if args.read_only:
        config = replace(config, read_only=True)
    if getattr(args, "low_bandwidth", False):
        config = replace(config, low_bandwidth=True)
    if args.refresh:
        config = replace(config, refresh=args.refresh)
    return config


def _open_store(config: Config) -> MonitoringStore:
    path = config.store_path()
    try:
        return MonitoringStore(path, flush_interval=max(5.0, config.refresh),
                               raw_hours=config.raw_hours, rollup_days=config.rollup_days)
    except OSError as error:
        raise BadInput(f"{path}: cannot open the monitoring store: {error}") from error


def keep_tls_out(config: Config) -> bool:
    """Leave Python's `ssl` module (and OpenSSL with it) unloaded when nothing will speak
    TLS: asyncio imports it whether or not it is used, and that costs the dashboard 6 MB of
    resident memory (47.9 against 53.3 MB peak, measured here), a tenth of its footprint.
    asyncio works without it, as on a Python built without ssl. Only endpoint probes use TLS
    (httpx needs `ssl`), so this applies only when no endpoint is configured, and only if
    nothing has loaded `ssl` yet. Returns whether it applied."""
    if config.endpoints or "ssl" in sys.modules:
        return False
    sys.modules["ssl"] = None  # type: ignore[assignment]  # `import ssl` raises ImportError
    return True


def run_dashboard(config: Config, warnings: Sequence[str] = ()) -> int:
    keep_tls_out(config)
    from luciq_tui.ui.app import make_app  # the UI is imported only when it is shown

    store = _open_store(config)
    engine = AlertEngine(config.alert_rules, store)
    monitor = Monitor(build_optimizers(config, store), store, engine, read_only=config.read_only,
                      auto_actions=config.auto_actions)
    notes = [*warnings] + ([store.warning] if store.warning else [])
    try:
        make_app(config, monitor, warnings=notes).run()
    finally:
        monitor.close()
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from luciq_tui.core.demo import (
        DemoService,
        demo_config,
        ensure_workspace,
        workspace_ready,
    )

    config = _load(args)
    folder: Path = args.dir
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{folder}: exists and is not a folder; pick another with --dir")
    if not args.build_only and not workspace_ready(folder, args.rows):
        # Build in a child process: generating millions of rows leaves a Python process
        # hundreds of MB larger, and the dashboard should not carry that for its lifetime.
        import subprocess

        built = subprocess.run([sys.executable, "-m", "luciq_tui", "demo", "--dir",
                                str(folder), "--rows", str(args.rows), "--build-only"],
                               check=False)
        if built.returncode != 0:
            return built.returncode
    with Progress(TextColumn("[bold]demo[/]"), BarColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("checking the workspace", total=1.0)
        try:
            workspace = ensure_workspace(
                folder, args.rows,
                progress=lambda fraction, text: bar.update(task, completed=fraction,
                                                           description=text),
            )
        except OSError as error:
            raise BadInput(f"{folder}: cannot build the demo workspace: {error}") from error
    verb = "built" if workspace.built else "reused"
    print(f"{verb} demo workspace {workspace.folder} ({workspace.rows:,} assignments, "
          f"{workspace.rows * 3:,} events) in {workspace.build_seconds:.1f} s", file=sys.stderr)
    if args.build_only:
        return EXIT_OK
    service = DemoService(workspace.database).start()
    try:
        return run_dashboard(demo_config(workspace, service.base_url, config))
    finally:
        service.stop()


def _confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal; without one, only --yes may stand in for the operator."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise BadInput("--apply needs --yes when there is no terminal to confirm on")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def run_clean(args: argparse.Namespace) -> int:
    from luciq_tui.core.filesystem import FilesystemOptimizer
    from luciq_tui.core.optimizer import ActionSpec

    config = _load(args)
    for root in args.roots:
        if not root.is_dir():
            raise BadInput(f"{root}: not a folder")
    min_age = config.filesystem_min_age_seconds if args.min_age is None else args.min_age
    optimizer = FilesystemOptimizer(args.roots, min_age_seconds=min_age)
    spec: ActionSpec = optimizer.actions(None)[0]
    scans = optimizer.scan()
    preview = optimizer.preview_scans(spec, scans)
    report: dict[str, object] = {"applied": False}
    if args.json:
        report["roots"] = [
            {"root": scan.root, "bytes": scan.bytes, "files": scan.files,
             "complete": scan.complete, "skipped_recent": scan.skipped_recent,
             "errors": list(scan.errors),
             "items": [{"path": i.path, "kind": i.kind, "bytes": i.bytes, "files": i.files}
                       for i in scan.items]}
            for scan in scans
        ]
    else:
        for line in preview.details:
            print(line)
        for warning in preview.warnings:
            print(f"! {warning}", file=sys.stderr)
        print(preview.summary + ("" if args.apply else " (dry run: nothing deleted)"))
    if not args.apply or not preview.payload:
        if args.json:
            print(json.dumps(report))
        return EXIT_OK
    if config.read_only:
        raise BadInput("read-only mode: --apply is refused")
    if not _confirm(preview.summary + "?", args.yes):
        print("nothing deleted", file=sys.stderr)
        return EXIT_FINDINGS
    store = _open_store(config)
    engine = AlertEngine(config.alert_rules, None)
    monitor = Monitor([optimizer], store, engine)
    try:
        result = monitor.run(preview)
    finally:
        monitor.close()
    if args.json:
        report.update(applied=True, ok=result.ok, summary=result.summary,
                      result=dict(result.after), refused=result.output.splitlines())
        print(json.dumps(report))
    else:
        print(result.summary)
        if result.output:
            print(result.output, file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FINDINGS


def run_probe(args: argparse.Namespace) -> int:
    import httpx

    from luciq_tui.core.api import BurstLimits, burst

    if not 1 <= args.count <= MAX_BURST_COUNT:
        raise BadInput(f"--count must be from 1 to {MAX_BURST_COUNT}, got {args.count}")
    if not 1 <= args.concurrency <= MAX_BURST_CONCURRENCY:
        raise BadInput(f"--concurrency must be from 1 to {MAX_BURST_CONCURRENCY}, "
                       f"got {args.concurrency}")
    for url in args.urls:
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"{url}: not an http:// or https:// URL")
    limits = BurstLimits(args.count, args.concurrency, MAX_BURST_SECONDS)
    with httpx.Client(follow_redirects=False, trust_env=False) as client:
        results = [burst(client, EndpointConfig(url, url, timeout=args.timeout), limits)
                   for url in args.urls]
    if args.json:
        print(json.dumps({"results": [result.to_json() for result in results]}))
    else:
        print(f"{'URL':<40} {'sent':>4} {'ok':>4} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}")
        for result in results:
            cells = [result.percentile(f) for f in (0.5, 0.95, 0.99)]
            cells.append(max(result.latencies_ms, default=None))
            print(f"{result.url[:40]:<40} {result.sent:>4} {result.ok:>4} "
                  + " ".join(f"{millis(v):>9}" for v in cells))
            for error in sorted(set(result.errors)):
                print(f"  {error}", file=sys.stderr)
    return EXIT_OK if all(r.sent and r.ok == r.sent for r in results) else EXIT_FINDINGS


CHECK_UNKNOWN = 3  # the monitoring convention for "could not check"


def run_check(args: argparse.Namespace) -> int:
    """Evaluate every rule once, ignoring `for`: the Nagios-style exit status cron reads."""
    import time

    from luciq_tui.core.alerts import worst_severity

    try:
        config = _load(args)
    except BadInput as error:
        print(f"luciq: UNKNOWN - {error}", file=sys.stderr)
        return CHECK_UNKNOWN
    engine = AlertEngine(config.alert_rules, None, ignore_for=True)
    optimizers = build_optimizers(config, None)
    metrics: dict[str, float] = {}
    errors: list[str] = []
    try:
        resources = optimizers[0]
        resources.observe()  # the start of the rate window
        time.sleep(args.window)
        for optimizer in optimizers:
            try:
                metrics.update(optimizer.metrics(optimizer.observe()))
            except Exception as error:  # one broken source must not hide the others
                errors.append(f"{optimizer.name}: {error}")
    finally:
        for optimizer in optimizers:
            optimizer.close()
    engine.evaluate(metrics)
    active = engine.active()
    worst = worst_severity(active)
    status = {"critical": "CRITICAL", "warning": "WARNING"}.get(worst or "", "OK")
    code = {"CRITICAL": 2, "WARNING": 1}.get(status, EXIT_OK)
    if args.json:
        print(json.dumps({
            "status": status.lower(), "exit": code,
            "alerts": [{"rule": a.rule, "metric": a.metric, "severity": a.severity,
                        "value": a.value, "threshold": a.threshold} for a in active],
            "metrics": metrics, "errors": errors,
        }))
    else:
        firing = [a for a in active if a.severity in ("warning", "critical")]
        headline = (f"{len(firing)} rule(s) beyond threshold" if firing
                    else f"{len(engine.rules)} rules, {len(metrics)} metrics, none beyond")
        print(f"{status} - {headline}")
        for alert in active:
            print(f"{alert.severity.upper():<8} {alert.rule}: {alert.metric} = "
                  f"{alert.value:g} (threshold {alert.threshold:g})")
        for problem in errors:
            print(f"error: {problem}", file=sys.stderr)
    return code


def run_optimize(args: argparse.Namespace) -> int:
    """`luciq optimize`: every change goes to the action log, like the dashboard's."""
    config = _load(args)
    store = _open_store(config) if args.apply else None
    monitor = Monitor([], store, AlertEngine((), None))
    try:
        return dbcli.run_optimize(args, config.read_only, monitor._log_manual)
    finally:
        monitor.close()


def run_config(args: argparse.Namespace) -> int:
    if args.config_command == "init":
        path = args.path or default_config_path()
        try:
            write_default_config(path, force=args.force)
        except ConfigError as error:
            raise BadInput(str(error)) from error
        except OSError as error:
            raise BadInput(f"{path}: cannot write: {error}") from error
        print(f"wrote {path}")
        return EXIT_OK
    config = _load(args)
    source = config.source or "(no file: defaults)"
    print(f"{source}: ok — {len(config.databases)} database(s), {len(config.endpoints)} "
          f"endpoint(s), {len(config.filesystem_roots)} root(s), "
          f"{len(config.alert_rules) or 'default'} alert rule(s)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return run_demo(args)
        if args.command == "config":
            return run_config(args)
        if args.command == "check":
            return run_check(args)
        if args.command in ("inspect", "advise", "bench"):
            _load(args)  # a bad config is bad input here too
            return {"inspect": dbcli.run_inspect, "advise": dbcli.run_advise,
                    "bench": dbcli.run_bench}[args.command](args)
        if args.command == "optimize":
            return run_optimize(args)
        if args.command == "clean":
            return run_clean(args)
        if args.command == "probe":
            return run_probe(args)
        return run_dashboard(_load(args))
    except BadInput as error:
        print(f"luciq: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
