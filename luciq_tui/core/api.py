"""The api optimizer: probes configured HTTP endpoints and keeps latency over a window.

Only configured URLs are requested and redirects are never followed. Header values are
sent but never printed, logged or stored.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from luciq_tui.core.config import EndpointConfig
from luciq_tui.core.optimizer import (
    ActionRefused,
    ActionResult,
    ActionSpec,
    Optimizer,
    Preview,
    ProgressCallback,
)
from luciq_tui.core.store import MonitoringStore

WINDOW = 60


@dataclass(frozen=True)
class ProbeResult:
    endpoint: str
    timestamp: float
    status: int | None
    latency_ms: float | None
    ok: bool
    error: str | None


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    url: str
    method: str
    last: ProbeResult | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float
    samples: int
    latency_history: tuple[float, ...]

    @property
    def up(self) -> bool:
        return self.last is not None and self.last.ok


@dataclass(frozen=True)
class ApiSnapshot:
    endpoints: tuple[EndpointStatus, ...] = ()
    timestamp: float = 0.0


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def probe(client: httpx.Client, endpoint: EndpointConfig) -> ProbeResult:
    """One request to one configured endpoint, timed; failures are results, not exceptions."""
    started = time.perf_counter()
    timestamp = time.time()
    try:
        response = client.request(endpoint.method, endpoint.url, headers=dict(endpoint.headers),
                                  timeout=endpoint.timeout, follow_redirects=False)
    except httpx.TimeoutException:
        return ProbeResult(endpoint.name, timestamp, None, None, False,
                           f"timed out after {endpoint.timeout:g} s")
    except httpx.ConnectError as error:
        reason = str(error) or "connection failed"
        if "refused" in reason.lower():
            reason = "connection refused"
        return ProbeResult(endpoint.name, timestamp, None, None, False, reason)
    except httpx.HTTPError as error:
        return ProbeResult(endpoint.name, timestamp, None, None, False,
                           f"{type(error).__name__}: {error}")
    latency = (time.perf_counter() - started) * 1000
    ok = response.status_code == endpoint.expect_status
    problem = None if ok else f"status {response.status_code}, expected {endpoint.expect_status}"
    return ProbeResult(endpoint.name, timestamp, response.status_code, latency, ok, problem)


class ApiOptimizer(Optimizer[ApiSnapshot]):
    """Probes each configured endpoint once per interval."""

    name = "api"

    def __init__(
        self,
        endpoints: Sequence[EndpointConfig],
        interval: float = 5.0,
        store: MonitoringStore | None = None,
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.interval = interval
        self.store = store
        self._windows: dict[str, deque[ProbeResult]] = {
            endpoint.name: deque(maxlen=WINDOW) for endpoint in self.endpoints
        }
        self._lock = threading.Lock()
        self._client = httpx.Client(follow_redirects=False, trust_env=False)

    def probe_all(self) -> list[ProbeResult]:
        results = [probe(self._client, endpoint) for endpoint in self.endpoints]
        with self._lock:
            for result in results:
                self._windows[result.endpoint].append(result)
        if self.store is not None and results:
            self.store.record_probes(
                (r.timestamp, r.endpoint, r.status, r.latency_ms, r.ok, r.error) for r in results
            )
        return results

    def status(self) -> ApiSnapshot:
        statuses = []
        with self._lock:
            for endpoint in self.endpoints:
                window = list(self._windows[endpoint.name])
                latencies = [r.latency_ms for r in window if r.ok and r.latency_ms is not None]
                failures = sum(1 for r in window if not r.ok)
                statuses.append(EndpointStatus(
                    name=endpoint.name,
                    url=endpoint.url,
                    method=endpoint.method,
                    last=window[-1] if window else None,
                    p50_ms=percentile(latencies, 0.50),
                    p95_ms=percentile(latencies, 0.95),
                    p99_ms=percentile(latencies, 0.99),
                    error_rate=failures / len(window) if window else 0.0,
                    samples=len(window),
                    latency_history=tuple(r.latency_ms or 0.0 for r in window),
                ))
        return ApiSnapshot(tuple(statuses), time.time())

    def observe(self) -> ApiSnapshot:
        self.probe_all()
        return self.status()

    def metrics(self, snapshot: ApiSnapshot) -> dict[str, float]:
        values: dict[str, float] = {}
        for status in snapshot.endpoints:
            values[f"api.{status.name}.up"] = 1.0 if status.up else 0.0
            values[f"api.{status.name}.error_rate"] = status.error_rate
            if status.last is not None and status.last.latency_ms is not None:
                values[f"api.{status.name}.latency_ms"] = status.last.latency_ms
            if status.p95_ms is not None:
                values[f"api.{status.name}.p95_ms"] = status.p95_ms
        return values

    def actions(self, snapshot: ApiSnapshot | None) -> tuple[ActionSpec, ...]:
        configured = bool(self.endpoints)
        return (
            ActionSpec(self.name, "probe", "Probe now", "p", "",
                       "Send one request to every configured endpoint now.",
                       available=configured,
                       reason="" if configured else "no [[endpoints]] are configured"),
        )

    def preview(self, action: ActionSpec) -> Preview:
        if action.name != "probe":
            raise ActionRefused(f"unknown api action {action.name!r}")
        if not self.endpoints:
            raise ActionRefused("no [[endpoints]] are configured")
        details = tuple(
            f"{e.method} {e.url}  (expect {e.expect_status}, timeout {e.timeout:g} s"
            + (f", headers: {', '.join(sorted(e.headers))}" if e.headers else "") + ")"
            for e in self.endpoints
        )
        return Preview(action, f"Probe {len(self.endpoints)} endpoint(s) once", details,
                       cost=f"{len(self.endpoints)} request(s); redirects are not followed")

    def execute(
        self, preview: Preview, progress: ProgressCallback, cancel: threading.Event
    ) -> ActionResult:
        progress(None, "probing")
        results = self.probe_all()
        lines = [
            f"{r.endpoint}: " + (f"{r.status} in {r.latency_ms:.1f} ms" if r.latency_ms is not None
                                 else "down") + (f" ({r.error})" if r.error else "")
            for r in results
        ]
        up = sum(1 for r in results if r.ok)
        return ActionResult(
            preview.action, up == len(results),
            f"{up} of {len(results)} endpoint(s) up; " + "; ".join(lines),
            after={r.endpoint: {"status": r.status, "latency_ms": r.latency_ms, "ok": r.ok}
                   for r in results},
        )

    def close(self) -> None:
        self._client.close()
