"""The Luciq dashboard: composes the panes, runs the workers, routes actions.

All I/O happens in workers: each optimizer is polled in a thread worker of its own group,
and its next poll is scheduled only after the last one finished, so polls never pile up.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from luciq_tui.core.alerts import Transition
from luciq_tui.core.api import ApiOptimizer
from luciq_tui.core.config import Config
from luciq_tui.core.filesystem import FilesystemOptimizer
from luciq_tui.core.monitor import Monitor
from luciq_tui.core.optimizer import ActionRefused, ActionResult, ActionSpec, Preview
from luciq_tui.core.resources import ResourcesSnapshot
from luciq_tui.core.store import AlertRecord, StoreReader
from luciq_tui.format import human_duration, millis
from luciq_tui.paths import styles_dir
from luciq_tui.ui.dialogs import ConfirmScreen, HelpScreen
from luciq_tui.ui.lines import TextLines
from luciq_tui.ui.messages import (
    ActionFinished,
    ActionProgress,
    PollFinished,
    PreviewReady,
    ScanProgress,
    SnapshotReady,
)
from luciq_tui.ui.panes.actions import ActionsPane
from luciq_tui.ui.panes.alerts import AlertsPane
from luciq_tui.ui.panes.base import Pane
from luciq_tui.ui.panes.databases import DatabasesPane
from luciq_tui.ui.panes.endpoints import EndpointsPane
from luciq_tui.ui.panes.resources import HISTORY_METRICS, ResourcesPane

PANES: tuple[tuple[str, str, type[Pane[Any]]], ...] = (
    ("resources", "Resources", ResourcesPane),
    ("databases", "Databases", DatabasesPane),
    ("alerts", "Alerts", AlertsPane),
    ("actions", "Actions", ActionsPane),
    ("endpoints", "Endpoints", EndpointsPane),
)
PANE_FOR_OPTIMIZER = {"resources": "resources", "database": "databases",
                      "filesystem": "actions", "api": "endpoints"}


class LuciqApp(App[None]):
    """The dashboard. Build it with `make_app`."""

    TITLE = "Luciq"
    CSS_PATH = str(styles_dir() / "luciq.tcss")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("1", "show_pane('resources')", "Resources", show=False),
        Binding("2", "show_pane('databases')", "Databases", show=False),
        Binding("3", "show_pane('alerts')", "Alerts", show=False),
        Binding("4", "show_pane('actions')", "Actions", show=False),
        Binding("5", "show_pane('endpoints')", "Endpoints", show=False),
        Binding("escape", "cancel_action", "Cancel", show=False),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, monitor: Monitor, config: Config, *, poll: bool = True,
                 warnings: Iterable[str] = ()) -> None:
        super().__init__()
        self.monitor = monitor
        self.config = config
        self.read_only = monitor.read_only
        self.low_bandwidth = config.low_bandwidth
        self._status_drawn = 0.0
        self.poll_enabled = poll
        self.probe_interval = config.probe_interval
        self.startup_warnings = tuple(warnings)
        self.reader = StoreReader(monitor.store.path) if monitor.store is not None else None
        self.running: Preview | None = None
        self._cancel = threading.Event()
        self._resources: ResourcesSnapshot | None = None
        self._errors: dict[str, str] = {}
        self._wake: dict[str, threading.Event] = {}
        self._stopping = threading.Event()
        self._scan_reported = 0.0
        self._history_read = 0.0
        self._active_pane = "resources"

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TextLines("Luciq", wrap=False, id="status-bar")
        with TabbedContent(initial="resources", id="tabs"):
            for pane_id, title, pane_class in PANES:
                with TabPane(title, id=pane_id):
                    yield pane_class(id=f"{pane_id}-pane")
        yield Footer()

    def pane(self, pane_id: str) -> Pane[Any]:
        return self.query_one(f"#{pane_id}-pane", Pane)

    def on_mount(self) -> None:
        # A full garbage collection walks every object the UI holds (tens of milliseconds
        # with Textual's widget tree): move what exists after the first frame out of its
        # reach, so only young objects are ever scanned and the event loop never stalls.
        # Once more when every pane has been built and drawn: freezing only at start-up, not
        # periodically, so later garbage is still collected and memory stays flat.
        self.call_after_refresh(gc.freeze)
        self.set_timer(5.0, gc.freeze)
        self.pane("alerts").update_snapshot(())
        alerts = self.pane("alerts")
        assert isinstance(alerts, AlertsPane)
        alerts.show_active(self.monitor.engine.active())
        filesystem = self.monitor.optimizers.get("filesystem")
        if isinstance(filesystem, FilesystemOptimizer):
            filesystem.on_progress = self._scan_progress
        for warning in self.startup_warnings:
            self.notify(warning, severity="warning", timeout=10)
        self._set_visible("resources")
        self.call_after_refresh(self._initial_focus)  # so the first pane's keys show and work
        self.refresh_actions()
        self.load_history()
        self._draw_status()
        if self.poll_enabled:
            for name in self.monitor.optimizers:
                self.poll(name)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        pane_id = event.pane.id or "resources"
        self._set_visible(pane_id)
        self._draw_status(force=True)
        if pane_id in ("alerts", "actions"):
            self.load_history()

    def _set_visible(self, active: str) -> None:
        self._active_pane = active
        # TabbedContent announces its first tab while it mounts, perhaps before every pane
        # is there: tell the panes that exist; the rest start hidden.
        for pane in self.query(Pane):
            pane.set_visible_pane(pane.id == f"{active}-pane")

    def action_show_pane(self, pane_id: str) -> None:
        self.query_one(TabbedContent).active = pane_id
        self._focus_pane(pane_id)

    def _initial_focus(self) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active == "resources" and self.screen is self.screen_stack[0]:
            self._focus_pane("resources")

    def _focus_pane(self, pane_id: str) -> None:
        pane = self.pane(pane_id)
        focusable = [widget for widget in pane.query("DataTable, LineTable") if widget.focusable]
        if focusable:
            focusable[0].focus(scroll_visible=False)  # keep the pane's top in view

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- polling --------------------------------------------------------------------------
    def poll(self, name: str) -> None:
        """Observe `name` now. Each optimizer has one long-lived thread worker of its own
        group that observes, posts the result, then waits its interval: the next poll starts
        only when the last one finished, and a poll does not cost a new thread and worker."""
        wake = self._wake.get(name)
        if wake is not None:
            wake.set()  # the loop is running: observe again now
            return
        wake = self._wake[name] = threading.Event()
        self.run_worker(partial(self._poll_loop, name, wake), thread=True,
                        group=f"poll-{name}", exit_on_error=False, name=f"poll {name}")

    def _poll_loop(self, name: str, wake: threading.Event) -> None:
        interval = self.monitor.optimizers[name].interval
        while not self._stopping.is_set():
            wake.clear()
            self.post_message(PollFinished(self.monitor.poll(name)))
            if not self.poll_enabled:
                break
            wake.wait(interval)
        self._wake.pop(name, None)

    def on_poll_finished(self, message: PollFinished) -> None:
        if not self.is_running:  # shutting down: the panes' widgets are being removed
            return
        result = message.result
        name = result.optimizer
        if result.error:
            if self._errors.get(result.optimizer) != result.error:
                self.notify(result.error, title="Observation failed", severity="error")
            self._errors[result.optimizer] = result.error
            return
        self._errors.pop(result.optimizer, None)
        self.show_snapshot(result.optimizer, result.snapshot)
        if name == "resources" and self._history_due():
            self.load_resource_history()
        if result.transitions:
            self.show_transitions(result.transitions)
        for auto in result.auto_actions:
            self.notify(auto.summary, title=f"Auto-action: {auto.action.label}",
                        severity="information" if auto.ok else "error", timeout=10)

    def _history_due(self) -> bool:
        """Re-read a long window every 15 s while it shows, not at every sample."""
        pane = self.pane("resources")
        if not isinstance(pane, ResourcesPane) or not pane.window_seconds:
            return False
        if not pane.visible_pane:
            return False
        now = time.monotonic()
        if now - self._history_read < 15:
            return False
        self._history_read = now
        return True

    def show_snapshot(self, optimizer: str, snapshot: Any) -> None:
        """Hand a snapshot to its pane (tests call this with fixed snapshots)."""
        self.pane(PANE_FOR_OPTIMIZER[optimizer]).update_snapshot(snapshot)
        if isinstance(snapshot, ResourcesSnapshot):
            self._resources = snapshot
            self._draw_status()
        if optimizer in ("database", "filesystem", "api"):
            self.refresh_actions()

    def show_transitions(self, transitions: Iterable[Transition]) -> None:
        for transition in transitions:
            if transition.state == "firing" and self.config.alert_bell:
                self.bell()
            if transition.state == "firing":
                self.notify(transition.message, title=f"{transition.severity}: {transition.rule}",
                            severity="error" if transition.severity == "critical" else "warning")
            elif transition.state == "resolved":
                self.notify(transition.message, title=f"resolved: {transition.rule}")
        alerts = self.pane("alerts")
        assert isinstance(alerts, AlertsPane)
        alerts.show_active(self.monitor.engine.active())
        self._draw_status(force=True)
        self.load_history()

    def _draw_status(self, force: bool = False) -> None:
        if self.low_bandwidth and not force:
            if time.monotonic() - self._status_drawn < 5.0:
                return
            self._status_drawn = time.monotonic()
        chunks: list[Text | str] = [Text(" Luciq ", style="bold reverse")]
        snapshot = self._resources
        if snapshot is not None:
            chunks += [snapshot.hostname, f"up {human_duration(snapshot.uptime_s)}"]
            if self._active_pane != "resources":  # there, the summary below shows them
                chunks += [f"load {snapshot.load[0]:.2f}", f"cpu {snapshot.cpu_percent:.0f}%",
                           f"mem {snapshot.memory_percent:.0f}%"]
        firing = self.monitor.engine.firing_count()
        chunks.append(Text(f" {firing} firing ", style="bold white on red" if firing
                           else "green"))
        if self.read_only:
            chunks.append(Text("READ-ONLY", style="bold yellow"))
        if self.low_bandwidth:
            chunks.append(Text("low-bandwidth", style="dim"))
        self.query_one("#status-bar", TextLines).show([chunks])

    # -- history from the store -----------------------------------------------------------
    @work(group="resource-history", exclusive=True, exit_on_error=False)
    async def load_resource_history(self) -> None:
        """The Resources graphs' long window, read back from monitoring.db."""
        pane = self.pane("resources")
        assert isinstance(pane, ResourcesPane)
        window = pane.window_seconds
        if self.reader is None or not window:
            return
        if self.monitor.store is not None:  # let the latest samples in first
            await asyncio.to_thread(self.monitor.store.flush)
        history = await self.reader.history(HISTORY_METRICS, window, 240)
        if pane.window_seconds == window:
            pane.show_history(history)

    @work(group="history", exclusive=True, exit_on_error=False)
    async def load_history(self) -> None:
        """Read the alert history and the action log back from monitoring.db."""
        if self.reader is None:
            return
        alerts_pane = self.pane("alerts")
        assert isinstance(alerts_pane, AlertsPane)
        alerts = await self.reader.alert_history(500, alerts_pane.since(),
                                                 alerts_pane.severities)
        log = await self.reader.action_log(100)
        alerts_pane.update_snapshot(alerts)
        actions_pane = self.pane("actions")
        assert isinstance(actions_pane, ActionsPane)
        actions_pane.show_log(log)

    # -- actions --------------------------------------------------------------------------
    def refresh_actions(self) -> None:
        pane = self.pane("actions")
        assert isinstance(pane, ActionsPane)
        pane.show_actions(self.monitor.actions())

    def find_action(self, key: str, target: str = "") -> ActionSpec | None:
        """The action `key` on `target`; an action offered without a target (a process
        signal, say) takes the target the pane chose."""
        specs = [s for s in self.monitor.actions() if f"{s.optimizer}.{s.name}" == key]
        for spec in specs:
            if not target or spec.target == target:
                return spec
        open_ended = next((spec for spec in specs if not spec.target), None)
        return replace(open_ended, target=target) if open_ended else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in ("request_action", "cancel_action") and self.read_only)

    def action_request_action(self, key: str, target: str = "") -> None:
        self.request_action(key, target)

    def request_action(self, key: str, target: str = "") -> None:
        """Start an action: preview in a worker, then the confirm screen."""
        if self.read_only:
            self.notify("Read-only mode: actions are refused.", severity="warning")
            return
        if self.running is not None:
            self.notify(f"{self.running.action.label} is still running.", severity="warning")
            return
        spec = self.find_action(key, target)
        if spec is None:
            self.notify(f"No such action: {key} {target}".strip(), severity="warning")
            return
        if not spec.available:
            self.notify(f"{spec.label}: {spec.reason}", severity="warning")
            return
        self.run_worker(partial(self._preview_thread, spec), thread=True, group="action",
                        exit_on_error=False, name=f"preview {spec.id}")

    def _preview_thread(self, spec: ActionSpec) -> None:
        try:
            preview = self.monitor.preview(spec)
        except ActionRefused as error:
            self.notify(f"{spec.label}: {error}", severity="error")
            return
        self.post_message(PreviewReady(preview))

    def on_preview_ready(self, message: PreviewReady) -> None:
        if not self.is_running:
            return
        self.push_screen(ConfirmScreen(message.preview),
                         callback=partial(self._confirmed, message.preview))

    def _confirmed(self, preview: Preview, choice: str | None) -> None:
        if not choice:
            self.notify(f"{preview.action.label}: cancelled, nothing changed.")
            return
        self.running = preview
        self._cancel = threading.Event()
        pane = self.pane("actions")
        assert isinstance(pane, ActionsPane)
        pane.show_started(preview)
        self.run_worker(partial(self._action_thread, preview, self._cancel, choice == "backup"),
                        thread=True, group="action", exit_on_error=False,
                        name=f"run {preview.action.id}")

    def _action_thread(self, preview: Preview, cancel: threading.Event,
                       backup_first: bool = False) -> None:
        def progress(fraction: float | None, text: str) -> None:
            self.post_message(ActionProgress(fraction, text))

        if backup_first:
            spec = self.find_action("database.backup", preview.action.target)
            try:
                if spec is None:
                    raise ActionRefused("no backup action for this database")
                backup = self.monitor.run(self.monitor.preview(spec), progress=progress,
                                          cancel=cancel)
            except ActionRefused as error:
                self.post_message(ActionFinished(ActionResult(
                    preview.action, False, f"refused: backup first failed: {error}")))
                return
            if not backup.ok:
                self.post_message(ActionFinished(ActionResult(
                    preview.action, False, f"not run: the backup failed ({backup.summary})",
                    cancelled=backup.cancelled)))
                return
            self.notify(backup.summary, title="Backed up first")
        result = self.monitor.run(preview, progress=progress, cancel=cancel)
        self.post_message(ActionFinished(result))

    def on_action_progress(self, message: ActionProgress) -> None:
        if not self.is_running:
            return
        pane = self.pane("actions")
        assert isinstance(pane, ActionsPane)
        pane.show_progress(message.fraction, message.text)

    def on_action_finished(self, message: ActionFinished) -> None:
        if not self.is_running:
            return
        result = message.result
        self.running = None
        pane = self.pane("actions")
        assert isinstance(pane, ActionsPane)
        pane.show_finished(result)
        severity: SeverityLevel = (
            "information" if result.ok else "warning" if result.cancelled else "error"
        )
        self.notify(result.summary, title=result.action.label, severity=severity, timeout=8)
        self.load_history()
        if self.poll_enabled:
            self.poll(result.action.optimizer)

    def acknowledge(self, record: AlertRecord) -> None:
        """Record that the operator has seen an alert (in a worker: it writes the store)."""
        if self.monitor.store is None:
            return
        self.run_worker(partial(self._acknowledge_thread, record), thread=True, group="ack",
                        exit_on_error=False, name=f"ack {record.id}")

    def _acknowledge_thread(self, record: AlertRecord) -> None:
        assert self.monitor.store is not None
        self.monitor.store.acknowledge_alert(record.id)
        self.call_from_thread(self.load_history)
        self.notify(f"{record.rule}: {record.message}", title="Acknowledged")

    def save_baseline(self, endpoint: str) -> None:
        """Save an endpoint's latest distribution as its baseline, in a worker."""
        self.run_worker(partial(self._baseline_thread, endpoint), thread=True, group="baseline",
                        exit_on_error=False, name=f"baseline {endpoint}")

    def _baseline_thread(self, endpoint: str) -> None:
        optimizer = self.monitor.optimizers["api"]
        assert isinstance(optimizer, ApiOptimizer)
        try:
            baseline = optimizer.save_baseline(endpoint)
        except ActionRefused as error:
            self.notify(str(error), severity="warning")
            return
        self.notify(f"p50 {millis(baseline.p50_ms)}, p95 {millis(baseline.p95_ms)} over "
                    f"{baseline.samples} requests", title=f"Baseline saved: {endpoint}")
        self.post_message(SnapshotReady("api", optimizer.status()))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if not self.is_running:
            return
        self.show_snapshot(message.optimizer, message.snapshot)

    def _scan_progress(self, entries: int, folder: str) -> None:
        """Called from the scanning thread: report at most five times a second."""
        now = time.monotonic()
        if now - self._scan_reported >= 0.2:
            self._scan_reported = now
            self.post_message(ScanProgress(entries, folder))

    def on_scan_progress(self, message: ScanProgress) -> None:
        if not self.is_running:
            return
        pane = self.pane("actions")
        assert isinstance(pane, ActionsPane)
        pane.show_scan_progress(message.entries, message.folder)

    def action_cancel_action(self) -> None:
        if self.running is not None:
            self._cancel.set()
            self.notify(f"Cancelling {self.running.action.label}…")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for pane_id, title, _class in PANES:
            yield SystemCommand(f"Show {title}", f"Switch to the {title} pane",
                                partial(self.action_show_pane, pane_id))
        for spec in self.monitor.actions():
            yield SystemCommand(
                f"{spec.label}", spec.description + ("" if spec.available else
                                                     f" (unavailable: {spec.reason})"),
                partial(self.request_action, f"{spec.optimizer}.{spec.name}", spec.target),
            )

    def on_unmount(self) -> None:
        self._cancel.set()
        self._stopping.set()
        for wake in list(self._wake.values()):
            wake.set()


def make_app(config: Config, monitor: Monitor, *, poll: bool = True,
             warnings: Iterable[str] = ()) -> LuciqApp:
    """The app factory the CLI and the tests share."""
    return LuciqApp(monitor, config, poll=poll, warnings=warnings)
