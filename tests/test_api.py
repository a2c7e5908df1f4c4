from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from luciq_tui.core.api import ApiOptimizer, BurstLimits, burst, compare, percentile
from luciq_tui.core.config import EndpointConfig
from luciq_tui.core.optimizer import ActionRefused, run_action
from luciq_tui.core.store import MonitoringStore


class _Handler(BaseHTTPRequestHandler):
    """Known answers: /slow and /delay/MS wait, /fail is 503, /redirect is 302,
    /every-fourth-fails fails each fourth request. Counts what it serves."""

    seen_headers: list[str] = []
    in_flight = 0
    most_in_flight = 0
    count = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with _Handler.lock:
            _Handler.in_flight += 1
            _Handler.count += 1
            _Handler.most_in_flight = max(_Handler.most_in_flight, _Handler.in_flight)
            nth = _Handler.count
        try:
            self._answer(nth)
        finally:
            with _Handler.lock:
                _Handler.in_flight -= 1

    def _answer(self, nth: int) -> None:
        _Handler.seen_headers.append(self.headers.get("X-Token", ""))
        path = self.path
        if path == "/slow":
            time.sleep(0.05)
        if path.startswith("/delay/"):
            time.sleep(int(path.rsplit("/", 1)[1]) / 1000)
        if path == "/every-fourth-fails" and nth % 4 == 0:
            path = "/fail"
        status = {"/fail": 503, "/redirect": 302}.get(path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://example.invalid/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.in_flight = _Handler.most_in_flight = _Handler.count = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_percentiles_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) is None


def test_probes_status_latency_errors_and_down(server: str) -> None:
    endpoints = [
        EndpointConfig("ok", f"{server}/ok", headers={"X-Token": "s3cret"}),
        EndpointConfig("slow", f"{server}/slow"),
        EndpointConfig("fail", f"{server}/fail"),
        EndpointConfig("redirect", f"{server}/redirect"),
        EndpointConfig("refused", f"http://127.0.0.1:{_free_port()}/", timeout=0.5),
    ]
    optimizer = ApiOptimizer(endpoints)
    for _ in range(3):
        snapshot = optimizer.observe()
    by_name = {status.name: status for status in snapshot.endpoints}
    assert by_name["ok"].up and by_name["ok"].last is not None
    assert by_name["ok"].last.status == 200 and by_name["ok"].samples == 3
    assert by_name["slow"].p50_ms is not None and by_name["slow"].p50_ms >= 50
    assert not by_name["fail"].up and by_name["fail"].error_rate == 1.0
    assert by_name["fail"].last is not None and by_name["fail"].last.status == 503
    # Redirects are not followed off the configured URL: a 302 is reported as it is.
    assert by_name["redirect"].last is not None and by_name["redirect"].last.status == 302
    refused = by_name["refused"].last
    assert refused is not None and not refused.ok and refused.error == "connection refused"
    metrics = optimizer.metrics(snapshot)
    assert metrics["api.ok.up"] == 1.0 and metrics["api.refused.up"] == 0.0
    assert "s3cret" in _Handler.seen_headers  # the header is sent…
    preview = optimizer.preview(optimizer.actions(None)[0])
    assert "s3cret" not in "\n".join(preview.details)  # …but never shown
    assert "X-Token" in "\n".join(preview.details)
    optimizer.close()


def test_probe_now_action(server: str) -> None:
    optimizer = ApiOptimizer([EndpointConfig("ok", f"{server}/ok")])
    result = run_action(optimizer, optimizer.preview(optimizer.actions(None)[0]),
                        read_only=False)
    assert result.ok and "1 of 1 endpoint(s) up" in result.summary
    assert optimizer.status().endpoints[0].samples == 1
    optimizer.close()


def test_timeout_is_down_with_the_reason(server: str) -> None:
    optimizer = ApiOptimizer([EndpointConfig("slow", f"{server}/delay/500", timeout=0.05)])
    last = optimizer.observe().endpoints[0].last
    assert last is not None and not last.ok and last.error is not None
    assert "timed out" in last.error
    optimizer.close()


def test_burst_honours_count_and_concurrency(server: str) -> None:
    endpoint = EndpointConfig("d", f"{server}/delay/30")
    with httpx.Client() as client:
        result = burst(client, endpoint, BurstLimits(count=12, concurrency=3, max_seconds=30))
    assert result.sent == 12 and result.ok == 12 and not result.stopped_early
    assert _Handler.most_in_flight <= 3
    assert _Handler.most_in_flight >= 2  # it did run requests side by side
    assert all(latency >= 30 for latency in result.latencies_ms)
    p50 = result.percentile(0.5)
    assert p50 is not None and 30 <= p50 < 1000


def test_burst_stops_at_its_time_cap(server: str) -> None:
    endpoint = EndpointConfig("d", f"{server}/delay/100")
    with httpx.Client() as client:
        result = burst(client, endpoint, BurstLimits(count=500, concurrency=1, max_seconds=0.35))
    assert result.stopped_early and 1 <= result.sent < 10
    assert _Handler.count == result.sent  # nothing was sent that was not counted


def test_burst_error_rate(server: str) -> None:
    endpoint = EndpointConfig("f", f"{server}/every-fourth-fails")
    with httpx.Client() as client:
        result = burst(client, endpoint, BurstLimits(count=8, concurrency=1, max_seconds=30))
    assert result.sent == 8 and result.ok == 6 and result.error_rate == 0.25
    assert set(result.errors) == {"status 503, expected 200"}


def test_baseline_saved_in_the_store_and_compared(server: str, tmp_path: Path) -> None:
    store = MonitoringStore(tmp_path / "monitoring.db")
    endpoints = [EndpointConfig("d", f"{server}/delay/20")]
    optimizer = ApiOptimizer(endpoints, store=store, limits=BurstLimits(6, 2, 30))
    with pytest.raises(ActionRefused, match="fewer than 5"):
        optimizer.save_baseline("d")
    spec = next(s for s in optimizer.actions(None) if s.name == "burst")
    first = run_action(optimizer, optimizer.preview(spec), read_only=False)
    assert first.ok and "baseline" not in first.summary
    baseline = optimizer.save_baseline("d")
    assert baseline.samples == 6 and baseline.p50_ms is not None
    optimizer.close()
    # A new optimizer (a restart) finds the baseline in the store and compares with it.
    again = ApiOptimizer(endpoints, store=store, limits=BurstLimits(6, 2, 30))
    assert again.status().endpoints[0].baseline == baseline
    second = run_action(again, again.preview(spec), read_only=False)
    assert "baseline p50" in second.summary and "%" in second.summary
    assert again.status().endpoints[0].last_burst is not None
    again.close()
    store.close()


def test_compare() -> None:
    assert compare(150.0, 100.0) == "+50%"
    assert compare(50.0, 100.0) == "-50%"
    assert compare(None, 100.0) == "" and compare(1.0, None) == ""


def test_probe_cli_json(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from luciq_tui.cli import main

    code = main(["probe", f"{server}/delay/10", f"{server}/fail", "--count", "4",
                 "--concurrency", "2", "--json"])
    assert code == 1  # one URL failed
    report = json.loads(capsys.readouterr().out)
    ok, failing = report["results"]
    assert ok["sent"] == 4 and ok["ok"] == 4 and ok["p50_ms"] >= 10 and ok["error_rate"] == 0
    assert failing["ok"] == 0 and failing["errors"] == ["status 503, expected 200"]
    assert main(["probe", f"{server}/ok", "--count", "2"]) == 0
    assert main(["probe", f"{server}/ok", "--count", "5000"]) == 2
    assert main(["probe", "ftp://example.invalid/"]) == 2
