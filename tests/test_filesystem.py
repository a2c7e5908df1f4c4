from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from luciq_tui.core.filesystem import FilesystemOptimizer, scan_root
from luciq_tui.core.optimizer import run_action
from luciq_tui.core.store import MonitoringStore

OLD = time.time() - 3600


def _file(path: Path, size: int = 100, old: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if old:
        os.utime(path, (OLD, OLD))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A root with real caches, look-alikes, symlinks out of the root and a fresh cache."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    _file(outside / "precious.pyc", 50)
    _file(outside / "__pycache__" / "keep.pyc", 50)
    _file(root / "pkg" / "__pycache__" / "a.cpython-311.pyc", 1000)
    _file(root / "pkg" / "__pycache__" / "b.cpython-311.pyc", 500)
    _file(root / "pkg" / "old.pyc", 200)
    _file(root / "pkg" / "old.pyo", 300)
    _file(root / ".pytest_cache" / "v" / "cache" / "nodeids", 400)
    _file(root / ".mypy_cache" / "3.11" / "x.json", 600)
    _file(root / ".ruff_cache" / "0.6" / "1", 700)
    _file(root / "pkg" / "foo.pyc.txt", 10)  # looks like a cache, is not
    (root / "pkg" / "x.pyc").mkdir()  # a folder named like a cache file
    _file(root / "pkg" / "x.pyc" / "data.bin", 10)
    _file(root / "pkg" / "module.py", 10)
    _file(root / "fresh" / "__pycache__" / "new.pyc", 10, old=False)
    (root / "link-out").symlink_to(outside, target_is_directory=True)
    (root / "pkg" / "linked.pyc").symlink_to(outside / "precious.pyc")
    (root / "linked_cache").mkdir()
    (root / "linked_cache" / "__pycache__").symlink_to(outside / "__pycache__")
    return root


def _names(paths: list[str], root: Path) -> set[str]:
    return {os.path.relpath(path, root) for path in paths}


def test_scan_finds_only_caches_inside_the_root(tree: Path) -> None:
    scan = scan_root(tree, min_age_seconds=300)
    assert _names([item.path for item in scan.items], tree) == {
        "pkg/__pycache__", "pkg/old.pyc", "pkg/old.pyo", ".pytest_cache", ".mypy_cache",
        ".ruff_cache",
    }
    assert scan.bytes == 1000 + 500 + 200 + 300 + 400 + 600 + 700
    assert scan.files == 7
    assert scan.skipped_recent == 1  # fresh/__pycache__
    assert scan.complete and scan.errors == ()


def test_clean_deletes_exactly_the_preview(tree: Path, tmp_path: Path) -> None:
    optimizer = FilesystemOptimizer([tree], min_age_seconds=300)
    spec = optimizer.actions(None)[0]
    preview = optimizer.preview(spec)
    assert "7 files" in preview.summary
    result = run_action(optimizer, preview, read_only=False)
    assert result.ok, result.output
    assert result.after == {"deleted": 6, "freed_bytes": 3700}
    remaining = {str(p.relative_to(tree)) for p in tree.rglob("*")}
    assert "pkg/foo.pyc.txt" in remaining and "pkg/x.pyc/data.bin" in remaining
    assert "pkg/module.py" in remaining and "fresh/__pycache__/new.pyc" in remaining
    assert "pkg/linked.pyc" in remaining and "linked_cache/__pycache__" in remaining
    assert not (tree / "pkg" / "__pycache__").exists()
    assert (tmp_path / "outside" / "precious.pyc").exists()
    assert (tmp_path / "outside" / "__pycache__" / "keep.pyc").exists()


def test_a_path_swapped_for_a_symlink_after_the_preview_is_refused(
    tree: Path, tmp_path: Path
) -> None:
    optimizer = FilesystemOptimizer([tree], min_age_seconds=300)
    preview = optimizer.preview(optimizer.actions(None)[0])
    cache = tree / "pkg" / "__pycache__"
    for child in cache.iterdir():
        child.unlink()
    cache.rmdir()
    cache.symlink_to(tmp_path / "outside" / "__pycache__")
    (tree / "pkg" / "old.pyc").unlink()
    _file(tree / "pkg" / "old.pyc", 200)  # a new file under the old name: another inode
    result = run_action(optimizer, preview, read_only=False)
    assert not result.ok
    assert "became a symlink" in result.output and "replaced since the scan" in result.output
    assert (tmp_path / "outside" / "__pycache__" / "keep.pyc").exists()
    assert (tree / "pkg" / "old.pyc").exists()


def test_unreadable_folders_are_reported(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads every folder, so the refusal is simulated where the scanner meets it."""
    locked = tree / "locked"
    locked.mkdir()
    _file(locked / "__pycache__" / "hidden.pyc")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    scan = scan_root(tree, min_age_seconds=300)
    assert any(str(locked) in error and "Permission denied" in error for error in scan.errors)
    assert not any(item.path.startswith(str(locked)) for item in scan.items)
    assert scan.files == 7  # the rest of the tree was still scanned


def test_cancel_stops_between_items(tree: Path) -> None:
    optimizer = FilesystemOptimizer([tree], min_age_seconds=300)
    preview = optimizer.preview(optimizer.actions(None)[0])
    cancel = threading.Event()
    cancel.set()
    result = optimizer.execute(preview, lambda f, m: None, cancel)
    assert result.cancelled and result.after["deleted"] == 0
    assert (tree / "pkg" / "__pycache__").exists()


def test_no_roots_means_no_clean() -> None:
    optimizer = FilesystemOptimizer([])
    spec = optimizer.actions(None)[0]
    assert not spec.available and "roots" in spec.reason


def test_temp_dirs_offer_old_files_only(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    week_old = time.time() - 8 * 86400
    for name in ("old.log", "sub/old.bin"):
        _file(temp / name, 100)
        os.utime(temp / name, (week_old, week_old))
    _file(temp / "recent.log", 100)  # an hour old: younger than 7 days
    optimizer = FilesystemOptimizer([], min_age_seconds=300, temp_dirs=[temp],
                                    temp_max_age_days=7)
    scan = optimizer.observe().roots[0]
    assert _names([item.path for item in scan.items], temp) == {"old.log", "sub/old.bin"}
    result = run_action(optimizer, optimizer.preview(optimizer.actions(None)[0]),
                        read_only=False)
    assert result.ok and result.after == {"deleted": 2, "freed_bytes": 200}
    assert (temp / "recent.log").exists()


def test_read_only_files_go_and_failures_are_reported(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree / "pkg" / "old.pyc").chmod(0o444)  # unlinking needs the folder writable, not the file
    optimizer = FilesystemOptimizer([tree], min_age_seconds=300)
    preview = optimizer.preview(optimizer.actions(None)[0])
    real_unlink = os.unlink

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if os.fspath(path).endswith("old.pyo"):
            raise PermissionError(13, "Operation not permitted")
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    result = run_action(optimizer, preview, read_only=False)
    assert not result.ok and "1 refused" in result.summary
    assert "old.pyo: Operation not permitted" in result.output
    assert not (tree / "pkg" / "old.pyc").exists()
    assert (tree / "pkg" / "old.pyo").exists()


def test_scan_reports_progress_and_respects_its_budget(tree: Path) -> None:
    seen: list[int] = []
    scan_root(tree, progress=lambda entries, folder: seen.append(entries))
    assert seen and seen == sorted(seen)
    stopped = scan_root(tree, budget_s=0.0)
    assert not stopped.complete and "budget" in stopped.errors[-1]


def test_mount_space_is_reported_beside_the_scan(tree: Path) -> None:
    snapshot = FilesystemOptimizer([tree], min_age_seconds=300).observe()
    assert len(snapshot.mounts) == 1
    mount = snapshot.mounts[0]
    assert mount.total > 0 and 0 <= mount.percent <= 100
    assert str(tree).startswith(mount.mountpoint)


def test_clean_cli_dry_run_then_apply(tree: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from luciq_tui.cli import main

    config = tmp_path / "luciq.toml"
    config.write_text(f'store = "{tmp_path / "monitoring.db"}"\n')
    assert main(["clean", str(tree), "--json", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["applied"] is False and report["roots"][0]["files"] == 7
    assert (tree / "pkg" / "__pycache__").exists()  # a dry run deletes nothing
    code = main(["clean", str(tree), "--apply", "--yes", "--json", "--config", str(config)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["applied"] and report["result"] == {"deleted": 6, "freed_bytes": 3700}
    assert not (tree / "pkg" / "__pycache__").exists()
    log = MonitoringStore(tmp_path / "monitoring.db").action_log()
    assert log[0].action == "Clean caches" and log[0].ok
    assert main(["clean", str(tmp_path / "nope")]) == 2
