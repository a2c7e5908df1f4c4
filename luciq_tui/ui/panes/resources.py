"""Resources pane: the machine at a glance, live graphs of the last minute, top processes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Static

from luciq_tui.core.resources import ResourcesSnapshot
from luciq_tui.format import human_bytes, human_duration, human_rate
from luciq_tui.ui.graph import Graph
from luciq_tui.ui.panes.base import Pane

BAR_CELLS = 10


def bar(percent: float, cells: int = BAR_CELLS) -> str:
    filled = round(max(0.0, min(100.0, percent)) / 100 * cells)
    return "█" * filled + "·" * (cells - filled)


def level_style(percent: float, warn: float = 80.0, crit: float = 85.0) -> str:
    return "bold red" if percent >= crit else "yellow" if percent >= warn else "green"


class ResourcesPane(Pane[ResourcesSnapshot]):
    """CPU, memory, swap, disks and network; relief command on `r`."""

    optimizer = "resources"
    BINDINGS = [Binding("r", "app.run_action('resources.relief')", "Relief cmd")]

    def compose(self) -> ComposeResult:
        yield Static("waiting for the first sample…", id="res-summary")
        with Horizontal(id="res-body"):
            with Grid(id="res-graphs"):
                yield Graph("CPU %", ymax=100, id="graph-cpu")
                yield Graph("Memory %", ymax=100, id="graph-memory")
                yield Graph("Network", id="graph-net")
                yield Graph("Disk IO", id="graph-disk")
            with Vertical(id="res-side"):
                yield DataTable(id="res-processes", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="res-mounts", cursor_type="none")

    def on_mount(self) -> None:
        processes = self.query_one("#res-processes", DataTable)
        processes.add_columns("PID", "Process", "User", "CPU %", "RSS")
        mounts = self.query_one("#res-mounts", DataTable)
        mounts.add_columns("Mount", "Type", "Used", "Size", "Use %")

    def draw(self, snapshot: ResourcesSnapshot) -> None:
        summary = Text()
        summary.append("CPU ", style="bold")
        summary.append(f"{snapshot.cpu_percent:5.1f}% ", style=level_style(snapshot.cpu_percent,
                                                                             90, 97))
        summary.append(bar(snapshot.cpu_percent))
        cores = " ".join(f"{value:3.0f}" for value in snapshot.per_core[:16])
        summary.append(f"  cores [{cores}]  load {snapshot.load[0]:.2f} {snapshot.load[1]:.2f} "
                       f"{snapshot.load[2]:.2f}\n")
        summary.append("Mem ", style="bold")
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
        self.query_one("#res-summary", Static).update(summary)

        history = snapshot.history
        step = snapshot.interval
        self.query_one("#graph-cpu", Graph).show([("cpu", history.get("cpu", ()))], step)
        self.query_one("#graph-memory", Graph).show(
            [("memory", history.get("memory", ())), ("swap", history.get("swap", ()))], step)
        kib = 1024.0
        self.query_one("#graph-net", Graph).show(
            [("rx", [v / kib for v in history.get("net_rx", ())]),
             ("tx", [v / kib for v in history.get("net_tx", ())])], step, "KiB/s")
        self.query_one("#graph-disk", Graph).show(
            [("read", [v / kib for v in history.get("disk_read", ())]),
             ("write", [v / kib for v in history.get("disk_write", ())])], step, "KiB/s")

        processes = self.query_one("#res-processes", DataTable)
        with self.app.batch_update():
            processes.clear()
            for row in snapshot.processes:
                processes.add_row(str(row.pid), row.name[:24], row.user[:12],
                                  f"{row.cpu_percent:.1f}", human_bytes(row.rss),
                                  key=str(row.pid))
            mounts = self.query_one("#res-mounts", DataTable)
            mounts.clear()
            for mount in snapshot.mounts:
                mounts.add_row(mount.mountpoint[:20], mount.fstype, human_bytes(mount.used),
                               human_bytes(mount.total),
                               Text(f"{mount.percent:.0f}%", style=level_style(mount.percent,
                                                                               85, 95)))
