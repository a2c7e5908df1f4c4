from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from luciq_tui.cli import main


def test_config_init_writes_a_default_that_loads(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "luciq.toml"
    assert main(["config", "init", "--path", str(path)]) == 0
    assert path.exists()
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["config", "init", "--path", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_bad_config_is_one_plain_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[databases]]\npath = 'x.db'\nspeed = 'max'\n")
    result = subprocess.run(
        [sys.executable, "-m", "luciq_tui", "--config", str(path)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "databases[0].speed: unknown key" in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_flag_values_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--refresh", "0"])
    assert raised.value.code == 2
    assert "at least 0.1" in capsys.readouterr().err


def test_global_flags_reach_subcommands(tmp_path: Path) -> None:
    from luciq_tui.cli import build_parser

    args = build_parser().parse_args(["--read-only", "--refresh", "2", "demo", "--dir", "d"])
    assert args.read_only and args.refresh == 2.0 and args.dir == Path("d")
    args = build_parser().parse_args(["demo", "--read-only"])
    assert args.read_only


def test_demo_build_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ws"
    assert main(["demo", "--dir", str(folder), "--rows", "300", "--build-only"]) == 0
    assert "built demo workspace" in capsys.readouterr().err
    assert (folder / "secure_ab_testing.db").exists() and (folder / "workload.sql").exists()
    assert main(["demo", "--dir", str(folder), "--rows", "300", "--build-only"]) == 0
    assert "reused demo workspace" in capsys.readouterr().err
    file = tmp_path / "file"
    file.write_text("x")
    assert main(["demo", "--dir", str(file), "--build-only"]) == 2
    assert "not a folder" in capsys.readouterr().err
