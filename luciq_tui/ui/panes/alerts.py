"""Alerts pane: what is firing now, then the history read back from monitoring.db."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from luciq_tui.core.alerts import ActiveAlert
from luciq_tui.core.store import AlertRecord
from luciq_tui.format import clock
from luciq_tui.ui.panes.base import Pane

SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}
STATE_STYLE = {"pending": "yellow", "firing": "bold red", "resolved": "green"}


class AlertsPane(Pane[Sequence[AlertRecord]]):
    """Firing alerts first; the history below survives restarts."""

    optimizer = "alerts"

    def compose(self) -> ComposeResult:
        yield Static("No alert is firing.", id="alerts-active")
        yield DataTable(id="alerts-history", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#alerts-history", DataTable)
        table.add_columns("Time", "Severity", "State", "Rule", "Message")

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
        self.query_one("#alerts-active", Static).update(text)

    def draw(self, snapshot: Sequence[AlertRecord]) -> None:
        table = self.query_one("#alerts-history", DataTable)
        with self.app.batch_update():
            table.clear()
            for record in snapshot:
                table.add_row(
                    clock(record.timestamp),
                    Text(record.severity, style=SEVERITY_STYLE.get(record.severity, "")),
                    Text(record.state, style=STATE_STYLE.get(record.state, "")),
                    record.rule,
                    record.message,
                    key=str(record.id),
                )
        if not snapshot:
            table.add_row("", "", "", "no alerts recorded yet", "")
