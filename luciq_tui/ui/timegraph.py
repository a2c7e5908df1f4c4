"""A cheap time-series graph for the always-on Resources pane.

plotext rebuilds a whole plot on every redraw (8–56 ms each, measured here), which is most of
a dashboard's CPU at a 1 s refresh. This widget draws each series as a bar per column with the
eight block elements ▁▂▃▄▅▆▇█ (no braille: they render in every terminal font), builds its
lines once per change in well under a millisecond, and draws nothing when its data did not
change. Several series stack vertically, each with its own scale and a title line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from luciq_tui.ui.lines import changed_span, forget_dirty_regions, refresh_changed

BLOCKS = " ▁▂▃▄▅▆▇█"
COLORS = ("green", "cyan", "magenta", "yellow")


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]
    unit: str = ""
    fixed_max: float | None = None
    format: str = "{:.1f}"
    formatter: Callable[[float], str] | None = None  # a value with its unit, instead

    def text(self, value: float) -> str:
        if self.formatter is not None:
            return self.formatter(value)
        return f"{self.format.format(value)}{self.unit}"


def resample(values: Sequence[float], width: int) -> list[float]:
    """Fit `values` into `width` columns: the newest on the right; when there are more
    values than columns, each column shows the largest of its bucket (peaks stay visible)."""
    if width <= 0:
        return []
    if len(values) <= width:
        return list(values)
    step = len(values) / width
    return [max(values[int(i * step): max(int(i * step) + 1, int((i + 1) * step))])
            for i in range(width)]


def bars(values: Sequence[float], top: float, rows: int) -> list[str]:
    """`rows` lines of block characters, the highest first, one column per value."""
    # A value's share of `top`, at most all of it (so an absurdly small top draws full
    # bars, not an overflow); negative and NaN values draw nothing.
    eighths = [0 if top <= 0 or not v > 0 else round(min(v / top, 1.0) * rows * 8)
               for v in values]
    highest = max(eighths, default=0)
    lowest = min(eighths, default=0)
    blank, full = " " * len(eighths), "█" * len(eighths)
    lines = []
    for row in range(rows - 1, -1, -1):
        floor = row * 8
        if floor >= highest:  # above every bar: most rows of a graph of low values
            lines.append(blank)
        elif floor + 8 <= lowest:  # below every bar
            lines.append(full)
        else:
            lines.append("".join(BLOCKS[max(0, min(8, level - floor))] for level in eighths))
    return lines


def _bars_span(before: list[tuple[str, Style]],
               after: list[tuple[str, Style]]) -> tuple[int, int] | None:
    """A row of bars in one colour: the columns that changed (else the whole line)."""
    if len(before) == len(after) == 1 and before[0][1] == after[0][1]:
        return changed_span(before[0][0], after[0][0])
    return None


class TimeGraph(Widget):
    """One or more series over a window, newest on the right."""

    DEFAULT_CSS = """
    TimeGraph {
        height: 1fr;
        min-height: 4;
    }
    """

    def __init__(self, title: str, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self._series: tuple[Series, ...] = ()
        self._window = ""
        self._built_size = (-1, -1)
        self._raw: list[list[tuple[str, Style]]] = []
        self._lines: dict[int, Strip] = {}

    def show(self, series: Sequence[Series], window: str) -> None:
        """New data; refreshes only the lines that differ from what is shown (a graph of
        low values changes in its bottom rows alone)."""
        series = tuple(series)
        if series == self._series and window == self._window:
            return
        self._series, self._window = series, window
        width, height = self.size.width, self.size.height
        resized = (width, height) != self._built_size
        old = self._raw
        self._build(width, height)
        if resized:
            self.refresh()
        else:
            refresh_changed(self, old, self._raw, _bars_span)

    def _build(self, width: int, height: int) -> None:
        self._built_size = (width, height)
        self._raw = self._draw(width, height)
        self._lines = {}

    def render_lines(self, crop: Region) -> list[Strip]:
        size = self.size  # once per render, not once per line: `size` asks the compositor
        if (size.width, size.height) != self._built_size:
            self._build(size.width, size.height)
        forget_dirty_regions(self)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One line of the graph (Textual's line API: no layout, no markup, one segment or
        two per line), built once per change of data or size."""
        strip = self._lines.get(y)
        if strip is None:
            width = self._built_size[0]
            if y >= len(self._raw):
                return Strip.blank(width)
            strip = self._lines[y] = Strip([Segment(text, style) for text, style
                                            in self._raw[y]], width)
        return strip

    def _draw(self, width: int, height: int) -> list[list[tuple[str, Style]]]:
        bold, dim = Style(bold=True), Style(dim=True)
        if not self._series or width < 4 or height < 2:
            return [[(f"{self.title}: waiting for data"[:width].ljust(width), dim)]]
        lines: list[list[tuple[str, Style]]] = []
        share = max(2, height // len(self._series))
        for number, series in enumerate(self._series):
            rows = share if number < len(self._series) - 1 else height - share * number
            if rows < 2:
                break
            values = resample(series.values, width)
            peak = max(values, default=0.0)
            top = series.fixed_max if series.fixed_max is not None else (peak * 1.1 or 1.0)
            now = series.text(series.values[-1]) if series.values else "–"
            label = " ".join(part for part in (self.title if number == 0 else "", series.label,
                                               now) if part)[:width]
            scale = f"max {series.text(peak)} · {self._window}"
            room = width - len(label) - 1
            if room < len(scale):
                scale = f"max {series.text(peak)}"
            head = [(label, bold)]
            if room >= len(scale):
                head += [("\u00a0" * (room - len(scale) + 1), Style()), (scale, dim)]
            lines.append(head)
            color = Style(color=COLORS[number % len(COLORS)])
            lines.extend([(line.rjust(width), color)] for line in bars(values, top, rows - 1))
        return lines
