"""Plain formatting of figures for people, shared by the dashboard and the CLI."""

from __future__ import annotations

import time


def human_bytes(value: float) -> str:
    """1536 → '1.5 KiB'."""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def human_rate(value: float) -> str:
    return human_bytes(value) + "/s"


def human_duration(seconds: float) -> str:
    """93784 → '1d 2h 3m'."""
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def clock(timestamp: float) -> str:
    """A local time stamp: today's as HH:MM:SS, older ones with the date."""
    moment = time.localtime(timestamp)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def millis(value: float | None) -> str:
    """A duration in ms for people: 0.0123 → '12 µs', 3.456 → '3.46 ms', 123.4 → '123 ms'."""
    if value is None:
        return "–"
    if value < 0.1:
        return f"{value * 1000:.0f} µs"
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"
