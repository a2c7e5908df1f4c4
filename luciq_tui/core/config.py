"""Luciq's configuration: TOML in the platform config directory or a named file.

Every key is checked; an unknown key or a value of the wrong kind raises `ConfigError` with
the key's full dotted name, so the operator knows exactly what to fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "luciq"
ACTION_NAME = re.compile(r"^(resources|database|filesystem|api)\.[a-z_]+(:.+)?$")


class ConfigError(ValueError):
    """A config file that cannot be used, with the file and key that are wrong."""


@dataclass(frozen=True)
class DatabaseConfig:
    name: str
    path: Path
    workload: Path | None = None


@dataclass(frozen=True)
class EndpointConfig:
    name: str
    url: str
    method: str = "GET"
    expect_status: int = 200
    timeout: float = 2.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRuleConfig:
    metric: str
    threshold: float
    severity: str = "warning"
    direction: str = "above"
    for_seconds: float = 0.0
    clear: float | None = None
    name: str = ""
    action: str = ""  # "optimizer.action[:target]", run when the alert fires (if enabled)
    cooldown_seconds: float = 600.0


@dataclass(frozen=True)
class Config:
    refresh: float = 1.0
    read_only: bool = False
    low_bandwidth: bool = False
    store: Path | None = None
    databases: tuple[DatabaseConfig, ...] = ()
    endpoints: tuple[EndpointConfig, ...] = ()
    filesystem_roots: tuple[Path, ...] = ()
    filesystem_min_age_seconds: float = 300.0
    filesystem_temp_dirs: tuple[Path, ...] = ()
    filesystem_temp_max_age_days: float = 7.0
    relief_command: tuple[str, ...] = ()
    relief_timeout: float = 30.0
    probe_interval: float = 5.0
    burst_count: int = 20
    burst_concurrency: int = 2
    burst_max_seconds: float = 10.0
    database_interval: float = 10.0
    workload_interval: float = 60.0
    filesystem_interval: float = 60.0
    alert_rules: tuple[AlertRuleConfig, ...] = ()
    auto_actions: bool = False
    raw_hours: float = 24.0
    rollup_days: float = 30.0
    alert_bell: bool = False
    source: Path | None = None

    def store_path(self) -> Path:
        """Where `monitoring.db` lives: as configured, else the user's data directory."""
        if self.store is not None:
            return self.store
        return Path(platformdirs.user_data_dir(APP_NAME)) / "monitoring.db"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


SEVERITIES = ("info", "warning", "critical")
# Hard caps on an "analyze now" burst, whatever the config says: a probe is not a load test.
MAX_BURST_COUNT = 1000
MAX_BURST_CONCURRENCY = 16
MAX_BURST_SECONDS = 60.0

