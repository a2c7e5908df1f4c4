"""Cheap widgets for what changes every second: lines of text, and a table of rows.

Textual's `Static` renders its whole content through Rich again on every update, and
`DataTable` renders every visible row again when any one cell changes (its caches are keyed
on an update counter); a changed row order also makes it lay the screen out again. At a 1 s
refresh that was most of the dashboard's CPU and most of what it wrote to the terminal.
These two build each line as a `Strip` with Textual's line API, compare it with the line on
screen, and refresh only the lines that changed, so Textual renders and sends those alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, TypeVar, cast

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

CHUNK_GAP = "  "
LineT = TypeVar("LineT")


def refresh_changed(widget: Widget, old: Sequence[LineT], new: Sequence[LineT],
                    span: Callable[[LineT, LineT], tuple[int, int] | None] | None = None
                    ) -> None:
    """Repaint only what differs between the lines on screen (`old`) and the lines to draw
    (`new`): each changed line, or just the columns [start, end) that `span` names for it
    (None: the whole line); everything when the number of lines changed."""
    if not old or len(old) != len(new):
        widget.refresh()
        return
    width = widget.size.width
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        if before == after:
            continue
        start, end = (span(before, after) if span else None) or (0, width)
        widget.refresh(Region(start, y, max(1, min(end, width) - start), 1))


def forget_dirty_regions(widget: Widget) -> None:
    """Textual keeps every region a widget is refreshed with in `_dirty_regions` until its
    default renderer runs, which a line-API widget never calls: with a refresh per changed
    span that set only grows (a slow leak, found with tracemalloc behind bench/soak.py).
    What to repaint is tracked apart (`_repaint_regions`, taken by the compositor each
    frame), so forgetting these changes nothing on screen. Call it in `render_lines`."""
    widget._dirty_regions.clear()


def changed_span(old: str, new: str) -> tuple[int, int] | None:
    """The columns [start, end) where two lines of single-width characters differ, or None
    when they are equal. Textual sends only a refreshed region's columns: repainting the
    span instead of the line is what keeps a moving graph cheap on the wire."""
    if old == new:
        return None
    if len(old) != len(new):
        return (0, max(len(old), len(new)))
    start = 0
    while old[start] == new[start]:
        start += 1
    end = len(new)
    while old[end - 1] == new[end - 1]:
        end -= 1
    return (start, end)


class TextLines(Widget):
    """Lines of text, each made of chunks. With `wrap`, a line wider than the widget goes on
    at a chunk boundary (never mid-word); without, it is cropped."""

    DEFAULT_CSS = """
    TextLines {
        height: auto;
    }
    """

    def __init__(self, text: str = "", *, wrap: bool = True, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.wrap = wrap
        self._lines: tuple[tuple[Text, ...], ...] = ((Text(text),),) if text else ()
        self._rows: list[Text] = []
        self._rows_width = -1
        self._strips: dict[int, Strip] = {}

    @property
    def plain(self) -> str:
        """The text shown, one line per logical line (tests and screen readers)."""
        return "\n".join(CHUNK_GAP.join(chunk.plain for chunk in line) for line in self._lines)

    def show(self, lines: Sequence[Sequence[Text | str]]) -> None:
        """New content: each line a sequence of chunks."""
        new = tuple(tuple(Text(chunk) if isinstance(chunk, str) else chunk for chunk in line)
                    for line in lines)
        if new == self._lines:
            return
        self._lines = new
        width = self.size.width
        if self._rows_width != width or not width:
            self.refresh(layout=True)
            return
        old = self._rows
        self._pack(width)
        if len(old) != len(self._rows):
            self.refresh(layout=True)
        else:
            refresh_changed(self, old, self._rows)

    def _pack(self, width: int) -> list[Text]:
        rows: list[Text] = []
        for line in self._lines:
            row = Text()
            for chunk in line:
                gap = CHUNK_GAP if row.plain else ""
                if self.wrap and row.plain and row.cell_len + len(gap) + chunk.cell_len > width:
                    rows.append(row)
                    row, gap = Text(), ""
                row.append(gap)
                row.append_text(chunk)
            rows.append(row)
        self._rows, self._rows_width, self._strips = rows, width, {}
        return rows

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._pack(width)) if self.wrap else len(self._lines)

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.size.width  # once per render: `size` asks the compositor
        if width != self._rows_width:
            self._pack(width)
        forget_dirty_regions(self)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._rows_width
        strip = self._strips.get(y)
        if strip is None:
            if y >= len(self._rows):
                return Strip.blank(width)
            segments = list(self._rows[y].render(self.app.console))
            strip = self._strips[y] = Strip(segments).crop_extend(0, width, None)
        return strip


@dataclass(frozen=True)
class Column:
    label: str
    width: int
    justify: Literal["left", "right"] = "left"


Cell = tuple[str, str]  # text, style


class LineTable(Widget, can_focus=True):
    """Rows under a header, with a row cursor that follows its row's key when the rows are
    re-sorted. Fixed column widths: a new value never changes the layout."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-table--header", "line-table--cursor", "line-table--even-row",
    }
    DEFAULT_CSS = """
    LineTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .line-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .line-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .line-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .line-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .line-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    def __init__(self, columns: Sequence[Column], *, cursor: bool = True,
                 zebra_stripes: bool = False, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = tuple(columns)
        self.show_cursor = cursor
        self.zebra_stripes = zebra_stripes
        self.can_focus = cursor
        self._keys: list[str] = []
        self._cells: list[tuple[Cell, ...]] = []
        self.cursor_row = 0
        self._top = 0
        self._drawn: list[tuple[object, ...]] = []
        self._strips: dict[tuple[object, ...], Strip] = {}
        self._view = Size(0, 0)
        # Where each column starts: a space, then each column and the space after it.
        self._offsets = [1]
        for column in self.columns:
            self._offsets.append(self._offsets[-1] + column.width + 1)

    # -- data -----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_key(self) -> str:
        """The key of the row under the cursor ("" when the table is empty)."""
        return self._keys[self.cursor_row] if self._keys else ""

    def get_row_at(self, row: int) -> tuple[str, ...]:
        """The texts of row `row`."""
        return tuple(text for text, _style in self._cells[row])

    def set_rows(self, rows: Sequence[tuple[str, Sequence[str | Text]]]) -> None:
        """Replace the rows: (key, cells) each. The cursor stays on its key if it is still
        there; only the lines that changed on screen are drawn again."""
        selected = self.cursor_key
        count = len(self._keys)
        self._keys = [key for key, _cells in rows]
        self._cells = [tuple((cell.plain, str(cell.style)) if isinstance(cell, Text)
                             else (cell, "") for cell in cells) for _key, cells in rows]
        if selected in self._keys:
            self.cursor_row = self._keys.index(selected)
        self._clamp()
        if len(self._keys) != count and self.styles.height is not None \
                and self.styles.height.is_auto:
            self.refresh(layout=True)
        self._redraw()

    # -- cursor and scrolling -------------------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.size.height - 1)

    def _clamp(self) -> None:
        self.cursor_row = max(0, min(self.cursor_row, len(self._keys) - 1))
        if self.cursor_row < self._top:
            self._top = self.cursor_row
        elif self.cursor_row >= self._top + self._page:
            self._top = self.cursor_row - self._page + 1
        self._top = max(0, min(self._top, len(self._keys) - self._page))

    def move_cursor(self, row: int) -> None:
        self.cursor_row = row
        self._clamp()
        self._redraw()

    def action_cursor(self, step: int) -> None:
        if self.show_cursor:
            self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        if self.show_cursor:
            self.move_cursor(self.cursor_row + direction * self._page)
        else:
            self._scroll(direction * self._page)

    def _scroll(self, lines: int) -> None:
        self._top = max(0, min(self._top + lines, len(self._keys) - self._page))
        if self.show_cursor:
            self.cursor_row = max(self._top, min(self.cursor_row, self._top + self._page - 1))
        self._redraw()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if len(self._keys) > self._page:  # else the wheel scrolls what holds the table
            event.stop()
            self._scroll(3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if len(self._keys) > self._page:
            event.stop()
            self._scroll(-3)

    def on_click(self, event: events.Click) -> None:
        if self.show_cursor and event.y >= 1 and self._top + event.y - 1 < len(self._keys):
            self.move_cursor(self._top + event.y - 1)

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def on_resize(self) -> None:
        self._clamp()
        self._restyle()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def _restyle(self) -> None:
        self._strips.clear()
        self._drawn = []
        self.refresh()

    # -- drawing --------------------------------------------------------------------------
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._keys) + 1

    def _line_key(self, y: int) -> tuple[object, ...]:
        if y == 0:
            return ("header", self.has_focus)
        row = self._top + y - 1
        if row >= len(self._keys):
            return ("blank",)
        cursor = self.show_cursor and row == self.cursor_row
        return ("row", self._cells[row], cursor, self.zebra_stripes and row % 2 == 1,
                self.has_focus)

    def _redraw(self) -> None:
        old = self._drawn
        self._drawn = [self._line_key(y) for y in range(self.size.height)]
        refresh_changed(self, old, self._drawn, self._changed_cells)

    def _changed_cells(self, before: tuple[object, ...],
                       after: tuple[object, ...]) -> tuple[int, int] | None:
        """A row in the same style: from its first changed cell to its last."""
        if not (before[0] == after[0] == "row" and before[2:] == after[2:]):
            return None
        cells_before = cast("tuple[Cell, ...]", before[1])
        cells_after = cast("tuple[Cell, ...]", after[1])
        if len(cells_before) != len(cells_after):
            return None
        changed = [number for number, (a, b) in enumerate(zip(cells_before, cells_after,
                                                              strict=True)) if a != b]
        return (self._offsets[changed[0]], self._offsets[changed[-1] + 1]) if changed else None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._view = self.size  # once per render: `size` asks the compositor
        if len(self._drawn) != self._view.height:
            self._drawn = [self._line_key(line) for line in range(self._view.height)]
        forget_dirty_regions(self)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._view.width
        key = self._line_key(y)
        strip = self._strips.get(key)
        if strip is None or strip.cell_length != width:
            strip = self._strips[key] = self._render_key(key, width)
            if len(self._strips) > 4 * max(self._view.height, 8):  # rows scrolled away
                self._strips = {key: strip}
        return strip

    def _render_key(self, key: tuple[object, ...], width: int) -> Strip:
        if key[0] == "blank":
            return Strip.blank(width)
        if key[0] == "header":
            style = self.get_component_rich_style("line-table--header")
            cells: tuple[Cell, ...] = tuple((column.label, "") for column in self.columns)
        else:
            cells = key[1]  # type: ignore[assignment]
            style = Style()
            if key[3]:
                style = self.get_component_rich_style("line-table--even-row")
            if key[2]:
                style = self.get_component_rich_style("line-table--cursor")
        on_cursor = key[0] == "row" and bool(key[2])  # the cursor's colours win over a cell's
        console = self.app.console
        segments = [Segment(" ", style)]
        for column, (text, cell_style) in zip(self.columns, cells, strict=False):
            text = text[:column.width]
            text = text.rjust(column.width) if column.justify == "right" else \
                text.ljust(column.width)
            own = console.get_style(cell_style) if cell_style else Style()
            segments.append(Segment(text, own + style if on_cursor else style + own))
            segments.append(Segment(" ", style))
        # One segment per run of one style: Textual writes a style's escape codes per
        # segment, and a row of cells in one style is then one code, not twelve.
        return Strip(list(Segment.simplify(segments))).crop_extend(0, width, style)
