"""The cheap line widgets: what they show, and that they repaint only the lines that changed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from luciq_tui.ui.lines import Column, LineTable, TextLines, changed_span
from luciq_tui.ui.timegraph import BLOCKS, Series, TimeGraph, bars


class Harness(App[None]):
    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self.widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self.widgets


def spy_refresh(widget: Widget, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Region, ...]]:
    """Record each `refresh` call's regions (an empty tuple is the whole widget)."""
    calls: list[tuple[Region, ...]] = []
    refresh = widget.refresh

    def record(*regions: Region, **kwargs: bool) -> Widget:
        calls.append(regions)
        return refresh(*regions, **kwargs)

    monkeypatch.setattr(widget, "refresh", record)
    return calls


def lines_of(widget: Widget) -> list[str]:
    return ["".join(segment.text for segment in widget.render_line(y)).rstrip()
            for y in range(widget.size.height)]


async def test_text_lines_wrap_at_chunk_boundaries_and_repaint_changed_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    lines = TextLines()
    lines.styles.width = 24
    async with Harness(lines).run_test(size=(40, 10)) as pilot:
        lines.show([["CPU 5%", "load 0.10 0.20 0.30"], [Text("Mem 40%"), "swap 0%"]])
        await pilot.pause()
        # The second chunk does not fit beside the first: it goes on whole, never mid-word.
        assert lines_of(lines) == ["CPU 5%", "load 0.10 0.20 0.30", "Mem 40%  swap 0%"]
        assert lines.plain == "CPU 5%  load 0.10 0.20 0.30\nMem 40%  swap 0%"
        calls = spy_refresh(lines, monkeypatch)
        lines.show([["CPU 7%", "load 0.10 0.20 0.30"], [Text("Mem 40%"), "swap 0%"]])
        assert calls == [(Region(0, 0, 24, 1),)]  # the one line that changed
        calls.clear()
        lines.show([["CPU 7%", "load 0.10 0.20 0.30"], [Text("Mem 40%"), "swap 0%"]])
        assert calls == []  # nothing changed: nothing repainted


async def test_text_lines_without_wrap_crop() -> None:
    lines = TextLines("x", wrap=False)
    lines.styles.width = 10
    async with Harness(lines).run_test(size=(40, 5)) as pilot:
        lines.show([["Luciq", "host up 2h", "load 0.1"]])
        await pilot.pause()
        assert lines.size.height == 1 and lines_of(lines) == ["Luciq  hos"]


def _table_rows(values: list[tuple[str, str]]) -> list[tuple[str, tuple[str, ...]]]:
    return [(key, (key, value)) for key, value in values]


async def test_line_table_cursor_keys_scroll_and_follow_the_row_key(
        monkeypatch: pytest.MonkeyPatch) -> None:
    table = LineTable((Column("PID", 5, "right"), Column("Name", 8)), id="t")
    table.styles.height = 4  # a header and three rows
    async with Harness(table).run_test(size=(30, 10)) as pilot:
        table.set_rows(_table_rows([(str(pid), f"p{pid}") for pid in range(1, 8)]))
        table.focus()
        await pilot.pause()
        assert lines_of(table) == ["   PID Name", "     1 p1", "     2 p2", "     3 p3"]
        await pilot.press("down", "down", "down")  # past the last visible row: scrolls
        assert table.cursor_key == "4"
        assert lines_of(table)[1:] == ["     2 p2", "     3 p3", "     4 p4"]
        await pilot.press("end")
        assert table.cursor_key == "7" and lines_of(table)[-1] == "     7 p7"
        await pilot.press("home", "down")
        assert table.cursor_key == "2"
        # A re-sort: the cursor stays on its row, wherever that went.
        table.set_rows(_table_rows([(str(pid), f"p{pid}") for pid in range(7, 0, -1)]))
        assert table.cursor_key == "2" and table.get_row_at(table.cursor_row) == ("2", "p2")
        # The row under the cursor went away: the cursor stays in range.
        table.set_rows(_table_rows([("9", "p9")]))
        assert table.cursor_key == "9" and table.row_count == 1
        table.set_rows([])
        assert table.cursor_key == "" and table.row_count == 0