DEFAULT_CONFIG_TEXT = """\
# Luciq configuration. Every key is optional; the values shown are the defaults.
# Paths may start with ~. An unknown key is an error, so a typo never goes unnoticed.

# Seconds between resource samples and screen refreshes (--refresh overrides it).
refresh = 1.0
# Hide and refuse every action: for watching only (--read-only overrides it).
read_only = false
# For slow links: panes redraw at most every 5 s and the latency graph is hidden
# (--low-bandwidth overrides it).
low_bandwidth = false
# Where the monitoring store lives; empty means the user's data directory.
# store = "~/.local/share/luciq/monitoring.db"

# Seconds between database inspections, endpoint probes and filesystem scans.
database_interval = 10.0
probe_interval = 5.0
# Seconds between timed runs of each database's workload queries (0: never). Each run loads
# the database like the application does; a query over 2 s is interrupted.
workload_interval = 60.0
filesystem_interval = 60.0

# One [[databases]] table per SQLite database to watch. `workload` is a SQL file of the
# queries the application runs (statements separated by ';', an optional "-- name: X"
# line before each names it).
# [[databases]]
# name = "app"
# path = "/srv/app/app.db"
# workload = "/srv/app/workload.sql"

# One [[endpoints]] table per HTTP endpoint to probe. Header values are never printed.
# [[endpoints]]
# name = "health"
# url = "http://127.0.0.1:8000/health"
# method = "GET"
# expect_status = 200
# timeout = 2.0
# headers = { Authorization = "Bearer ..." }

[filesystem]
# Folders whose caches (__pycache__, *.pyc, .pytest_cache, ...) may be cleaned.
roots = []
# Files changed more recently than this many seconds are never touched.
min_age_seconds = 300
# Temp folders where any file not modified for temp_max_age_days may be cleaned too.
temp_dirs = []
temp_max_age_days = 7

[retention]
# monitoring.db keeps raw samples this long, and per-minute rollups (for the long graphs)
# this long; older rows are deleted in the background.
raw_hours = 24
rollup_days = 30

[api]
# "Analyze now" sends at most this many requests, this many at a time, for at most this
# long (caps: 1000 requests, 16 at a time, 60 s).
burst_count = 20
burst_concurrency = 2
burst_max_seconds = 10.0

[resources]
# A command the operator trusts to relieve memory pressure, as an argv list (never a shell).
relief_command = []
relief_timeout = 30

[alerts]
# Run the action a rule names when it fires (never in read-only mode). Off by default.
auto_actions = false
# Ring the terminal bell when an alert fires.
bell = false

# Alert rules. Without any [[alerts.rules]], the defaults apply (README, "Alerts"): the seed's
# memory thresholds (80 % warning, 85 % critical), endpoint p95 above 500 ms, CPU sustained
# high, a disk nearly full, swap in use, an endpoint down, a slow workload query, a WAL growing
# without checkpoint, a failed integrity check.
# [[alerts.rules]]
# name = "memory high"
# metric = "memory.percent"   # a glob may match many: "api.*.p95_ms"
# above = 80                  # or: below = 20
# clear = 75                  # hysteresis: the alert resolves only below this
# for = "30s"                 # how long the condition must hold before firing
# severity = "warning"        # info, warning or critical
# action = "resources.relief" # run when it fires, if auto_actions is on
# cooldown_seconds = 600      # at most one auto-action per rule in this time
"""


def _expect(value: Any, kinds: type | tuple[type, ...], key: str, what: str) -> Any:
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ConfigError(f"{key}: expected {what}, got {value!r}")
    if not isinstance(value, kinds):
        raise ConfigError(f"{key}: expected {what}, got {value!r}")
    return value


def _number(value: Any, key: str, minimum: float | None = None) -> float:
    number = float(_expect(value, (int, float), key, "a number"))
    if minimum is not None and number < minimum:
        raise ConfigError(f"{key}: must be at least {minimum}, got {value!r}")
    return number


