"""Databases pane: each database's health, settings, tables, indexes and workload plans."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from luciq_tui.core.advisor import Advice
from luciq_tui.core.database import PER_CONNECTION_SNIPPET, DatabaseInfo, DatabaseSnapshot
from luciq_tui.format import clock, human_bytes, millis
from luciq_tui.ui.panes.base import Pane

if TYPE_CHECKING:
    from luciq_tui.ui.app import LuciqApp

HEALTH_STYLE = {
    "ok": ("ok", "green"),
    "info": ("ok", "green"),
    "warning": ("warn", "yellow"),
    "critical": ("CRIT", "bold red"),
    "error": ("ERROR", "bold red"),
}
SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


def health_badge(info: DatabaseInfo) -> Text:
    label, style = HEALTH_STYLE[info.health]
    return Text(label, style=style)


def describe(info: DatabaseInfo) -> RenderableType:
    """The detail view of one database."""
    if info.error:
        return Group(Text(info.name, style="bold"), Text(info.error, style="bold red"),
                     Text("Luciq changed nothing. Fix the file or the config; Luciq keeps "
                          "checking.", style="dim"))
    settings = Table.grid(padding=(0, 2))
    settings.add_column(style="bold")
    settings.add_column()
    settings.add_column(style="dim")
    wal_note = "ok" if info.journal_mode.lower() == "wal" else "recommend WAL (w)"
    settings.add_row("file", str(info.path), human_bytes(info.size_bytes))
    settings.add_row("journal_mode", info.journal_mode, wal_note)
    settings.add_row("WAL / SHM", f"{human_bytes(info.wal_bytes)} / {human_bytes(info.shm_bytes)}",
                     "")
    settings.add_row("pages", f"{info.page_count:,} × {info.page_size} B",
                     f"{info.freelist_count:,} free ({info.free_percent:.1f} %)")
    settings.add_row("statistics", "sqlite_stat1" if info.has_stat1 else "none",
                     "" if info.has_stat1 else "recommend ANALYZE (a)")
    settings.add_row("auto_vacuum / user_version", f"{info.auto_vacuum} / {info.user_version}", "")
    fs_note = "network: WAL unsafe" if info.network_filesystem else ""
    settings.add_row("filesystem", info.filesystem or "?", fs_note)
    settings.add_row("SQLite", info.sqlite_version, f"inspected in {info.inspected_ms:.1f} ms")
    if info.integrity is not None:
        verdict = "ok" if info.integrity.ok else f"{len(info.integrity.problems)} problem(s)"
        settings.add_row("integrity", f"{info.integrity.kind}: {verdict}",
                         f"at {clock(info.integrity.timestamp)}")

    parts: list[RenderableType] = [settings]
    if info.findings:
        parts.append(Text("\nFindings", style="bold underline"))
        for finding in info.findings:
            line = Text(f"{finding.severity:<8} ", style=SEVERITY_STYLE.get(finding.severity, ""))
            line.append(finding.title, style="bold")
            line.append(f" — {finding.evidence}  → {finding.fix}")
            parts.append(line)

    tables = Table("table", "rows", "kind", box=None, header_style="bold", pad_edge=False)
    for table in info.tables:
        rows = "–" if table.rows is None else f"{table.rows:,}"
        source = {"max(rowid)": " (≤, max rowid)", "sqlite_stat1": " (stat1)"}.get(
            table.rows_source, "")
        tables.add_row(table.name, rows + source,
                       table.kind + (" without rowid" if table.without_rowid else ""))
    parts += [Text("\nTables", style="bold underline"), tables]

    indexes = Table("index", "table", "columns", "flags", box=None, header_style="bold",
                    pad_edge=False)
    for index in info.indexes:
        flags = []
        if index.unique:
            flags.append("unique")
        if index.partial:
            flags.append("partial")
        if index.redundant_with:
            flags.append(f"redundant ({index.redundant_with})")
        if info.workload and not index.used_by and not index.unique:
            flags.append("unused by workload")
        if not index.has_stats:
            flags.append("no stats")
        indexes.add_row(index.name, index.table, ", ".join(index.columns), ", ".join(flags))
    parts.append(Text("\nIndexes", style="bold underline"))
    parts.append(indexes if info.indexes else Text("none", style="yellow"))

    if info.workload:
        parts.append(Text("\nWorkload plans (EXPLAIN QUERY PLAN)", style="bold underline"))
        for plan in info.workload:
            head = Text(plan.name, style="bold")
            if plan.error:
                head.append(f"  error: {plan.error}", style="red")
            for flag in plan.flags:
                head.append(f" [{flag}]", style="yellow")
            if not plan.flags and not plan.error:
                head.append("  ok", style="green")
            timing = info.timing(plan.name)
            if timing is not None:
                head.append(f"  last run {millis(timing.ms)}" if timing.ms is not None
                            else f"  last run: {timing.error}", style="cyan")
            parts.append(head)
            parts.append(Text("\n".join("  " + line for line in plan.plan), style="dim"))
    if info.advice is not None:
        parts.extend(describe_advice(info.advice))
    elif info.workload:
        parts.append(Text("\nAdvisor: press x to test candidate indexes for this workload "
                          "(reads the file, measures on a scratch copy).", style="dim"))
    parts.append(Text("\nPer-connection settings do not persist in the file; the application "
                      "should run on each connection:", style="bold"))
    parts.append(Text("\n".join("  " + line for line in PER_CONNECTION_SNIPPET), style="cyan"))
    return Group(*parts)


def describe_advice(advice: Advice) -> list[RenderableType]:
    """The advisor's recommendations with what was measured for each."""
    head = "Advisor" + (" (measured on a scratch copy)" if advice.measured else "")
    parts: list[RenderableType] = [Text(f"\n{head}", style="bold underline")]
    if not advice.indexes:
        parts.append(Text("No index would make this workload faster.", style="green"))
    for index in advice.indexes:
        line = Text(index.sql, style="cyan")
        detail = f"\n  serves {', '.join(index.serves)}"
        if index.benefit_ms is not None:
            detail += f"; saves {index.benefit_ms:.1f} ms per workload run"
        if index.insert_us_before is not None and index.insert_us_after is not None:
            detail += (f"; inserts {index.insert_us_before:.1f} → "
                       f"{index.insert_us_after:.1f} µs/row")
        line.append(detail, style="dim")
        parts.append(line)
    if advice.indexes:
        parts.append(Text("press n to create them (B in the confirm backs up first)",
                          style="dim"))
    table = Table("query", "before", "after", "speedup", box=None, header_style="bold",
                  pad_edge=False)
    for query in advice.queries:
        table.add_row(query.name, millis(query.before_ms), millis(query.after_ms),
                      f"{query.speedup:,.1f}×" if query.speedup else "–")
    if advice.measured:
        parts.append(table)
    for drop in advice.drops:
        parts.append(Text(f"{drop.sql}  -- {drop.reason} (d drops it)", style="yellow"))
    for caveat in advice.caveats:
        parts.append(Text(f"note: {caveat}", style="dim"))
    return parts