async def test_line_table_repaints_the_lines_the_cursor_left_and_entered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    table = LineTable((Column("PID", 5, "right"), Column("Name", 8)))
    table.styles.height = 5
    async with Harness(table).run_test(size=(30, 10)) as pilot:
        table.set_rows(_table_rows([("1", "a"), ("2", "b"), ("3", "c")]))
        table.focus()
        await pilot.pause()
        calls = spy_refresh(table, monkeypatch)
        await pilot.press("down")
        width = table.size.width
        assert sorted(calls) == [(Region(0, 1, width, 1),), (Region(0, 2, width, 1),)]


async def test_time_graph_repaints_only_changed_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = TimeGraph("CPU")
    graph.styles.height = 6
    graph.styles.width = 20
    async with Harness(graph).run_test(size=(30, 10)) as pilot:
        graph.show([Series("", (1.0, 2.0), "%", 100.0)], "60 s")
        await pilot.pause()
        calls = spy_refresh(graph, monkeypatch)
        # Low values: only the title (the current value) and the bottom row change, and in
        # the bottom row only the column whose bar moved (the rest shifted blank onto blank
        # and bar onto bar).
        graph.show([Series("", (1.0, 2.0, 3.0), "%", 100.0)], "60 s")
        assert sorted(calls) == [(Region(0, 0, 20, 1),), (Region(18, 5, 1, 1),)]
        assert lines_of(graph)[0].startswith("CPU 3.0%")


@given(st.lists(st.floats(0, 200), max_size=60), st.floats(0.001, 150), st.integers(1, 12))
def test_bars_match_the_column_by_column_definition(values: list[float], top: float,
                                                    rows: int) -> None:
    """The shortcuts for blank and full rows draw what the plain definition draws."""
    eighths = [0 if top <= 0 else max(0, min(rows * 8, round(v / top * rows * 8)))
               for v in values]
    expected = ["".join(BLOCKS[max(0, min(8, level - row * 8))] for level in eighths)
                for row in range(rows - 1, -1, -1)]
    assert bars(values, top, rows) == expected


def test_bars_survive_odd_values() -> None:
    assert bars([1.0, float("nan"), -5.0, float("inf")], 1e-320, 2) == ["█  █", "█  █"]
    assert bars([5.0], 0.0, 1) == [" "]


@given(st.text("ab ", max_size=8), st.text("ab ", max_size=8))
def test_changed_span_covers_every_difference(old: str, new: str) -> None:
    span = changed_span(old, new)
    if old == new:
        assert span is None
        return
    assert span is not None
    start, end = span
    if len(old) == len(new):  # outside the span the lines agree
        assert old[:start] == new[:start] and old[end:] == new[end:]
        assert old[start] != new[start] and old[end - 1] != new[end - 1]
    else:
        assert span == (0, max(len(old), len(new)))


async def test_partial_refreshes_do_not_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each changed span is a refresh of its own region: what Textual keeps of them must
    not grow with every frame (it did: a slow leak over an hour's soak)."""
    graph = TimeGraph("CPU")
    graph.styles.height = 6
    graph.styles.width = 20
    table = LineTable((Column("PID", 5, "right"), Column("Name", 8)))
    table.styles.height = 5
    async with Harness(graph, table).run_test(size=(30, 14)) as pilot:
        for step in range(60):
            values = tuple(float((step + i * 7) % 9) for i in range(step + 1))
            graph.show([Series("", values, "%", 10.0)], "60 s")
            table.set_rows(_table_rows([(str(i), f"p{(i * step) % 13}") for i in range(4)]))
            await pilot.pause()
        assert len(graph._dirty_regions) <= 1 and len(table._dirty_regions) <= 1
