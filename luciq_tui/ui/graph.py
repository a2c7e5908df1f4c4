"""A small time-series graph: a plotext plot that redraws only when its data changed."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot


class Graph(PlotextPlot):
    """The last minute of one or more series, newest on the right."""

    def __init__(self, title: str, *, unit: str = "", ymax: float | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.unit = unit
        self.ymax = ymax
        self._key: tuple[object, ...] = ()

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title(self.title)

    def show(self, series: Sequence[tuple[str, Sequence[float]]], interval: float,
             subtitle: str = "") -> None:
        """Plot the series; a no-op (no redraw) when nothing changed."""
        key = (tuple((label, tuple(values)) for label, values in series), subtitle)
        if key == self._key:
            return
        self._key = key
        plt = self.plt
        plt.clear_data()
        longest = max((len(values) for _label, values in series), default=0)
        peak = 0.0
        for label, values in series:
            if not values:
                continue
            xs = [(i - len(values) + 1) * interval for i in range(len(values))]
            plt.plot(xs, list(values), label=label if len(series) > 1 else None)
            peak = max(peak, max(values))
        plt.title(f"{self.title} {subtitle}".strip())
        window = max(longest - 1, 1) * interval
        plt.xlim(-window, 0)
        top = self.ymax if self.ymax is not None else max(peak * 1.15, 1.0)
        plt.ylim(0, top)
        self.refresh()
