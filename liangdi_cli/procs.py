"""Low-level process helpers: spawn, identify, stop, and read logs."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A foreground `liangdi up` killed with SIGKILL cannot clean up; the kernel
    # then sends SIGTERM to its children so they do not linger as orphans.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: Sequence[str], *, env: dict[str, str], log_path: Path, detach: bool
) -> subprocess.Popen[bytes]:
    """Start argv in its own session with stdout+stderr appended to log_path.

    Always a new session: Ctrl-C then reaches only the supervisor, which stops
    the services before NATS instead of everything dying at once.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    preexec: Callable[[], None] | None = None
    if not detach and sys.platform.startswith("linux"):
        preexec = _die_with_parent
    with open(log_path, "ab") as log:
        # Logs are appended across runs; a banner makes "the last lines" findable.
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"\n===== liangdi {stamp}: {' '.join(argv[-4:])} =====\n".encode())
        log.flush()
        return subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
        )


def identity(pid: int) -> str | None:
    """The process's start time (Linux /proc), so a recycled pid is not mistaken for ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19]  # field 22 of stat; fields[0] here is field 3 (state)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def is_alive(pid: int, ident: str | None = None) -> bool:
    """True if pid runs and, when ident is known, is still the process we started."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return ident is None  # exists but not ours to signal
    if _state(pid) == "Z":
        return False
    current = identity(pid)
    return ident is None or current is None or current == ident


@dataclass
class Target:
    """Something to stop: a pid we may or may not be the parent of."""

    pid: int
    ident: str | None = None
    popen: subprocess.Popen[bytes] | None = None
    group: bool = True  # our children lead their own session; a foreground shell job does not

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return is_alive(self.pid, self.ident)

    def signal(self, sig: int) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # Signal the whole group in case a service forked helpers.
            if self.group and os.getpgid(self.pid) == self.pid:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)


def stop(targets: Sequence[Target], timeout: float = 10.0) -> list[Target]:
    """SIGTERM all, wait up to timeout, SIGKILL the rest. Returns those that needed SIGKILL."""
    for target in targets:
        target.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(t.alive() for t in targets):
        time.sleep(0.1)
    killed = [t for t in targets if t.alive()]
    for target in killed:
        target.signal(signal.SIGKILL)
    for target in targets:
        if target.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                target.popen.wait(timeout=5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(t.alive() for t in killed):
        time.sleep(0.05)
    return killed


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on right now (for tests), below the kernel's ephemeral range.

    A port from that range may be taken meanwhile as the local end of any outgoing connection,
    and a server can then not bind it: a test that starts or restarts a server on a port it
    chose earlier would fail at random under load.
    """
    top = _ephemeral_ports_start()
    for _ in range(200):
        port = random.randrange(max(1024, top - 12000), top)
        if port_free(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default, also below the BSDs' and Windows' ranges


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
