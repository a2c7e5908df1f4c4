"""Alerts pane: what is firing now, then the history read back from monitoring.db."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from luciq_tui.core.alerts import ActiveAlert
from luciq_tui.core.store import AlertRecord
from luciq_tui.format import clock
from luciq_tui.ui.panes.base import Pane

if TYPE_CHECKING:
    from luciq_tui.ui.app import LuciqApp

SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}
STATE_STYLE = {"pending": "yellow", "firing": "bold red", "resolved": "green"}
SEVERITY_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("all severities", None),
    ("warning and critical", ("warning", "critical")),
    ("critical only", ("critical",)),
)
WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("all time", None), ("last hour", 3600.0), ("last 24 h", 86400.0), ("last 7 days", 604800.0),
)


class AlertsPane(Pane[Sequence[AlertRecord]]):
    """Firing alerts first; the history below survives restarts. Filter with `f` and `t`,
    acknowledge the selected alert with `k`."""

    optimizer = "alerts"
    BINDINGS = [
        Binding("f", "cycle_severity", "Severity"),
        Binding("t", "cycle_window", "Window"),
        Binding("k", "acknowledge", "Acknowledge"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.severity_filter = 0
        self.window_filter = 0

    def compose(self) -> ComposeResult:
        yield Static("No alert is firing.", id="alerts-active")
        yield Static("", id="alerts-filter")
        yield DataTable(id="alerts-history", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#alerts-history", DataTable)
        table.add_columns("Time", "Severity", "State", "Rule", "Message", "Ack")
        self._show_filter()

    @property
    def severities(self) -> tuple[str, ...] | None:
        return SEVERITY_FILTERS[self.severity_filter][1]

    def since(self, now: float | None = None) -> float | None:
        window = WINDOWS[self.window_filter][1]
        return None if window is None else (now or time.time()) - window

    def _show_filter(self) -> None:
        text = Text("History: ", style="bold")
        text.append(f"{SEVERITY_FILTERS[self.severity_filter][0]} (f), "
                    f"{WINDOWS[self.window_filter][0]} (t); k acknowledges the selected alert",
                    style="dim")
        self.query_one("#alerts-filter", Static).update(text)

    def show_active(self, active: Sequence[ActiveAlert]) -> None:
        if not active:
            self.query_one("#alerts-active", Static).update(Text("No alert is firing.",
                                                                 style="green"))
            return
        text = Text()
        for alert in active:
            text.append(f"{alert.state.upper():<8}", style=STATE_STYLE.get(alert.state, ""))
            text.append(f"{alert.severity:<9}", style=SEVERITY_STYLE.get(alert.severity, ""))
            text.append(f"{alert.rule}: {alert.metric} = {alert.value:.1f} "
                        f"(threshold {alert.threshold:g}) since {clock(alert.since)}\n")
        text.rstrip()
        self.query_one("#alerts-active", Static).update(text)

    def draw(self, snapshot: Sequence[AlertRecord]) -> None:
        table = self.query_one("#alerts-history", DataTable)
        row = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for record in snapshot:
                table.add_row(
                    clock(record.timestamp),
                    Text(record.severity, style=SEVERITY_STYLE.get(record.severity, "")),
                    Text(record.state, style=STATE_STYLE.get(record.state, "")),
                    record.rule,
                    record.message + (" [auto-action ran]" if record.action_id else ""),
                    clock(record.acknowledged_at) if record.acknowledged_at else "",
                    key=str(record.id),
                )
            if snapshot:
                table.move_cursor(row=min(row, len(snapshot) - 1))
        if not snapshot:
            table.add_row("", "", "", "no alerts recorded", "", "")

    @property
    def selected(self) -> AlertRecord | None:
        records = self.snapshot or ()
        table = self.query_one("#alerts-history", DataTable)
        if not records or not table.row_count:
            return None
        return records[min(table.cursor_row, len(records) - 1)]

    def _reload(self) -> None:
        self._show_filter()
        cast("LuciqApp", self.app).load_history()

    def action_cycle_severity(self) -> None:
        self.severity_filter = (self.severity_filter + 1) % len(SEVERITY_FILTERS)
        self._reload()

    def action_cycle_window(self) -> None:
        self.window_filter = (self.window_filter + 1) % len(WINDOWS)
        self._reload()

    def action_acknowledge(self) -> None:
        record = self.selected
        if record is None:
            return
        if record.acknowledged_at:
            self.notify(f"{record.rule} was acknowledged at {clock(record.acknowledged_at)}")
            return
        cast("LuciqApp", self.app).acknowledge(record)
