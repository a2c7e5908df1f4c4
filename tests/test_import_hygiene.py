"""The headless core must never import Textual: the CLI and tests use it without a UI."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "luciq_tui.core.config",
    "luciq_tui.core.optimizer",
    "luciq_tui.core.store",
    "luciq_tui.core.alerts",
    "luciq_tui.core.resources",
    "luciq_tui.core.database",
    "luciq_tui.core.filesystem",
    "luciq_tui.core.api",
    "luciq_tui.core.monitor",
    "luciq_tui.core.demo",
    "luciq_tui.core.workload",
    "luciq_tui.core.advisor",
    "luciq_tui.core.maintenance",
    "luciq_tui.dbcli",
    "luciq_tui.format",
    "luciq_tui.cli",
]


def test_core_imports_nothing_from_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m.startswith('textual_plotext'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"core pulled in: {result.stdout.strip()}"


def test_the_ui_does_import_textual() -> None:
    """A control: the check above would notice an import."""
    code = "import sys, luciq_tui.ui.app; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "True"
