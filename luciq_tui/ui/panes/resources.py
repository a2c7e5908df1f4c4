"""Resources pane: the machine at a glance, graphs over a window, top processes.

The live window draws the optimizer's in-memory rings; 15 min, 1 h and 24 h are read back
from monitoring.db by the app (the pane does no I/O) and handed over with `show_history`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical

from luciq_tui.core.resources import MountUsage, ProcessRow, ResourcesSnapshot
from luciq_tui.format import human_bytes, human_duration, human_rate
from luciq_tui.ui.lines import Column, LineTable, TextLines
from luciq_tui.ui.panes.base import Pane
from luciq_tui.ui.timegraph import Series, TimeGraph

if TYPE_CHECKING:
    from luciq_tui.ui.app import LuciqApp

BAR_CELLS = 10
LOW_BANDWIDTH_DETAIL_SECONDS = 15.0
# (label, seconds); 0 is the live minute from memory.
WINDOWS: tuple[tuple[str, float], ...] = (("60 s live", 0.0), ("15 min", 900.0),
                                          ("1 h", 3600.0), ("24 h", 86400.0))
PROCESS_COLUMNS = (Column("PID", 7, "right"), Column("Process", 15), Column("User", 10),
                   Column("CPU %", 6, "right"), Column("RSS", 9, "right"), Column("Growth", 13))
MOUNT_COLUMNS = (Column("Mount", 20), Column("Type", 7), Column("Used", 9, "right"),
                 Column("Size", 9, "right"), Column("Use %", 6, "right"))
HISTORY_METRICS = ("cpu.percent", "memory.percent", "swap.percent", "net.rx_bps",
                   "net.tx_bps", "disk.read_bps", "disk.write_bps")
RING_FOR_METRIC = {"cpu.percent": "cpu", "memory.percent": "memory", "swap.percent": "swap",
                   "net.rx_bps": "net_rx", "net.tx_bps": "net_tx",
                   "disk.read_bps": "disk_read", "disk.write_bps": "disk_write"}


def bar(percent: float, cells: int = BAR_CELLS) -> str:
    filled = round(max(0.0, min(100.0, percent)) / 100 * cells)
    return "█" * filled + "·" * (cells - filled)


def level_style(percent: float, warn: float = 80.0, crit: float = 85.0) -> str:
    return "bold red" if percent >= crit else "yellow" if percent >= warn else "green"


class ResourcesPane(Pane[ResourcesSnapshot]):
    """CPU, memory, swap, disks and network. `g` switches the graphs' window, `s` the process
    sort; `t` / `K` signal the selected process, `D` drops the page cache, `r` runs the
    relief command."""

    optimizer = "resources"
    BINDINGS = [
        Binding("g", "cycle_window", "Window"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("t", "signal('terminate')", "SIGTERM"),
        Binding("K", "signal('kill')", "SIGKILL", show=False),
        Binding("D", "app.request_action('resources.drop_caches')", "Drop cache", show=False),
        Binding("r", "app.request_action('resources.relief')", "Relief cmd", show=False),
    ]
    ACTION_KEYS = frozenset({"signal"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = 0
        self.sort_by_memory = False
        self.history: dict[str, tuple[float, ...]] = {}
        self._shown_processes: tuple[ProcessRow, ...] | None = None
        self._shown_mounts: tuple[MountUsage, ...] | None = None
        self._details_drawn = 0.0

    def compose(self) -> ComposeResult:
        yield TextLines("waiting for the first sample…", id="res-summary")
        with Horizontal(id="res-body"):
            with Grid(id="res-graphs"):
                yield TimeGraph("CPU", id="graph-cpu")
                yield TimeGraph("Memory", id="graph-memory")
                yield TimeGraph("Net", id="graph-net")
                yield TimeGraph("Disk", id="graph-disk")
            with Vertical(id="res-side"):
                yield LineTable(PROCESS_COLUMNS, id="res-processes", zebra_stripes=True)
                yield LineTable(MOUNT_COLUMNS, id="res-mounts", cursor=False)

    @property
    def window_seconds(self) -> float:
        return WINDOWS[self.window][1]

    def action_cycle_window(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)
        self.history = {}
        if self.window_seconds:
            cast("LuciqApp", self.app).load_resource_history()
        self._details_drawn = 0.0  # the operator asked: draw now, even on a slow link
        self.redraw()

    def action_cycle_sort(self) -> None:
        self.sort_by_memory = not self.sort_by_memory
        self._shown_processes = None
        self._details_drawn = 0.0
        self.redraw()

    def action_signal(self, name: str) -> None:
        cast("LuciqApp", self.app).request_action(f"resources.{name}", self.selected_pid)

    @property
    def selected_pid(self) -> str:
        return self.query_one("#res-processes", LineTable).cursor_key

    def show_history(self, history: dict[str, tuple[float, ...]]) -> None:
        """Long-window series read from the store (metric name → values, oldest first)."""
        self.history = history
        self._details_drawn = 0.0
        self.redraw()

    def _series(self, snapshot: ResourcesSnapshot) -> dict[str, tuple[float, ...]]:
        if self.window_seconds:
            return {metric: self.history.get(metric, ()) for metric in HISTORY_METRICS}
        return {metric: snapshot.history.get(ring, ())
                for metric, ring in RING_FOR_METRIC.items()}

    def draw(self, snapshot: ResourcesSnapshot) -> None:
        cpu = Text.assemble(("CPU ", "bold"), (f"{snapshot.cpu_percent:5.1f}% ", level_style(
            snapshot.cpu_percent, 90, 97)), bar(snapshot.cpu_percent))
        cores = " ".join(f"{value:3.0f}" for value in snapshot.per_core[:16])
        first: list[Text | str] = [cpu, f"cores [{cores}]", f"load {snapshot.load[0]:.2f} "
                                   f"{snapshot.load[1]:.2f} {snapshot.load[2]:.2f}"]
        if snapshot.pressure:
            first.append("PSI " + " ".join(f"{name} {value:.1f}%"
                                           for name, value in snapshot.pressure.items()))
        memory = Text.assemble(("Mem ", "bold"), (f"{snapshot.memory_percent:5.1f}% ",
                                                  level_style(snapshot.memory_percent)),
                               bar(snapshot.memory_percent))
        second: list[Text | str] = [
            memory, f"{human_bytes(snapshot.memory_used)} of {human_bytes(snapshot.memory_total)}",
            f"swap {snapshot.swap_percent:.0f}% of {human_bytes(snapshot.swap_total)}",
            f"up {human_duration(snapshot.uptime_s)}"]
        third: list[Text | str] = [
            Text.assemble(("Net ", "bold"), f"rx {human_rate(snapshot.net_rx_bps)}"),
            f"tx {human_rate(snapshot.net_tx_bps)}",
            Text.assemble(("Disk ", "bold"), f"read {human_rate(snapshot.disk_read_bps)}"),
            f"write {human_rate(snapshot.disk_write_bps)}"]
        self.query_one("#res-summary", TextLines).show([first, second, third])
        # On a slow link the summary keeps the pulse; graphs and tables, most of the bytes
        # a redraw sends, follow every LOW_BANDWIDTH_DETAIL_SECONDS.
        now = self.clock()
        if getattr(self.app, "low_bandwidth", False) and \
                now - self._details_drawn < LOW_BANDWIDTH_DETAIL_SECONDS:
            return
        self._details_drawn = now

        series = self._series(snapshot)
        window = WINDOWS[self.window][0]
        self.query_one("#graph-cpu", TimeGraph).show(
            [Series("", series["cpu.percent"], "%", 100.0)], window)
        self.query_one("#graph-memory", TimeGraph).show(
            [Series("used", series["memory.percent"], "%", 100.0),
             Series("swap", series["swap.percent"], "%", 100.0)], window)
        self.query_one("#graph-net", TimeGraph).show(
            [Series("rx", series["net.rx_bps"], formatter=human_rate),
             Series("tx", series["net.tx_bps"], formatter=human_rate)], window)
        self.query_one("#graph-disk", TimeGraph).show(
            [Series("read", series["disk.read_bps"], formatter=human_rate),
             Series("write", series["disk.write_bps"], formatter=human_rate)], window)
        if snapshot.processes != self._shown_processes:
            self._shown_processes = snapshot.processes
            self._draw_processes(snapshot.processes)
        if snapshot.mounts != self._shown_mounts:
            self._shown_mounts = snapshot.mounts
            self.query_one("#res-mounts", LineTable).set_rows([
                (mount.mountpoint, (mount.mountpoint, mount.fstype, human_bytes(mount.used),
                                    human_bytes(mount.total),
                                    Text(f"{mount.percent:.0f}%",
                                         style=level_style(mount.percent, 85, 95))))
                for mount in snapshot.mounts])

    def _draw_processes(self, rows: tuple[ProcessRow, ...]) -> None:
        table = self.query_one("#res-processes", LineTable)
        if self.sort_by_memory:
            ordered = sorted(rows, key=lambda r: r.rss, reverse=True)
        else:
            ordered = sorted(rows, key=lambda r: (r.cpu_percent, r.rss), reverse=True)
        table.set_rows([(str(row.pid), self._process_row(row)) for row in ordered])
        title = "by memory (s)" if self.sort_by_memory else "by CPU (s)"
        if table.border_title != title:  # setting it repaints the table
            table.border_title = title

    @staticmethod
    def _process_row(row: ProcessRow) -> tuple[str | Text, ...]:
        growth = Text("")
        if row.leak_suspect:
            growth = Text(f"+{row.rss_growth / 2**20:.1f}M leak?", style="bold red")
        elif abs(row.rss_growth) >= 0.1 * 2**20:
            growth = Text(f"{row.rss_growth / 2**20:+.1f} MiB", style="dim")
        return (str(row.pid), row.name, row.user, f"{row.cpu_percent:.1f}",
                human_bytes(row.rss) if row.readable else "(no access)", growth)
