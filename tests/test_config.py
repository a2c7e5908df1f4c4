from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from luciq_tui.core.config import (
    DEFAULT_CONFIG_TEXT,
    Config,
    ConfigError,
    load_config,
    parse_config,
    write_default_config,
)


def test_default_config_text_parses_to_the_defaults() -> None:
    config = parse_config(tomllib.loads(DEFAULT_CONFIG_TEXT))
    assert config == Config()


def test_config_init_writes_once_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    write_default_config(path)
    assert load_config(path).refresh == 1.0
    with pytest.raises(ConfigError, match="already exists"):
        write_default_config(path)
    path.write_text("refresh = 3\n")
    write_default_config(path, force=True)
    assert path.read_text() == DEFAULT_CONFIG_TEXT


def test_full_config_is_read(tmp_path: Path) -> None:
    path = tmp_path / "luciq.toml"
    path.write_text(
        """
refresh = 2
read_only = true
store = "state/monitoring.db"
[[databases]]
name = "app"
path = "app.db"
workload = "w.sql"
[[endpoints]]
name = "health"
url = "http://127.0.0.1:9/health"
headers = { Authorization = "secret" }
[filesystem]
roots = ["/srv/app"]
min_age_seconds = 60
[resources]
relief_command = ["systemctl", "restart", "app"]
[alerts]
auto_actions = true
[[alerts.rules]]
metric = "cpu.percent"
threshold = 90
clear = 80
for_seconds = 30
severity = "critical"
[[alerts.rules]]
metric = "api.*.up"
below = 0.5
for = "2m"
action = "api.probe"
cooldown_seconds = "10m"
"""
    )
    config = load_config(path)
    assert config.refresh == 2.0 and config.read_only
    assert config.store == tmp_path / "state" / "monitoring.db"
    assert config.databases[0].path == tmp_path / "app.db"
    assert config.databases[0].workload == tmp_path / "w.sql"
    assert config.endpoints[0].headers == {"Authorization": "secret"}
    assert config.filesystem_roots == (Path("/srv/app"),)
    assert config.relief_command == ("systemctl", "restart", "app")
    rule = config.alert_rules[0]
    assert (rule.threshold, rule.clear, rule.for_seconds, rule.severity) == (90, 80, 30,
                                                                            "critical")
    down = config.alert_rules[1]
    assert (down.direction, down.threshold, down.for_seconds) == ("below", 0.5, 120)
    assert (down.action, down.cooldown_seconds) == ("api.probe", 600)
    assert config.auto_actions


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("refrsh = 1", "refresh"),  # the typo is named, with what is allowed
        ("refresh = 'fast'", "refresh: expected a number"),
        ("refresh = 0", "refresh: must be at least"),
        ("read_only = 1", "read_only: expected true or false"),
        ("[[databases]]\nname = 'x'", "databases[0].path: required"),
        ("[[databases]]\npath = 'a.db'\ncolour = 1", "databases[0].colour: unknown key"),
        ("[[endpoints]]\nurl = 'ftp://x'", "endpoints[0].url: must start with http"),
        ("[[endpoints]]\nurl = 'http://x'\nmethod = 'FETCH'", "endpoints[0].method"),
        ("[filesystem]\nroots = 'one'", "filesystem.roots: expected a list"),
        ("[resources]\nrelief_command = 'echo hi'", "resources.relief_command"),
        ("[[alerts.rules]]\nmetric = 'cpu.percent'", "alerts.rules[0].threshold: required"),
        ("[[alerts.rules]]\nmetric = 'cpu.percent'\nabove = 1\nseverity = 'loud'",
         "alerts.rules[0].severity"),
        ("[[alerts.rules]]\nmetric = 'cpu.percent'\nabove = 80\nclear = 90",
         "alerts.rules[0].clear"),
        ("[[alerts.rules]]\nmetric = 'memory.percnt'\nabove = 80",
         "alerts.rules[0].metric: unknown metric 'memory.percnt'"),
        ("[[alerts.rules]]\nmetric = 'cpu.percent'\nabove = 80\nfor = 'soon'",
         "alerts.rules[0].for: bad duration 'soon'"),
        ("[[alerts.rules]]\nmetric = 'cpu.percent'\nabove = 80\nbelow = 10",
         "alerts.rules[0].below: give only one"),
        ("[[alerts.rules]]\nmetric = 'cpu.percent'\nabove = 80\naction = 'rm -rf /'",
         "alerts.rules[0].action"),
        ("[alerts]\nauto_actions = 'yes'", "alerts.auto_actions: expected true or false"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert str(path) in message
    assert names in message


def test_unparseable_and_missing_config(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("refresh = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
