"""A three-node NATS JetStream cluster on loopback, in the shape of deploy/nats/cluster.conf:
each node its own name, client port, route port and store; every node lists every route."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.backends import (
    admin_url,
    authorization_block,
    free_port,
    nats_binary,
    provision,
    unavailable,
)

CONF = """server_name: {name}
listen: 127.0.0.1:{port}
jetstream {{
  store_dir: "{store}"
  max_memory_store: 64MB
  max_file_store: 1GB
}}
cluster {{
  name: liangdi-faults
  listen: 127.0.0.1:{route}
  routes: [
{routes}
  ]
}}
max_payload: 2MB
"""
PROVISION_TIMEOUT = 30.0


class NatsNode:
    def __init__(self, name: str, root: Path, port: int, route: int, routes: list[int]):
        self.name, self.port = name, port
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        listing = "\n".join(f"    nats-route://127.0.0.1:{r}" for r in routes)
        self.conf = self.dir / "node.conf"
        # The same users and permissions as every test nats-server (tests/support/backends.py).
        self.conf.write_text(
            CONF.format(name=name, port=port, store=self.dir / "js", route=route, routes=listing)
            + authorization_block()
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> NatsNode:
        binary = nats_binary()
        if binary is None:
            unavailable("nats-server")
        log = open(self.dir / "nats.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


class NatsCluster:
    def __init__(self, root: Path, size: int = 3):
        ports = [(free_port(), free_port()) for _ in range(size)]
        routes = [route for _, route in ports]
        self.nodes = [
            NatsNode(f"nats-{n + 1}", root, port, route, routes)
            for n, (port, route) in enumerate(ports)
        ]

    @property
    def url(self) -> str:
        """Every node, with the test admin's credentials (as `NatsServer.url`)."""
        return ",".join(admin_url("127.0.0.1", node.port) for node in self.nodes)

    def start(self) -> NatsCluster:
        """Starts the nodes, then creates the streams (replicated as LIANGDI_NATS_REPLICAS says)
        once the cluster has a JetStream meta leader."""
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + PROVISION_TIMEOUT
        while True:
            try:
                provision(admin_url("127.0.0.1", self.nodes[0].port))  # one node serves all
                return self
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
                node.process.wait(10)
            node.process = None
