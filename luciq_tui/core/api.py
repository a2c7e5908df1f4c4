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
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luciq_tui.core.config import EndpointConfig
from luciq_tui.core.optimizer import (
    ActionRefused,
    ActionResult,
    ActionSpec,
    Optimizer,
    Preview,
    ProgressCallback,
)
from luciq_tui.core.store import Baseline, MonitoringStore

if TYPE_CHECKING:
    import httpx

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
class BurstResult:
    """A bounded burst of requests to one endpoint, and the latency distribution it gave."""

    endpoint: str
    url: str
    timestamp: float
    sent: int
    ok: int
    latencies_ms: tuple[float, ...]
    errors: tuple[str, ...]
    duration_s: float
    concurrency: int
    stopped_early: bool

    @property
    def error_rate(self) -> float:
        return (self.sent - self.ok) / self.sent if self.sent else 0.0

    def percentile(self, fraction: float) -> float | None:
        return percentile(self.latencies_ms, fraction)

    def as_baseline(self) -> Baseline:
        return Baseline(self.endpoint, self.timestamp, self.sent, self.percentile(0.5),
                        self.percentile(0.95), self.percentile(0.99), self.error_rate)

    def to_json(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint, "url": self.url, "sent": self.sent, "ok": self.ok,
            "error_rate": self.error_rate, "p50_ms": self.percentile(0.5),
            "p95_ms": self.percentile(0.95), "p99_ms": self.percentile(0.99),
            "min_ms": min(self.latencies_ms, default=None),
            "max_ms": max(self.latencies_ms, default=None),
            "duration_s": self.duration_s, "concurrency": self.concurrency,
            "stopped_early": self.stopped_early, "errors": sorted(set(self.errors)),
        }


@dataclass(frozen=True)
class BurstLimits:
    """Caps on an "analyze now" burst: small by default, bounded always."""

    count: int = 20
    concurrency: int = 2
    max_seconds: float = 10.0


def burst(client: httpx.Client, endpoint: EndpointConfig, limits: BurstLimits,
          cancel: threading.Event | None = None) -> BurstResult:
    """Send at most `limits.count` requests, `limits.concurrency` at a time, for at most
    `limits.max_seconds`; requests not started by then are not sent."""
    started = time.perf_counter()
    deadline = started + limits.max_seconds
    results: list[ProbeResult] = []
    stopped = False
    with ThreadPoolExecutor(max_workers=max(1, limits.concurrency),
                            thread_name_prefix="luciq-burst") as pool:
        running: set[Future[ProbeResult]] = set()
        submitted = 0
        while submitted < limits.count or running:
            while (submitted < limits.count and len(running) < limits.concurrency
                   and not stopped):
                if time.perf_counter() >= deadline or (cancel is not None and cancel.is_set()):
                    stopped = True
                    break
                running.add(pool.submit(probe, client, endpoint))
                submitted += 1
            if stopped and not running:
                break
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            results.extend(future.result() for future in done)
    latencies = tuple(r.latency_ms for r in results if r.ok and r.latency_ms is not None)
    return BurstResult(
        endpoint=endpoint.name, url=endpoint.url, timestamp=time.time(), sent=len(results),
        ok=sum(1 for r in results if r.ok), latencies_ms=latencies,
        errors=tuple(r.error or "" for r in results if not r.ok),
        duration_s=time.perf_counter() - started, concurrency=limits.concurrency,
        stopped_early=stopped or len(results) < limits.count,
    )


