"""Actions pane: every one-key action, the running one with its progress, and the log.

It is also the filesystem optimizer's view: what the cleaner would reclaim, per root.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, ProgressBar, Static

from luciq_tui.core.filesystem import FilesystemSnapshot
from luciq_tui.core.optimizer import ActionResult, ActionSpec, Preview
from luciq_tui.core.store import ActionLogRecord
from luciq_tui.format import clock, human_bytes
from luciq_tui.ui.panes.base import Pane

if TYPE_CHECKING:
    from luciq_tui.ui.app import LuciqApp


class ActionsPane(Pane[FilesystemSnapshot]):
    """Run any action with Enter; clean caches with `c`."""

    optimizer = "filesystem"
    BINDINGS = [
        Binding("enter", "run_selected", "Run", show=True),
        Binding("c", "app.request_action('filesystem.clean')", "Clean caches"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs: tuple[ActionSpec, ...] | None = None
        self._progress: ProgressBar | None = None

    def compose(self) -> ComposeResult:
        yield Static("scanning for reclaimable caches…", id="fs-summary")
        yield Static("", id="fs-scan")
        yield DataTable(id="actions-list", cursor_type="row")
        with Horizontal(id="action-running"):
            yield Static("No action running.", id="action-status")
        yield DataTable(id="actions-log", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#actions-list", DataTable).add_columns("Key", "Action", "Target",
                                                               "Status")
        self.query_one("#actions-log", DataTable).add_columns("Time", "Action", "Target",
                                                              "Result", "Took")

    def show_actions(self, specs: Sequence[ActionSpec]) -> None:
        specs = tuple(specs)
        if specs == self.specs:
            return
        self.specs = specs
        table = self.query_one("#actions-list", DataTable)
        row = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for spec in specs:
                if not spec.available:
                    status = Text(spec.reason, style="dim")
                elif spec.reason:  # available, with a hint on how
                    status = Text(spec.reason, style="cyan")
                else:
                    status = Text("ready", style="green")
                table.add_row(spec.key, spec.title, spec.target or "–", status, key=spec.id)
            if specs:
                table.move_cursor(row=min(row, len(specs) - 1))
        if not specs:
            table.add_row("", "read-only mode: actions are hidden and refused", "", "")

    def draw(self, snapshot: FilesystemSnapshot) -> None:
        text = Text()
        text.append("Reclaimable caches: ", style="bold")
        if not snapshot.roots:
            text.append("no filesystem.roots or temp_dirs configured", style="dim")
        for scan in snapshot.roots:
            text.append(f"{scan.root}: {scan.files:,} files, {human_bytes(scan.bytes)}")
            if scan.skipped_recent:
                text.append(f", {scan.skipped_recent} recent skipped", style="dim")
            if scan.errors:
                text.append(f", {len(scan.errors)} unreadable", style="yellow")
            largest = scan.largest(3)
            if largest:
                text.append("; largest: " + ", ".join(
                    f"{path.removeprefix(scan.root).lstrip('/') or '.'} {human_bytes(size)}"
                    for path, size in largest), style="dim")
            text.append("\n")
        for mount in snapshot.mounts:
            text.append(f"Disk {mount.mountpoint}: {human_bytes(mount.free)} free of "
                        f"{human_bytes(mount.total)} ({mount.percent:.0f}% used)\n",
                        style="bold red" if mount.percent >= 90 else "")
        text.rstrip()
        self.query_one("#fs-summary", Static).update(text)
        self.query_one("#fs-scan", Static).update(
            Text(f"scanned in {sum(scan.duration_s for scan in snapshot.roots):.2f} s",
                 style="dim") if snapshot.roots else "")

    def show_scan_progress(self, entries: int, folder: str) -> None:
        self.query_one("#fs-scan", Static).update(
            Text(f"scanning: {entries:,} entries so far ({folder[-50:]})", style="dim"))

    def show_log(self, records: Sequence[ActionLogRecord]) -> None:
        table = self.query_one("#actions-log", DataTable)
        with self.app.batch_update():
            table.clear()
            for record in records:
                style = "green" if record.ok else "yellow" if record.cancelled else "red"
                table.add_row(clock(record.timestamp), record.action, record.target or "–",
                              Text(record.summary, style=style), f"{record.duration_s:.2f} s",
                              key=str(record.id))
        if not records:
            table.add_row("", "no actions yet", "", "", "")

    def show_started(self, preview: Preview) -> None:
        self.query_one("#action-status", Static).update(
            Text(f"Running: {preview.action.label} (Esc cancels)", style="bold"))
        # Mounted only while an action runs: an idle progress bar animates its indeterminate
        # state 15 times a second, which would cost an idle dashboard CPU.
        if self._progress is None:
            self._progress = ProgressBar(id="action-progress", show_eta=False)
            self.query_one("#action-running", Horizontal).mount(self._progress)
        self._progress.update(total=None, progress=0)

    def show_progress(self, fraction: float | None, text: str) -> None:
        if self._progress is not None:
            if fraction is None:
                self._progress.update(total=None)
            else:
                self._progress.update(total=100, progress=round(fraction * 100))
        self.query_one("#action-status", Static).update(Text(text[:70]))

    def show_finished(self, result: ActionResult) -> None:
        if self._progress is not None:
            self._progress.remove()
            self._progress = None
        style = "green" if result.ok else "yellow" if result.cancelled else "red"
        self.query_one("#action-status", Static).update(
            Text(f"{result.action.label}: {result.summary}", style=style))

    def action_run_selected(self) -> None:
        table = self.query_one("#actions-list", DataTable)
        if not self.specs or not table.row_count:
            return
        spec = self.specs[min(table.cursor_row, len(self.specs) - 1)]
        app = cast("LuciqApp", self.app)
        app.request_action(f"{spec.optimizer}.{spec.name}", spec.target)
