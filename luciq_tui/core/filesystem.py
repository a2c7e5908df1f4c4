"""The filesystem optimizer: finds reclaimable caches under configured roots and cleans them.

The scan never follows a symlink and never leaves its root; it skips anything changed in
the last `min_age_seconds` and reports what it could not read. Clean deletes only what the
confirmed preview listed, re-checking each path (same inode, not a symlink, still inside
the root) just before it goes.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luciq_tui.core.optimizer import (
    ActionRefused,
    ActionResult,
    ActionSpec,
    Optimizer,
    Preview,
    ProgressCallback,
)

CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
CACHE_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class CleanItem:
    """One file or folder the cleaner would delete, with its identity at scan time."""

    path: str
    kind: str  # "dir" or "file"
    bytes: int
    files: int
    device: int
    inode: int


@dataclass(frozen=True)
class RootScan:
    root: str
    items: tuple[CleanItem, ...]
    errors: tuple[str, ...]
    skipped_recent: int
    complete: bool
    duration_s: float

    @property
    def bytes(self) -> int:
        return sum(item.bytes for item in self.items)

    @property
    def files(self) -> int:
        return sum(item.files for item in self.items)

    def largest(self, count: int = 5) -> list[tuple[str, int]]:
        """The folders holding the most reclaimable bytes."""
        totals: dict[str, int] = {}
        for item in self.items:
            parent = os.path.dirname(item.path)
            totals[parent] = totals.get(parent, 0) + item.bytes
        return sorted(totals.items(), key=lambda pair: pair[1], reverse=True)[:count]


@dataclass(frozen=True)
class MountSpace:
    """Disk space on a filesystem that holds a configured root."""

    mountpoint: str
    total: int
    used: int
    free: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.total if self.total else 0.0


@dataclass(frozen=True)
class FilesystemSnapshot:
    roots: tuple[RootScan, ...] = ()
    timestamp: float = 0.0
    mounts: tuple[MountSpace, ...] = ()

    @property
    def bytes(self) -> int:
        return sum(root.bytes for root in self.roots)

    @property
    def files(self) -> int:
        return sum(root.files for root in self.roots)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _tree_size(path: str, errors: list[str], newest: list[float]) -> tuple[int, int]:
    """Bytes and files under a folder, without following symlinks; `newest` gets the
    newest file modification time."""
    total = files = 0
    try:
        entries = list(os.scandir(path))
    except OSError as error:
        errors.append(f"{path}: {error.strerror or error}")
        return 0, 0
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            errors.append(f"{entry.path}: {error.strerror or error}")
            continue
        if stat.S_ISDIR(info.st_mode):
            sub_bytes, sub_files = _tree_size(entry.path, errors, newest)
            total += sub_bytes
            files += sub_files
        else:
            newest[0] = max(newest[0], info.st_mtime)
            total += info.st_size
            files += 1
    return total, files


def scan_root(
    root: Path,
    min_age_seconds: float = 300.0,
    budget_s: float = 10.0,
    now: float | None = None,
    temp_max_age_s: float | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> RootScan:
    """Find what may be reclaimed under `root` within a time budget.

    Caches anywhere under the root; and, when `temp_max_age_s` is given (a temp
    directory), every regular file not modified for that long.
    """
    started = time.perf_counter()
    now = time.time() if now is None else now
    errors: list[str] = []
    items: list[CleanItem] = []
    skipped = 0
    visited = 0
    try:
        real_root = os.path.realpath(root)
        root_info = os.lstat(real_root)
    except OSError as error:
        return RootScan(str(root), (), (f"{root}: {error.strerror or error}",), 0, False, 0.0)
    if not stat.S_ISDIR(root_info.st_mode):
        return RootScan(str(root), (), (f"{root}: not a directory",), 0, False, 0.0)
    stack = [real_root]
    complete = True
    while stack:
        if time.perf_counter() - started > budget_s:
            complete = False
            errors.append(f"{root}: scan stopped after its {budget_s:g} s budget")
            break
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            errors.append(f"{folder}: {error.strerror or error}")
            continue
        visited += len(entries)
        if progress is not None:
            progress(visited, folder)
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as error:
                errors.append(f"{entry.path}: {error.strerror or error}")
                continue
            if stat.S_ISLNK(info.st_mode):
                continue  # never followed, never deleted
            if not _inside(os.path.realpath(entry.path), real_root):
                errors.append(f"{entry.path}: resolves outside {real_root}; left alone")
                continue
            if stat.S_ISDIR(info.st_mode):
                if entry.name in CACHE_DIRS:
                    newest = [0.0]  # the newest file inside: a cache in use is left alone
                    size, files = _tree_size(entry.path, errors, newest)
                    if now - newest[0] < min_age_seconds:
                        skipped += 1
                        continue
                    items.append(CleanItem(entry.path, "dir", size, files, info.st_dev,
                                           info.st_ino))
                else:
                    stack.append(entry.path)
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            is_cache = entry.name.endswith(CACHE_SUFFIXES)
            is_old_temp = temp_max_age_s is not None and now - info.st_mtime >= temp_max_age_s
            if not (is_cache or is_old_temp):
                continue
            if now - info.st_mtime < min_age_seconds:
                skipped += 1
                continue
            items.append(CleanItem(entry.path, "file", info.st_size, 1, info.st_dev,
                                   info.st_ino))
    items.sort(key=lambda item: item.path)
    return RootScan(real_root, tuple(items), tuple(errors), skipped, complete,
                    time.perf_counter() - started)


def mounts_for(paths: Sequence[Path]) -> tuple[MountSpace, ...]:
    """Space on each filesystem holding one of `paths` (each filesystem once)."""
    seen: dict[int, MountSpace] = {}
    for path in paths:
        try:
            device = os.stat(path).st_dev
            if device in seen:
                continue
            usage = shutil.disk_usage(path)
        except OSError:
            continue
        mount = os.path.realpath(path)
        while not os.path.ismount(mount):
            mount = os.path.dirname(mount)
        seen[device] = MountSpace(mount, usage.total, usage.used, usage.free)
    return tuple(seen.values())


def _recheck(item: CleanItem, root: str) -> str | None:
    """Why `item` must not be deleted now, or None when it is still what the preview listed."""
    try:
        info = os.lstat(item.path)
    except FileNotFoundError:
        return "already gone"
    except OSError as error:
        return error.strerror or str(error)
    if stat.S_ISLNK(info.st_mode):
        return "became a symlink since the scan"
    if (info.st_dev, info.st_ino) != (item.device, item.inode):
        return "was replaced since the scan"
    if stat.S_ISDIR(info.st_mode) != (item.kind == "dir"):
        return "changed kind since the scan"
    if not _inside(os.path.realpath(item.path), root):
        return "resolves outside its root"
    return None


class FilesystemOptimizer(Optimizer[FilesystemSnapshot]):
    """Scans the configured roots for caches and cleans exactly what the preview listed."""

    name = "filesystem"

    def __init__(
        self,
        roots: Sequence[Path],
        min_age_seconds: float = 300.0,
        interval: float = 60.0,
        budget_s: float = 10.0,
        temp_dirs: Sequence[Path] = (),
        temp_max_age_days: float = 7.0,
    ) -> None:
        self.roots = tuple(roots)
        self.temp_dirs = tuple(temp_dirs)
        self.temp_max_age_s = temp_max_age_days * 86400
        self.min_age_seconds = min_age_seconds
        self.interval = interval
        self.budget_s = budget_s
        self.on_progress: Callable[[int, str], None] | None = None
        self._latest = FilesystemSnapshot()

    @property
    def configured(self) -> bool:
        return bool(self.roots or self.temp_dirs)

    def scan(self) -> tuple[RootScan, ...]:
        """Scan every root (caches) and temp directory (caches and old files)."""
        scans = [scan_root(root, self.min_age_seconds, self.budget_s,
                           progress=self.on_progress) for root in self.roots]
        scans += [scan_root(folder, self.min_age_seconds, self.budget_s,
                            temp_max_age_s=self.temp_max_age_s, progress=self.on_progress)
                  for folder in self.temp_dirs]
        return tuple(scans)

    def observe(self) -> FilesystemSnapshot:
        scans = self.scan()
        self._latest = FilesystemSnapshot(scans, time.time(),
                                          mounts_for([Path(scan.root) for scan in scans]))
        return self._latest

    def metrics(self, snapshot: FilesystemSnapshot) -> dict[str, float]:
        return {"fs.reclaimable_bytes": float(snapshot.bytes)}

    def actions(self, snapshot: FilesystemSnapshot | None) -> tuple[ActionSpec, ...]:
        configured = self.configured
        return (
            ActionSpec(
                self.name, "clean", "Clean caches", "c", "",
                "Delete Python, test and type-checker caches under the configured roots.",
                available=configured,
                reason="" if configured else "no filesystem.roots or temp_dirs are configured",
            ),
        )

    def preview(self, action: ActionSpec) -> Preview:
        if action.name != "clean":
            raise ActionRefused(f"unknown filesystem action {action.name!r}")
        if not self.configured:
            raise ActionRefused("no filesystem.roots or temp_dirs are configured")
        return self.preview_scans(action, self.scan())

    def preview_scans(self, action: ActionSpec, scans: Sequence[RootScan]) -> Preview:
        """The clean preview for scans already taken: it lists exactly what they found."""
        items = [(scan.root, item) for scan in scans for item in scan.items]
        total = sum(item.bytes for _root, item in items)
        files = sum(item.files for _root, item in items)
        details = [f"{'dir ' if item.kind == 'dir' else 'file'} {item.bytes:>10,d} B  {item.path}"
                   for _root, item in items]
        warnings = [error for scan in scans for error in scan.errors]
        skipped = sum(scan.skipped_recent for scan in scans)
        if skipped:
            warnings.append(f"{skipped} recently changed item(s) left alone")
        return Preview(
            action=action,
            summary=f"Delete {len(items)} cache item(s): {files} files, {total / 2**20:.2f} MiB",
            details=tuple(details) or ("nothing to clean",),
            cost="deletes files; each path is checked again just before it goes",
            warnings=tuple(warnings),
            payload=tuple(items),
        )

    def execute(
        self, preview: Preview, progress: ProgressCallback, cancel: threading.Event
    ) -> ActionResult:
        freed = deleted = 0
        refused: list[str] = []
        items: list[tuple[str, CleanItem]] = list(preview.payload)
        roots = {os.path.realpath(root) for root in (*self.roots, *self.temp_dirs)}
        for index, (root, item) in enumerate(items):
            if cancel.is_set():
                break
            progress(index / max(1, len(items)), item.path)
            if root not in roots:
                refused.append(f"{item.path}: its root is no longer configured")
                continue
            reason = _recheck(item, root)
            if reason:
                refused.append(f"{item.path}: {reason}")
                continue
            errors: list[str] = []

            def failed(_function: object, path: str, info: Any, errors: list[str] = errors) -> None:
                errors.append(f"{path}: {getattr(info[1], 'strerror', None) or info[1]}")

            try:
                if item.kind == "dir":
                    size, _files = _tree_size(item.path, errors, [0.0])
                    shutil.rmtree(item.path, onerror=failed)
                else:
                    size = os.lstat(item.path).st_size
                    os.unlink(item.path)
            except OSError as error:
                refused.append(f"{item.path}: {error.strerror or error}")
                continue
            if errors:
                refused.extend(errors)
            else:
                freed += size
                deleted += 1
        progress(1.0, "done")
        cancelled = cancel.is_set()
        summary = (f"deleted {deleted} of {len(items)} item(s), freed {freed / 2**20:.2f} MiB"
                   + (f"; {len(refused)} refused" if refused else "")
                   + ("; cancelled" if cancelled else ""))
        return ActionResult(
            preview.action, not refused and not cancelled, summary,
            before={"items": len(items)},
            after={"deleted": deleted, "freed_bytes": freed},
            output="\n".join(refused),
            cancelled=cancelled,
        )
