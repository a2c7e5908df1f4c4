from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from luciq_tui.core.api import ApiOptimizer, percentile
from luciq_tui.core.config import EndpointConfig
from luciq_tui.core.optimizer import run_action


class _Handler(BaseHTTPRequestHandler):
    seen_headers: list[str] = []

    def do_GET(self) -> None:
        _Handler.seen_headers.append(self.headers.get("X-Token", ""))
        if self.path == "/slow":
            time.sleep(0.05)
        status = {"/fail": 503, "/redirect": 302}.get(self.path, 200)
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
    optimizer = ApiOptimizer([EndpointConfig("slow", f"{server}/slow", timeout=0.05)])
    last = optimizer.observe().endpoints[0].last
    assert last is not None and not last.ok and last.error is not None
    assert "timed out" in last.error
    optimizer.close()
