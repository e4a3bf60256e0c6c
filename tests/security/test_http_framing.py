"""What the service's HTTP server (uvicorn, as `liangdi up` runs it) does with framing no client
should send: a request head is bounded, so a client streaming a header without end is refused
instead of growing the process by what it sends; ambiguous or malformed framing is a 400 (a
length beside chunked framing is not: the chunks win, RFC 9112 section 6.3); and a client that
hangs up on pipelined requests leaves no error behind. An HTTP parser without a head bound
(httptools, which uvicorn prefers when it is installed) took a 100 MB header here and grew the
process by as much; uvloop logged an error for each response to a client gone
(docs/performance.md, "Seventh pass")."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.support.backends import free_port
from tests.support.harness import ServiceProcess

ORIGIN = "371326"


@pytest.fixture
def service(pg_database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "LIANGDI_PLACE": ORIGIN,
        "LIANGDI_DATABASE_URL": pg_database_url,
        "LIANGDI_SYNC_ENABLED": "false",
    }
    running = ServiceProcess("outflow", free_port(), env, tmp_path).start()
    yield running
    running.stop()


def _resident_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        >> 10
    )


def _first_line(port: int, *parts: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        try:
            for part in parts:
                conn.sendall(part)
        except OSError:  # refused mid-way: the server closed the connection
            pass
        try:
            return conn.recv(200).split(b"\r\n")[0]
        except OSError:
            return b""


def test_a_request_head_without_end_is_refused_not_held(service: ServiceProcess) -> None:
    before = _resident_mb(service.process.pid)
    megabyte = b"a" * (1 << 20)
    answer = _first_line(
        service.port, b"GET /readyz HTTP/1.1\r\nHost: a\r\nX-Big: ", *[megabyte] * 64, b"\r\n\r\n"
    )
    assert answer in (
        b"",
        b"HTTP/1.1 400 Bad Request",
        b"HTTP/1.1 431 Request Header Fields Too Large",
    )
    grown = _resident_mb(service.process.pid) - before
    assert grown < 16, f"the process grew by {grown} MB holding a 64 MB header"
    assert httpx.get(f"{service.url}/readyz").status_code == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /api/v1/members HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
        b"Content-Length: 10\r\n\r\nabc",
        b"POST /api/v1/members HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
        b"GET /readyz HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n",
    ],
    ids=["two-lengths", "negative-length", "nul-in-header"],
)
def test_ambiguous_framing_is_a_400(service: ServiceProcess, request_bytes: bytes) -> None:
    assert _first_line(service.port, request_bytes) == b"HTTP/1.1 400 Bad Request"


def test_a_client_hanging_up_on_pipelined_requests_leaves_no_error(
    service: ServiceProcess, tmp_path: Path
) -> None:
    pipelined = b"GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n" * 50
    assert _first_line(service.port, pipelined) == b"HTTP/1.1 200 OK"
    assert httpx.get(f"{service.url}/readyz").status_code == 200
    service.stop()
    log = (tmp_path / f"outflow-{service.port}.log").read_text()
    assert '"level": "error"' not in log, log[-3000:]
