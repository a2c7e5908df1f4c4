"""Endpoints pane: latency percentiles, status and error rate of each configured endpoint."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from luciq_tui.core.api import ApiSnapshot
from luciq_tui.format import millis
from luciq_tui.ui.graph import Graph
from luciq_tui.ui.panes.base import Pane


class EndpointsPane(Pane[ApiSnapshot]):
    """Each endpoint's probes over the window; probe now with `p`."""

    optimizer = "api"
    BINDINGS = [Binding("p", "app.request_action('api.probe')", "Probe now")]

    def compose(self) -> ComposeResult:
        yield DataTable(id="endpoints-table", cursor_type="row")
        yield Graph("Latency ms", id="graph-latency")
        yield Static("", id="endpoint-detail")

    def on_mount(self) -> None:
        self.query_one("#endpoints-table", DataTable).add_columns(
            "Endpoint", "Status", "Last", "p50", "p95", "p99", "Errors", "Probes")

    def draw(self, snapshot: ApiSnapshot) -> None:
        table = self.query_one("#endpoints-table", DataTable)
        row = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for status in snapshot.endpoints:
                last = status.last
                if last is None:
                    state = Text("waiting", style="dim")
                elif last.ok:
                    state = Text(f"up {last.status}", style="green")
                else:
                    state = Text(f"DOWN {last.status or ''}".strip(), style="bold red")
                table.add_row(
                    status.name, state,
                    millis(last.latency_ms if last else None),
                    millis(status.p50_ms), millis(status.p95_ms), millis(status.p99_ms),
                    f"{status.error_rate * 100:.0f}%", str(status.samples), key=status.name,
                )
            if snapshot.endpoints:
                table.move_cursor(row=min(row, len(snapshot.endpoints) - 1))
        if not snapshot.endpoints:
            table.add_row("no [[endpoints]] configured", "", "", "", "", "", "", "")
        self._show_selected()

    def _show_selected(self) -> None:
        snapshot = self.snapshot
        table = self.query_one("#endpoints-table", DataTable)
        if snapshot is None or not snapshot.endpoints:
            return
        status = snapshot.endpoints[min(table.cursor_row, len(snapshot.endpoints) - 1)]
        interval = cast(float, getattr(self.app, "probe_interval", 5.0))
        self.query_one("#graph-latency", Graph).show(
            [(status.name, status.latency_history)], interval, status.name)
        detail = Text(f"{status.method} {status.url}")
        if status.last is not None and status.last.error:
            detail.append(f"\nlast probe: {status.last.error}", style="red")
        self.query_one("#endpoint-detail", Static).update(detail)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()
