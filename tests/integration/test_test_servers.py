"""The tests' own servers start even when the port chosen for them was taken in between.

A CI run once failed with "nats-server did not start": a port picked from the ephemeral range
can meanwhile become the local end of any outgoing connection on the machine.
"""

from __future__ import annotations

import socket
from pathlib import Path

from liangdi_cli.procs import _ephemeral_ports_start, free_port, port_free
from tests.support.backends import NatsServer


def test_free_ports_lie_below_the_ephemeral_range_and_are_free() -> None:
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= port < _ephemeral_ports_start() for port in ports)
    assert all(port_free(port) for port in ports)


def test_a_new_nats_server_whose_port_was_taken_starts_on_another(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats")
    chosen = server.port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", chosen))
        squatter.listen()
        server.start()
        try:
            assert server.port != chosen
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as conn:
                assert conn.recv(4).startswith(b"INFO")
        finally:
            server.stop()


def test_a_restart_keeps_the_port_its_clients_know(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats").start()
    port = server.port
    server.stop()
    server.start()
    try:
        assert server.port == port
    finally:
        server.stop()
