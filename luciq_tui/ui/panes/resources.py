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
from textual.widgets import DataTable, Static

from luciq_tui.core.resources import MountUsage, ProcessRow, ResourcesSnapshot
from luciq_tui.format import human_bytes, human_duration, human_rate
from luciq_tui.ui.panes.base import Pane
from luciq_tui.ui.timegraph import Series, TimeGraph

if TYPE_CHECKING:
    from luciq_tui.ui.app import LuciqApp

BAR_CELLS = 10
KIB = 1024.0
# (label, seconds); 0 is the live minute from memory.
WINDOWS: tuple[tuple[str, float], ...] = (("60 s live", 0.0), ("15 min", 900.0),
                                          ("1 h", 3600.0), ("24 h", 86400.0))
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
        self._summary_lines = -1

    def compose(self) -> ComposeResult:
        yield Static("waiting for the first sample…", id="res-summary")
        with Horizontal(id="res-body"):
            with Grid(id="res-graphs"):
                yield TimeGraph("CPU", id="graph-cpu")
                yield TimeGraph("Memory", id="graph-memory")
                yield TimeGraph("Net", id="graph-net")
                yield TimeGraph("Disk", id="graph-disk")
            with Vertical(id="res-side"):
                yield DataTable(id="res-processes", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="res-mounts", cursor_type="none")

    def on_mount(self) -> None:
        processes = self.query_one("#res-processes", DataTable)
        self._process_columns = processes.add_columns("PID", "Process", "User", "CPU %", "RSS",
                                                      "Growth")
        self._process_cells: dict[str, tuple[object, ...]] = {}
        mounts = self.query_one("#res-mounts", DataTable)
        mounts.add_columns("Mount", "Type", "Used", "Size", "Use %")

    @property
    def window_seconds(self) -> float:
        return WINDOWS[self.window][1]

    def action_cycle_window(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)
        self.history = {}
        if self.window_seconds:
            cast("LuciqApp", self.app).load_resource_history()
        self.redraw()

    def action_cycle_sort(self) -> None:
        self.sort_by_memory = not self.sort_by_memory
        self._shown_processes = None
        self.redraw()

    def action_signal(self, name: str) -> None:
        cast("LuciqApp", self.app).request_action(f"resources.{name}", self.selected_pid)

    @property
    def selected_pid(self) -> str:
        table = self.query_one("#res-processes", DataTable)
        if not table.row_count:
            return ""
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value or "")

    def show_history(self, history: dict[str, tuple[float, ...]]) -> None:
        """Long-window series read from the store (metric name → values, oldest first)."""
        self.history = history
        self.redraw()

    def _series(self, snapshot: ResourcesSnapshot) -> dict[str, tuple[float, ...]]:
        if self.window_seconds:
            return {metric: self.history.get(metric, ()) for metric in HISTORY_METRICS}
        return {metric: snapshot.history.get(ring, ())
                for metric, ring in RING_FOR_METRIC.items()}

    def draw(self, snapshot: ResourcesSnapshot) -> None:
        summary = Text()
        summary.append("CPU ", style="bold")
        summary.append(f"{snapshot.cpu_percent:5.1f}% ", style=level_style(snapshot.cpu_percent,
                                                                             90, 97))
        summary.append(bar(snapshot.cpu_percent))
        cores = " ".join(f"{value:3.0f}" for value in snapshot.per_core[:16])
        summary.append(f"  cores [{cores}]  load {snapshot.load[0]:.2f} {snapshot.load[1]:.2f} "
                       f"{snapshot.load[2]:.2f}")
        if snapshot.pressure:
            summary.append("  PSI " + " ".join(
                f"{name} {value:.1f}%" for name, value in snapshot.pressure.items()))
        summary.append("\nMem ", style="bold")
        summary.append(f"{snapshot.memory_percent:5.1f}% ",
                       style=level_style(snapshot.memory_percent))
        summary.append(bar(snapshot.memory_percent))
        summary.append(f"  {human_bytes(snapshot.memory_used)} of "
                       f"{human_bytes(snapshot.memory_total)}  swap {snapshot.swap_percent:.0f}% "
                       f"of {human_bytes(snapshot.swap_total)}  up "
                       f"{human_duration(snapshot.uptime_s)}\n")
        summary.append("Net ", style="bold")
        summary.append(f"rx {human_rate(snapshot.net_rx_bps)}  tx {human_rate(snapshot.net_tx_bps)}"
                       f"   Disk read {human_rate(snapshot.disk_read_bps)}  write "
                       f"{human_rate(snapshot.disk_write_bps)}")
        # A relayout of the whole screen costs far more than drawing three lines: ask for one
        # only when the summary's line count may have changed.
        lines = summary.plain.count("\n")
        self.query_one("#res-summary", Static).update(summary,
                                                      layout=lines != self._summary_lines)
        self._summary_lines = lines

        series = self._series(snapshot)
        window = WINDOWS[self.window][0]
        self.query_one("#graph-cpu", TimeGraph).show(
            [Series("", series["cpu.percent"], "%", 100.0)], window)
        self.query_one("#graph-memory", TimeGraph).show(
            [Series("used", series["memory.percent"], "%", 100.0),
             Series("swap", series["swap.percent"], "%", 100.0)], window)
        self.query_one("#graph-net", TimeGraph).show(
            [Series("rx", tuple(v / KIB for v in series["net.rx_bps"]), " KiB/s"),
             Series("tx", tuple(v / KIB for v in series["net.tx_bps"]), " KiB/s")], window)
        self.query_one("#graph-disk", TimeGraph).show(
            [Series("read", tuple(v / KIB for v in series["disk.read_bps"]), " KiB/s"),
             Series("write", tuple(v / KIB for v in series["disk.write_bps"]), " KiB/s")],
            window)
        if snapshot.processes != self._shown_processes:
            self._shown_processes = snapshot.processes
            self._draw_processes(snapshot.processes)
        if snapshot.mounts == self._shown_mounts:
            return
        self._shown_mounts = snapshot.mounts
        mounts = self.query_one("#res-mounts", DataTable)
        with self.app.batch_update():
            mounts.clear()
            for mount in snapshot.mounts:
                mounts.add_row(mount.mountpoint[:20], mount.fstype, human_bytes(mount.used),
                               human_bytes(mount.total),
                               Text(f"{mount.percent:.0f}%", style=level_style(mount.percent,
                                                                               85, 95)))

    def _draw_processes(self, rows: tuple[ProcessRow, ...]) -> None:
        table = self.query_one("#res-processes", DataTable)
        selected = self.selected_pid
        if self.sort_by_memory:
            ordered = sorted(rows, key=lambda r: r.rss, reverse=True)
        else:
            ordered = sorted(rows, key=lambda r: (r.cpu_percent, r.rss), reverse=True)
        cells = {str(row.pid): self._process_row(row) for row in ordered}
        keys = list(cells)
        with self.app.batch_update():
            if keys == list(self._process_cells):
                # Same processes in the same order: change only the cells that changed, so
                # the table re-renders those lines instead of all of them.
                for key, values in cells.items():
                    old = self._process_cells[key]
                    for column, value, before in zip(self._process_columns, values, old,
                                                     strict=True):
                        if value != before:
                            table.update_cell(key, column, value)
            else:
                table.clear()
                for key, values in cells.items():
                    table.add_row(*values, key=key)
                if selected in keys:
                    table.move_cursor(row=keys.index(selected))
        self._process_cells = cells
        table.border_title = "by memory (s)" if self.sort_by_memory else "by CPU (s)"

    @staticmethod
    def _process_row(row: ProcessRow) -> tuple[object, ...]:
        growth = Text("")
        if row.leak_suspect:
            growth = Text(f"+{human_bytes(row.rss_growth)} leak?", style="bold red")
        elif abs(row.rss_growth) >= 0.1 * 2**20:
            growth = Text(f"{row.rss_growth / 2**20:+.1f} MiB", style="dim")
        return (str(row.pid), row.name[:22], row.user[:12], f"{row.cpu_percent:.1f}",
                human_bytes(row.rss) if row.readable else "(no access)", growth)
