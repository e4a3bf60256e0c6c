"""Starting, watching and stopping the embedded stack's processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from liangdi_cli.natsserver import find_nats_server, nats_argv, wait_answers
from liangdi_cli.procs import Target, identity, spawn, stop, tail
from liangdi_cli.runfile import ProcInfo
from liangdi_cli.topology import ServiceSpec

NATS_START_TIMEOUT = 15.0


@dataclass
class Child:
    """A process this supervisor started and is the parent of."""

    info: ProcInfo
    popen: subprocess.Popen[bytes]

    @property
    def name(self) -> str:
        return self.info.name

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def target(self) -> Target:
        return Target(self.info.pid, self.info.ident, self.popen)

    def log_tail(self, lines: int = 30) -> str:
        return tail(Path(self.info.log), lines)


class StartFailed(RuntimeError):
    """A child did not become ready; carries it so the caller can show its log."""

    def __init__(self, child: Child, reason: str) -> None:
        super().__init__(f"{child.name}: {reason}")
        self.child = child
        self.reason = reason


def _child(name: str, popen: subprocess.Popen[bytes], port: int, url: str, log: Path) -> Child:
    info = ProcInfo(name, popen.pid, port, url, str(log), identity(popen.pid))
    return Child(info, popen)


def start_nats(
    port: int,
    var_dir: Path,
    *,
    detach: bool = False,
    binary: Path | None = None,
    authorization: str | None = None,
    passwords: dict[str, str] | None = None,
) -> Child:
    """Start nats-server with JetStream on 127.0.0.1:port, storing under var_dir/nats.

    With `authorization` (liangdi_cli/natsauth.py's block) clients must log in; `passwords` are
    the environment variables it references (NATS_PASSWORD_*), given to the server alone."""
    binary = binary or find_nats_server()
    store = var_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    config = None
    if authorization is not None:
        config = var_dir / "nats-server.conf"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(authorization)
    log = var_dir / "logs" / "nats.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_PASSWORD_")}
    argv = nats_argv(binary, port, store, config=config)
    popen = spawn(argv, env=env | (passwords or {}), log_path=log, detach=detach)
    child = _child("nats", popen, port, f"nats://127.0.0.1:{port}", log)
    if not wait_answers(port, NATS_START_TIMEOUT, alive=lambda: popen.poll() is None):
        code = popen.poll()
        stop_children([child])
        reason = f"exited with code {code}" if code is not None else "did not answer in time"
        raise StartFailed(child, reason)
    return child


def start_service(
    spec: ServiceSpec, *, base_port: int, var_dir: Path, env: dict[str, str], detach: bool
) -> Child:
    port = spec.port(base_port)
    argv = [sys.executable, "-m", "uvicorn", spec.module, "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    log = var_dir / "logs" / f"{spec.name}.log"
    popen = spawn(argv, env={**os.environ, **env}, log_path=log, detach=detach)
    return _child(spec.name, popen, port, f"http://127.0.0.1:{port}", log)


def stop_children(children: Sequence[Child], timeout: float = 10.0) -> list[str]:
    """Stop children together; returns the names that had to be SIGKILLed."""
    by_pid = {c.info.pid: c.name for c in children}
    return [by_pid[t.pid] for t in stop([c.target() for c in children], timeout)]


def readyz(client: httpx.Client, url: str) -> tuple[bool, str]:
    """(ready?, short description) for GET url/readyz."""
    try:
        response = client.get(f"{url}/readyz")
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    if response.status_code == 200:
        return True, "200 ready"
    if _degraded(response):  # up and answering; a read model waits for an operator
        return True, f"503 degraded: {response.json().get('reason', '')}"[:200]
    return False, f"{response.status_code} {response.text[:60]}".strip()


def _degraded(response: httpx.Response) -> bool:
    """A place whose read model halted (docs/operations.md, "Read models") still serves."""
    if response.status_code != 503:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "degraded"


def http_client() -> httpx.Client:
    # trust_env=False: a developer's HTTP(S)_PROXY must not intercept 127.0.0.1.
    return httpx.Client(timeout=1.0, trust_env=False)


def wait_ready(services: Sequence[Child], timeout: float, stop_event: threading.Event) -> bool:
    """Poll /readyz until all answer 200. False if stop_event was set; StartFailed otherwise."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    with http_client() as client:
        while pending:
            for child in list(pending):
                code = child.exit_code()
                if code is not None:
                    raise StartFailed(child, f"exited with code {code} before it was ready")
                if readyz(client, child.info.url)[0]:
                    pending.remove(child)
            if not pending:
                break
            if time.monotonic() >= deadline:
                raise StartFailed(pending[0], f"/readyz not 200 after {timeout:.0f} s")
            if stop_event.wait(0.25):
                return False
    return True