def compare(value: float | None, reference: float | None) -> str:
    """'+12%' / '-30%' against a baseline figure, or '' when either is missing."""
    if value is None or reference is None or reference <= 0:
        return ""
    return f"{(value - reference) / reference * 100:+.0f}%"


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
    baseline: Baseline | None = None
    last_burst: BurstResult | None = None

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
    import httpx

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
        limits: BurstLimits | None = None,
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.interval = interval
        self.store = store
        self.limits = limits or BurstLimits()
        self._baselines: dict[str, Baseline] = store.baselines() if store is not None else {}
        self._bursts: dict[str, BurstResult] = {}
        self._windows: dict[str, deque[ProbeResult]] = {
            endpoint.name: deque(maxlen=WINDOW) for endpoint in self.endpoints
        }
        self._lock = threading.Lock()
        self._client_: httpx.Client | None = None

    @property
    def _client(self) -> httpx.Client:
        """The HTTP client, made on first use: with no endpoint configured, httpx (and ssl)
        is never imported, which keeps the dashboard about 10 MB smaller."""
        if self._client_ is None:
            import httpx

            self._client_ = httpx.Client(follow_redirects=False, trust_env=False)
        return self._client_

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
                    baseline=self._baselines.get(endpoint.name),
                    last_burst=self._bursts.get(endpoint.name),
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

    def _endpoint(self, name: str) -> EndpointConfig:
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise ActionRefused(f"no endpoint named {name!r} is configured")

    def actions(self, snapshot: ApiSnapshot | None) -> tuple[ActionSpec, ...]:
        configured = bool(self.endpoints)
        specs = [
            ActionSpec(self.name, "probe", "Probe now", "p", "",
                       "Send one request to every configured endpoint now.",
                       available=configured,
                       reason="" if configured else "no [[endpoints]] are configured"),
        ]
        specs += [
            ActionSpec(self.name, "burst", "Analyze now", "b", endpoint.name,
                       f"Send a bounded burst to {endpoint.name} and compare with its baseline.")
            for endpoint in self.endpoints
        ]
        return tuple(specs)

    def preview(self, action: ActionSpec) -> Preview:
        if not self.endpoints:
            raise ActionRefused("no [[endpoints]] are configured")
        if action.name == "burst":
            endpoint = self._endpoint(action.target)
            limits = self.limits
            return Preview(
                action,
                f"Send up to {limits.count} requests to {endpoint.name}, "
                f"{limits.concurrency} at a time",
                (f"{endpoint.method} {endpoint.url}",
                 f"at most {limits.count} requests, {limits.concurrency} concurrent, "
                 f"stopped after {limits.max_seconds:g} s"),
                cost="adds load to the service while it runs; Esc stops sending",
                payload=(endpoint.name,),
            )
        if action.name != "probe":
            raise ActionRefused(f"unknown api action {action.name!r}")
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
        if preview.action.name == "burst":
            return self._burst(preview, progress, cancel)
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

    def _burst(self, preview: Preview, progress: ProgressCallback,
               cancel: threading.Event) -> ActionResult:
        endpoint = self._endpoint(str(preview.payload[0]))
        progress(None, f"burst to {endpoint.name}")
        result = burst(self._client, endpoint, self.limits, cancel)
        with self._lock:
            self._bursts[endpoint.name] = result
        baseline = self._baselines.get(endpoint.name)
        p50, p95 = result.percentile(0.5), result.percentile(0.95)
        summary = (f"{result.ok} of {result.sent} ok in {result.duration_s:.1f} s; "
                   f"p50 {_ms(p50)}, p95 {_ms(p95)}, p99 {_ms(result.percentile(0.99))}")
        if baseline is not None:
            summary += (f"; baseline p50 {_ms(baseline.p50_ms)} "
                        f"({compare(p50, baseline.p50_ms) or 'n/a'}), p95 "
                        f"{_ms(baseline.p95_ms)} ({compare(p95, baseline.p95_ms) or 'n/a'})")
        return ActionResult(
            preview.action, result.sent > 0 and result.error_rate == 0.0, summary,
            before={"baseline": None if baseline is None else baseline.__dict__},
            after=result.to_json(), cancelled=cancel.is_set(),
        )

    def save_baseline(self, name: str) -> Baseline:
        """Keep the endpoint's last burst (or, without one, its probe window) as baseline."""
        self._endpoint(name)
        with self._lock:
            last = self._bursts.get(name)
            window = list(self._windows[name])
        if last is not None:
            baseline = last.as_baseline()
        else:
            latencies = [r.latency_ms for r in window if r.ok and r.latency_ms is not None]
            if len(window) < 5:
                raise ActionRefused(f"{name}: fewer than 5 probes so far; run Analyze now first")
            baseline = Baseline(name, time.time(), len(window), percentile(latencies, 0.5),
                                percentile(latencies, 0.95), percentile(latencies, 0.99),
                                sum(1 for r in window if not r.ok) / len(window))
        if self.store is not None:
            self.store.save_baseline(baseline)
        with self._lock:
            self._baselines[name] = baseline
        return baseline

    def close(self) -> None:
        if self._client_ is not None:
            self._client_.close()


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"
