from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from luciq_tui.core.filesystem import FilesystemOptimizer, scan_root
from luciq_tui.core.optimizer import run_action

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
