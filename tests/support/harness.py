"""Run services for tests: in-process (FastAPI TestClient, the real lifespan, real backends) or as
real uvicorn processes. Either way tests talk to them only through HTTP and bearer tokens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from fastapi.testclient import TestClient

from liangdi_cli.natsauth import service_user
from shared.config import DEV_SECRET, InflowSettings, OutflowSettings, SyncSettings
from shared.security.tokens import Role, issue_token
from tests.support.backends import ADMIN_USER, nats_password

REPO = Path(__file__).resolve().parents[2]


def token(role: Role | str, place: str = "*", secret: str = DEV_SECRET) -> str:
    return issue_token(secret, role=role, place=place, subject=f"test-{role}")


def auth(role: Role | str, place: str = "*") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, place)}"}


def service_nats(kind: str, nats_url: str, place: str | None) -> dict[str, str]:
    """The service's own NATS user in place of the test admin's credentials in `nats_url` (see
    tests/support/backends.py); any other URL is left as it is."""
    urls = [urlsplit(url.strip()) for url in nats_url.split(",")]
    if any(url.username != ADMIN_USER for url in urls):
        return {"nats_url": nats_url}
    user = service_user(kind, place)
    bare = ",".join(urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2])) for u in urls)
    return {"nats_url": bare, "nats_user": user, "nats_password": nats_password(user)}


def settings_for(
    kind: str, database_url: str, nats_url: str, place: str | None = None, **overrides: Any
) -> Any:
    given = {"database_url": database_url, "poll_interval": 0.05}
    given |= service_nats(kind, nats_url, place) | overrides
    if kind == "outflow":
        return OutflowSettings(place=place, **given)
    if kind == "inflow":
        return InflowSettings(place=place, **given)
    return SyncSettings(**given)


@contextmanager
def running(kind: str, settings: Any) -> Iterator[TestClient]:
    """The service's real ASGI app with its lifespan (event store, projector, NATS link)."""
    module = __import__(f"services.{kind}.main", fromlist=["create_app"])
    bootstrap = __import__(f"services.{kind}.bootstrap", fromlist=["bootstrap"]).bootstrap
    app = module.create_app(lambda: bootstrap(settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 20.0,
    interval: float = 0.1,
    message: str = "condition",
) -> Any:
    """Bounded retry: returns the first truthy value of `predicate`, or fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last value: {last!r}")


class ServiceProcess:
    """A service as a real uvicorn process, configured only by LIANGDI_* environment variables."""

    def __init__(self, kind: str, port: int, env: dict[str, str], log_dir: Path):
        self.kind, self.port, self.env, self.log_dir = kind, port, env, log_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> ServiceProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{self.kind}-{self.port}.log", "ab")  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIANGDI_")} | self.env
        if "LIANGDI_NATS_URL" in env and "LIANGDI_NATS_USER" not in env:
            own = service_nats(self.kind, env["LIANGDI_NATS_URL"], env.get("LIANGDI_PLACE"))
            env |= {f"LIANGDI_{name.upper()}": value for name, value in own.items()}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{self.kind}.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.kind} exited: {self.log_tail()}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, 0.2, f"{self.kind} on {self.port} to be ready")

    def log_tail(self, lines: int = 30) -> str:
        path = self.log_dir / f"{self.kind}-{self.port}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def exchange_keys(roles: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per place (`{place: "origin" | "host"}`), the settings of a keyed exchange: its own signing
    and sealing keys, every place's signing key trusted in its role, every other place's public
    sealing key (docs/security.md). Pass a place's dict as settings overrides."""
    from shared.security.sealing import generate_sealing_keypair
    from shared.security.signing import generate_keypair

    signing = {place: generate_keypair() for place in roles}
    sealing = {place: generate_sealing_keypair() for place in roles}
    trusted = ",".join(f"{roles[p]}:{p}={public}" for p, (_, public) in signing.items())
    return {
        place: {
            "signing_key": signing[place][0],
            "trusted_keys": trusted,
            "sealing_key": sealing[place][0],
            "sealing_peers": ",".join(
                f"{p}={public}" for p, (_, public) in sealing.items() if p != place
            ),
        }
        for place in roles
    }


def keyed_pair(
    stack: ExitStack,
    folder: Path,
    nats_url: str,
    keys: dict[str, dict[str, str]],
    origin: str,
    host: str,
) -> tuple[TestClient, TestClient]:
    """An origin and a host on embedded stores in `folder`, signing and sealing with `keys`
    (from `exchange_keys`), running until `stack` closes."""
    clients = []
    for kind, place, name in (("outflow", origin, "o"), ("inflow", host, "h")):
        settings = settings_for(
            kind, f"sqlite:///{folder}/{name}.db", nats_url, place, **keys[place]
        )
        clients.append(stack.enter_context(running(kind, settings)))
    return clients[0], clients[1]
