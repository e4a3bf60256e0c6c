"""The places of a fault run as real processes: an origin (outflow), a host (inflow) and the
operators' sync service, each a uvicorn process on its own PostgreSQL schema, over real NATS."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg

from tests.support.backends import free_port
from tests.support.harness import ServiceProcess, auth, service_nats

ORIGIN, HOST = "371326", "310115"
BUSY_RETRIES = 15
HEADERS = {
    "origin": auth("origin_operator", ORIGIN),
    "host": auth("host_operator", HOST),
    "sync": auth("sync_admin"),
}


class Exchange:
    """One origin, one host and the sync service; any of them may be killed and restarted."""

    def __init__(
        self, postgres_url: str, nats_url: str, logs: Path, sqlite: bool = False, **env: str
    ):
        # `sqlite`: the embedded default of `liangdi up`, a SQLite file per place, instead.
        self.sqlite_dir = logs.parent / "stores" if sqlite else None
        self.base = postgres_url.split("?")[0]
        self.tag = f"flt_{uuid.uuid4().hex[:10]}"
        self.nats_url = nats_url
        common = {"LIANGDI_POLL_INTERVAL": "0.05"} | env

        def place(kind: str, suffix: str, code: str | None) -> ServiceProcess:
            # Each service logs in to NATS as its own user, with the permissions of its place.
            nats = service_nats(kind, nats_url, code)
            access = {f"LIANGDI_{key.upper()}": value for key, value in nats.items()}
            located = {"LIANGDI_PLACE": code} if code else {}
            return ServiceProcess(
                kind, free_port(), common | access | self._db(suffix) | located, logs
            )

        self.places = {
            "origin": place("outflow", "o", ORIGIN),
            "host": place("inflow", "h", HOST),
            "sync": place("sync", "s", None),
        }
        self.clients = {
            name: httpx.Client(base_url=place.url, headers=HEADERS[name], timeout=8.0)
            for name, place in self.places.items()
        }

    def _db(self, suffix: str) -> dict[str, str]:
        return {"LIANGDI_DATABASE_URL": self.url(suffix)}

    def url(self, suffix: str) -> str:
        if self.sqlite_dir is not None:
            return f"sqlite:///{self.sqlite_dir / suffix}.db"
        return f"{self.base}?schema={self.tag}_{suffix}"

    @property
    def origin_db(self) -> str:
        return self.url("o")

    @property
    def host_db(self) -> str:
        return self.url("h")

    def start(self, *names: str) -> Exchange:
        """Starts the named places (all by default) side by side, then waits for each."""
        names = names or tuple(self.places)
        for name in names:
            self.places[name].start(wait=False)
        for name in names:
            self._ready(name)
        return self

    def _ready(self, name: str) -> None:
        place = self.places[name]
        for _ in range(BUSY_RETRIES):
            try:
                place.wait_ready(60)
                return
            except AssertionError as exc:
                # The PostgreSQL server is shared with other test runs: at its connection limit a
                # start fails for a reason that is not the place's. Anything else is a finding.
                if "too many clients" not in str(exc):
                    raise
            time.sleep(2)
            place.start(wait=False)
        place.wait_ready(60)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook runs, in-flight work is simply gone."""
        process = self.places[name].process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        self.places[name].process = None

    def pids(self, name: str) -> int | None:
        process = self.places[name].process
        return process.pid if process is not None else None

    def stopped(self) -> list[str]:
        """Places that exited, or no longer answer /readyz with 200 within a few seconds."""
        out = []
        for name, place in self.places.items():
            if place.process is None or place.process.poll() is not None:
                out.append(f"{name}: exited")
                continue
            deadline, status = time.monotonic() + 15, 0
            while time.monotonic() < deadline:
                try:
                    status = httpx.get(f"{place.url}/readyz", timeout=2).status_code
                except httpx.HTTPError:
                    status = 0
                if status == 200:
                    break
                time.sleep(0.3)
            if status != 200:
                out.append(f"{name}: /readyz {status}")
        return out

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        for place in self.places.values():
            place.stop()
        if self.sqlite_dir is not None:
            return
        with connect(self.base) as conn:
            for suffix in "ohs":
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.tag}_{suffix}" CASCADE')


def connect(base_url: str, patience: float = 60.0) -> psycopg.Connection:
    """A connection to the shared PostgreSQL server, waiting out its connection limit."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return psycopg.connect(base_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def backend_pids(base_url: str, process_pid: int) -> list[int]:
    """PostgreSQL backends serving one OS process: its sockets' local ports matched with
    `pg_stat_activity.client_port` (two instances of one place share an application_name)."""
    inodes = set()
    fd_dir = Path(f"/proc/{process_pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports, pg_port = set(), urlparse(base_url).port or 5432
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{process_pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[9] in inodes and remote_port == pg_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    if not ports:
        return []
    with connect(base_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)", (list(ports),)
        ).fetchall()
    return [row[0] for row in rows]


def terminate_backends(base_url: str, process_pid: int) -> int:
    """`pg_terminate_backend` on every session of that process; how many were cut."""
    pids = backend_pids(base_url, process_pid)
    with connect(base_url) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return len(pids)