def _path(value: Any, key: str, base: Path | None) -> Path:
    text = _expect(value, str, key, "a path string")
    if not text:
        raise ConfigError(f"{key}: must not be empty")
    path = Path(text).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def _check_keys(table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            name = f"{prefix}{key}"
            raise ConfigError(f"{name}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _tables(value: Any, key: str) -> list[Mapping[str, Any]]:
    items = _expect(value, list, key, "a list of tables ([[...]])")
    for index, item in enumerate(items):
        _expect(item, dict, f"{key}[{index}]", "a table")
    return list(items)


def parse_config(data: Mapping[str, Any], base: Path | None = None) -> Config:
    """Turn parsed TOML into a `Config`, naming the first key that is wrong."""
    top = {
        "refresh", "read_only", "low_bandwidth", "store", "databases", "endpoints", "filesystem",
        "resources", "alerts", "api", "database_interval", "retention", "probe_interval",
        "filesystem_interval", "workload_interval",
    }
    _check_keys(data, top, "")
    kwargs: dict[str, Any] = {}
    if "refresh" in data:
        kwargs["refresh"] = _number(data["refresh"], "refresh", 0.1)
    if "low_bandwidth" in data:
        kwargs["low_bandwidth"] = _expect(data["low_bandwidth"], bool, "low_bandwidth",
                                          "true or false")
    if "read_only" in data:
        kwargs["read_only"] = _expect(data["read_only"], bool, "read_only", "true or false")
    if "store" in data:
        kwargs["store"] = _path(data["store"], "store", base)
    for key in ("database_interval", "probe_interval", "filesystem_interval"):
        if key in data:
            kwargs[key] = _number(data[key], key, 0.5)
    if "workload_interval" in data:
        kwargs["workload_interval"] = _number(data["workload_interval"], "workload_interval", 0)

    databases = []
    seen: set[str] = set()
    for index, table in enumerate(_tables(data.get("databases", []), "databases")):
        prefix = f"databases[{index}]."
        _check_keys(table, {"name", "path", "workload"}, prefix)
        if "path" not in table:
            raise ConfigError(f"{prefix}path: required")
        path = _path(table["path"], prefix + "path", base)
        name = _expect(table.get("name", path.stem), str, prefix + "name", "a string")
        if name in seen:
            raise ConfigError(f"{prefix}name: {name!r} is used twice")
        seen.add(name)
        workload = (
            _path(table["workload"], prefix + "workload", base) if "workload" in table else None
        )
        databases.append(DatabaseConfig(name=name, path=path, workload=workload))
    kwargs["databases"] = tuple(databases)

    endpoints = []
    seen = set()
    allowed = {"name", "url", "method", "expect_status", "timeout", "headers"}
    for index, table in enumerate(_tables(data.get("endpoints", []), "endpoints")):
        prefix = f"endpoints[{index}]."
        _check_keys(table, allowed, prefix)
        if "url" not in table:
            raise ConfigError(f"{prefix}url: required")
        url = _expect(table["url"], str, prefix + "url", "a URL string")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{prefix}url: must start with http:// or https://, got {url!r}")
        name = _expect(table.get("name", url), str, prefix + "name", "a string")
        if name in seen:
            raise ConfigError(f"{prefix}name: {name!r} is used twice")
        seen.add(name)
        method = _expect(table.get("method", "GET"), str, prefix + "method", "a string").upper()
        if method not in {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}:
            raise ConfigError(f"{prefix}method: unknown HTTP method {method!r}")
        status = int(_expect(table.get("expect_status", 200), int, prefix + "expect_status",
                             "an HTTP status code"))
        if not 100 <= status <= 599:
            raise ConfigError(f"{prefix}expect_status: not an HTTP status code: {status}")
        timeout = _number(table.get("timeout", 2.0), prefix + "timeout", 0.05)
        headers = _expect(table.get("headers", {}), dict, prefix + "headers", "a table")
        for header, value in headers.items():
            _expect(value, str, f"{prefix}headers.{header}", "a string")
        endpoints.append(EndpointConfig(name, url, method, status, timeout, dict(headers)))
    kwargs["endpoints"] = tuple(endpoints)

    filesystem = _expect(data.get("filesystem", {}), dict, "filesystem", "a table")
    _check_keys(filesystem, {"roots", "min_age_seconds", "temp_dirs", "temp_max_age_days"},
                "filesystem.")
    roots = _expect(filesystem.get("roots", []), list, "filesystem.roots", "a list of paths")
    kwargs["filesystem_roots"] = tuple(
        _path(root, f"filesystem.roots[{i}]", base) for i, root in enumerate(roots)
    )
    temp_dirs = _expect(filesystem.get("temp_dirs", []), list, "filesystem.temp_dirs",
                        "a list of paths")
    kwargs["filesystem_temp_dirs"] = tuple(
        _path(folder, f"filesystem.temp_dirs[{i}]", base) for i, folder in enumerate(temp_dirs)
    )
    if "temp_max_age_days" in filesystem:
        kwargs["filesystem_temp_max_age_days"] = _number(
            filesystem["temp_max_age_days"], "filesystem.temp_max_age_days", 0
        )
    if "min_age_seconds" in filesystem:
        kwargs["filesystem_min_age_seconds"] = _number(
            filesystem["min_age_seconds"], "filesystem.min_age_seconds", 0
        )

    retention = _expect(data.get("retention", {}), dict, "retention", "a table")
    _check_keys(retention, {"raw_hours", "rollup_days"}, "retention.")
    if "raw_hours" in retention:
        kwargs["raw_hours"] = _number(retention["raw_hours"], "retention.raw_hours", 1)
    if "rollup_days" in retention:
        kwargs["rollup_days"] = _number(retention["rollup_days"], "retention.rollup_days", 1)

    api = _expect(data.get("api", {}), dict, "api", "a table")
    _check_keys(api, {"burst_count", "burst_concurrency", "burst_max_seconds"}, "api.")
    for key, low, high in (("burst_count", 1, MAX_BURST_COUNT),
                           ("burst_concurrency", 1, MAX_BURST_CONCURRENCY)):
        if key in api:
            value = _expect(api[key], int, f"api.{key}", "a whole number")
            if not low <= value <= high:
                raise ConfigError(f"api.{key}: must be from {low} to {high}, got {value}")
            kwargs[key] = value
    if "burst_max_seconds" in api:
        seconds = _number(api["burst_max_seconds"], "api.burst_max_seconds", 0.1)
        if seconds > MAX_BURST_SECONDS:
            raise ConfigError(f"api.burst_max_seconds: at most {MAX_BURST_SECONDS}, got {seconds}")
        kwargs["burst_max_seconds"] = seconds

    resources = _expect(data.get("resources", {}), dict, "resources", "a table")
    _check_keys(resources, {"relief_command", "relief_timeout"}, "resources.")
    command = _expect(resources.get("relief_command", []), list, "resources.relief_command",
                      "a list of strings (argv)")
    for i, part in enumerate(command):
        _expect(part, str, f"resources.relief_command[{i}]", "a string")
    kwargs["relief_command"] = tuple(command)
    if "relief_timeout" in resources:
        kwargs["relief_timeout"] = _number(resources["relief_timeout"],
                                           "resources.relief_timeout", 1)

    alerts = _expect(data.get("alerts", {}), dict, "alerts", "a table")
    _check_keys(alerts, {"rules", "auto_actions", "bell"}, "alerts.")
    if "auto_actions" in alerts:
        kwargs["auto_actions"] = _expect(alerts["auto_actions"], bool, "alerts.auto_actions",
                                         "true or false")
    if "bell" in alerts:
        kwargs["alert_bell"] = _expect(alerts["bell"], bool, "alerts.bell", "true or false")
    rules = [_parse_rule(table, f"alerts.rules[{index}].")
             for index, table in enumerate(_tables(alerts.get("rules", []), "alerts.rules"))]
    kwargs["alert_rules"] = tuple(rules)
    return Config(**kwargs)


RULE_KEYS = {"name", "metric", "above", "below", "direction", "threshold", "clear", "for",
             "for_seconds", "severity", "action", "cooldown_seconds"}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What each metric family ends with (README "Metric names"): a rule must name one of them.
METRIC_FAMILIES: dict[str, set[str]] = {
    "cpu": {"percent"},
    "load": {"1m"},
    "memory": {"percent", "available_bytes"},
    "swap": {"percent"},
    "pressure": {"avg10"},
    "disk": {"percent", "read_bps", "write_bps"},
    "net": {"rx_bps", "tx_bps"},
    "db": {"ok", "size_bytes", "wal_bytes", "free_percent", "ms", "integrity_ok"},
    "fs": {"reclaimable_bytes"},
    "api": {"up", "latency_ms", "p95_ms", "error_rate"},
}


def parse_duration(value: Any, key: str) -> float:
    """Seconds from a number or a string like "90s", "5m", "1h"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value[-1:] in DURATION_UNITS:
        try:
            seconds = float(value[:-1]) * DURATION_UNITS[value[-1]]
        except ValueError:
            raise ConfigError(f"{key}: bad duration {value!r} (use 30s, 5m, 1h)") from None
    else:
        raise ConfigError(f"{key}: bad duration {value!r} (use 30s, 5m, 1h)")
    if seconds < 0:
        raise ConfigError(f"{key}: a duration cannot be negative: {value!r}")
    return seconds


def check_metric(metric: str, key: str) -> str:
    """A rule's metric must be one Luciq produces (globs allowed: `api.*.p95_ms`)."""
    family, _, rest = metric.partition(".")
    last = metric.rsplit(".", 1)[-1]
    known = METRIC_FAMILIES.get(family)
    if not rest or known is None or not (last in known or last == "*"):
        families = ", ".join(f"{name}.*" for name in METRIC_FAMILIES)
        raise ConfigError(f"{key}: unknown metric {metric!r} (metrics are {families}; "
                          "the README lists them all)")
    return metric


def _parse_rule(table: Mapping[str, Any], prefix: str) -> AlertRuleConfig:
    _check_keys(table, RULE_KEYS, prefix)
    if "metric" not in table:
        raise ConfigError(f"{prefix}metric: required")
    metric = check_metric(_expect(table["metric"], str, prefix + "metric", "a metric name"),
                          prefix + "metric")
    given = [key for key in ("above", "below", "threshold") if key in table]
    if not given:
        raise ConfigError(f"{prefix}threshold: required (give `above = X` or `below = X`)")
    if len(given) > 1:
        raise ConfigError(f"{prefix}{given[1]}: give only one of above, below, threshold")
    if given[0] == "threshold":
        direction = _expect(table.get("direction", "above"), str, prefix + "direction",
                            "a string")
        if direction not in ("above", "below"):
            raise ConfigError(f"{prefix}direction: must be 'above' or 'below', got {direction!r}")
    else:
        direction = given[0]
        if "direction" in table:
            raise ConfigError(f"{prefix}direction: not needed with `{direction}`")
    threshold = _number(table[given[0]], prefix + given[0])
    severity = _expect(table.get("severity", "warning"), str, prefix + "severity", "a string")
    if severity not in SEVERITIES:
        raise ConfigError(f"{prefix}severity: must be one of {', '.join(SEVERITIES)}")
    clear = _number(table["clear"], prefix + "clear") if "clear" in table else None
    if clear is not None and (
        (direction == "above" and clear > threshold)
        or (direction == "below" and clear < threshold)
    ):
        raise ConfigError(f"{prefix}clear: must be on the safe side of threshold {threshold}")
    if "for" in table and "for_seconds" in table:
        raise ConfigError(f"{prefix}for: give `for` or `for_seconds`, not both")
    duration_key = "for" if "for" in table else "for_seconds"
    for_seconds = parse_duration(table.get(duration_key, 0), prefix + duration_key)
    action = _expect(table.get("action", ""), str, prefix + "action", "an action name")
    if action and not ACTION_NAME.match(action):
        raise ConfigError(f"{prefix}action: {action!r} is not an action name like "
                          "'filesystem.clean' or 'database.analyze:app'")
    cooldown = parse_duration(table.get("cooldown_seconds", 600), prefix + "cooldown_seconds")
    return AlertRuleConfig(
        metric=metric, threshold=threshold, severity=severity, direction=direction,
        for_seconds=for_seconds, clear=clear,
        name=_expect(table.get("name", ""), str, prefix + "name", "a string"),
        action=action, cooldown_seconds=cooldown,
    )


def load_config(path: Path | None = None) -> Config:
    """Load the named config file, or the default one if it exists, else the defaults."""
    explicit = path is not None
    path = path or default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: no such config file (create one with `luciq config init`)")
        return Config()
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    try:
        config = parse_config(data, base=path.parent)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
    return replace(config, source=path)


def write_default_config(path: Path, force: bool = False) -> Path:
    """Write the commented default config; refuse to overwrite unless forced."""
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    return path
