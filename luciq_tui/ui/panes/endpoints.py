"""Endpoints pane: latency percentiles, status and error rate of each configured endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from luciq_tui.core.api import ApiSnapshot, EndpointStatus, compare
from luciq_tui.format import millis
from luciq_tui.ui.panes.base import Pane

if TYPE_CHECKING:
    from luciq_tui.ui.app import LuciqApp
    from luciq_tui.ui.graph import Graph

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: tuple[float, ...]) -> str:
    """A one-line trend of latencies; a failed probe (0) shows as a gap."""
    peak = max(values, default=0.0)
    if peak <= 0:
        return ""
    return "".join(" " if v <= 0 else SPARKS[min(7, int(v / peak * 7.999))] for v in values)


def describe(status: EndpointStatus) -> Text:
    """The selected endpoint: its URL, last error, last burst against the baseline."""
    detail = Text(f"{status.method} {status.url}")
    if status.last is not None and status.last.error:
        detail.append(f"  last probe: {status.last.error}", style="red")
    burst, baseline = status.last_burst, status.baseline
    if burst is not None:
        p50, p95, p99 = burst.percentile(0.5), burst.percentile(0.95), burst.percentile(0.99)
        detail.append(f"\nAnalyze: {burst.ok}/{burst.sent} ok in {burst.duration_s:.1f} s, "
                      f"p50 {millis(p50)}  p95 {millis(p95)}  p99 {millis(p99)}")
        if baseline is not None:
            detail.append(f"  vs baseline {compare(p50, baseline.p50_ms)} / "
                          f"{compare(p95, baseline.p95_ms)} / {compare(p99, baseline.p99_ms)}")
    if baseline is not None:
        detail.append(f"\nBaseline ({baseline.samples} requests): p50 {millis(baseline.p50_ms)}"
                      f"  p95 {millis(baseline.p95_ms)}  p99 {millis(baseline.p99_ms)}  errors "
                      f"{baseline.error_rate * 100:.0f}%", style="dim")
    else:
        detail.append("\nNo baseline yet: b analyzes now, s saves the result as baseline.",
                      style="dim")
    return detail


class EndpointsPane(Pane[ApiSnapshot]):
    """Each endpoint's probes over the window; probe now with `p`."""

    optimizer = "api"
    BINDINGS = [
        Binding("p", "app.request_action('api.probe')", "Probe now"),
        Binding("b", "burst", "Analyze now"),
        Binding("s", "baseline", "Save baseline"),
    ]
    ACTION_KEYS = frozenset({"burst"})

    def compose(self) -> ComposeResult:
        yield DataTable(id="endpoints-table", cursor_type="row")
        yield Static("", id="endpoint-detail")

    def _graph(self) -> Graph | None:
        """The latency graph, made when there is a first endpoint to show: plotext (and
        textual-plotext) cost 1.7 MB of memory to import, and only this pane draws with it.
        Low-bandwidth mode keeps the trend column and leaves the graph out."""
        if getattr(self.app, "low_bandwidth", False):
            return None
        found = self.query("#graph-latency")
        if found:
            return cast("Graph", found.first())
        from luciq_tui.ui.graph import Graph

        graph = Graph("Latency ms", id="graph-latency")
        self.mount(graph, before="#endpoint-detail")
        return graph

    def on_mount(self) -> None:
        self.query_one("#endpoints-table", DataTable).add_columns(
            "Endpoint", "Status", "Last", "p50", "p95", "p99", "Errors", "Probes", "Trend")

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
                    f"{status.error_rate * 100:.0f}%", str(status.samples),
                    sparkline(status.latency_history[-20:]), key=status.name,
                )
            if snapshot.endpoints:
                table.move_cursor(row=min(row, len(snapshot.endpoints) - 1))
        if not snapshot.endpoints:
            table.add_row("no [[endpoints]] configured", "", "", "", "", "", "", "", "")
        self._show_selected()

    def _show_selected(self) -> None:
        snapshot = self.snapshot
        table = self.query_one("#endpoints-table", DataTable)
        if snapshot is None or not snapshot.endpoints:
            return
        status = snapshot.endpoints[min(table.cursor_row, len(snapshot.endpoints) - 1)]
        interval = cast(float, getattr(self.app, "probe_interval", 5.0))
        graph = self._graph()
        if graph is not None:
            graph.show([(status.name, status.latency_history)], interval, status.name)
        self.query_one("#endpoint-detail", Static).update(describe(status))

    @property
    def selected(self) -> str:
        snapshot = self.snapshot
        if snapshot is None or not snapshot.endpoints:
            return ""
        table = self.query_one("#endpoints-table", DataTable)
        return snapshot.endpoints[min(table.cursor_row, len(snapshot.endpoints) - 1)].name

    def action_burst(self) -> None:
        cast("LuciqApp", self.app).request_action("api.burst", self.selected)

    def action_baseline(self) -> None:
        if self.selected:
            cast("LuciqApp", self.app).save_baseline(self.selected)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()
