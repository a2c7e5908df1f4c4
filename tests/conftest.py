"""Shared fixtures: a small demo workspace built once, and helpers for database files."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from luciq_tui.core.demo import DemoService, DemoWorkspace, ensure_workspace

SMALL_ROWS = 2000


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    """A small demo workspace, built once per session; copy it before changing it."""
    return ensure_workspace(tmp_path_factory.mktemp("demo-template"), rows=SMALL_ROWS)


@pytest.fixture
def demo(demo_template: DemoWorkspace, tmp_path: Path) -> DemoWorkspace:
    """A private copy of the small demo workspace that a test may change."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_template.folder, folder, symlinks=True)
    return ensure_workspace(folder, rows=SMALL_ROWS)


@pytest.fixture
def demo_service(demo: DemoWorkspace) -> Iterator[DemoService]:
    service = DemoService(demo.database).start()
    yield service
    service.stop()


def digest(path: Path) -> str:
    """The file's bytes, summarised: equal digests mean Luciq changed nothing."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