class DatabasesPane(Pane[DatabaseSnapshot]):
    """Health of every configured database; WAL on `w`, ANALYZE on `a`."""

    optimizer = "database"
    BINDINGS = [
        Binding("w", "database('enable_wal')", "Enable WAL"),
        Binding("a", "database('analyze')", "ANALYZE"),
        Binding("i", "database('integrity')", "Integrity"),
        Binding("I", "database('integrity_full')", "Full check", show=False),
        Binding("x", "database('advise')", "Advise"),
        Binding("n", "database('create_indexes')", "Create indexes"),
        Binding("d", "database('drop_index')", "Drop index", show=False),
        Binding("k", "database('checkpoint')", "Checkpoint", show=False),
        Binding("v", "database('vacuum')", "VACUUM", show=False),
        Binding("b", "database('backup')", "Backup", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="db-list", cursor_type="row")
            with VerticalScroll(id="db-detail"):
                yield Static("inspecting…", id="db-info")

    def on_mount(self) -> None:
        table = self.query_one("#db-list", DataTable)
        table.add_columns("Database", "Health", "Journal", "Size")

    @property
    def selected(self) -> str | None:
        table = self.query_one("#db-list", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return cast(str, row_key.value)

    def draw(self, snapshot: DatabaseSnapshot) -> None:
        table = self.query_one("#db-list", DataTable)
        selected = self.selected
        with self.app.batch_update():
            table.clear()
            for info in snapshot.databases:
                table.add_row(info.name, health_badge(info),
                              info.journal_mode or "–",
                              human_bytes(info.size_bytes) if not info.error else "–",
                              key=info.name)
            names = [info.name for info in snapshot.databases]
            if selected in names:
                table.move_cursor(row=names.index(selected))
        self._show_detail()

    def _show_detail(self) -> None:
        info = self.snapshot.get(self.selected or "") if self.snapshot else None
        if info is None:
            text: RenderableType = Text("No databases configured. Add [[databases]] to the "
                                        "config, or run `luciq demo`.")
        else:
            text = describe(info)
        self.query_one("#db-info", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self.snapshot is not None:
            self._show_detail()

    def action_database(self, name: str) -> None:
        app = cast("LuciqApp", self.app)
        app.request_action(f"database.{name}", self.selected or "")
