"""The supervisor against a real nats-server, on free ports (never 4222)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import nats
import pytest
from rich.console import Console
from typer.testing import CliRunner

from liangdi_cli import runfile, stack
from liangdi_cli.main import app
from liangdi_cli.natsserver import NatsServerNotFound, answers, find_nats_server
from liangdi_cli.procs import free_port, is_alive, port_free
from liangdi_cli.supervisor import http_client, readyz, start_nats, stop_children
from liangdi_cli.topology import ServiceSpec, from_file, nats_port
from tests.support.backends import unavailable

pytestmark = pytest.mark.nats

STUB_APP = textwrap.dedent(
    """
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    """
)


@pytest.fixture
def nats_binary() -> Path:
    try:
        return find_nats_server()
    except NatsServerNotFound as exc:
        unavailable(str(exc))  # fails, never skips, when CI is set
        raise


def _free_base_port(width: int) -> int:
    """A base port with base..base+width-1 and its NATS port all free."""
    for _ in range(50):
        base = free_port()
        try:
            ports = [base + i for i in range(width)] + [nats_port(base)]
        except ValueError:
            continue
        if max(ports) <= 65535 and all(port_free(p) for p in ports):
            return base
    raise RuntimeError("no free port range found")


async def test_start_nats_serves_jetstream_then_stops(tmp_path: Path, nats_binary: Path) -> None:
    port = free_port()
    assert port != 4222
    child = start_nats(port, tmp_path, binary=nats_binary)
    try:
        nc = await nats.connect(
            f"nats://127.0.0.1:{port}", connect_timeout=5, max_reconnect_attempts=0
        )
        try:
            js = nc.jetstream()
            await js.account_info()
            await js.add_stream(name="PROBE", subjects=["probe.>"])
            ack = await js.publish("probe.one", b"hello")
            assert ack.stream == "PROBE"
        finally:
            await nc.close()
    finally:
        killed = stop_children([child])
    assert killed == [], "nats-server needed SIGKILL"
    assert child.exit_code() is not None
    assert not is_alive(child.info.pid, child.info.ident)
    assert not answers(port)
    # JetStream stored under the var dir we gave, not somewhere global.
    assert any((tmp_path / "nats").rglob("*")), "no JetStream data under var/nats"


def test_up_detached_status_and_down(
    tmp_path: Path, nats_binary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stubapp.py").write_text(STUB_APP)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    topology = (
        ServiceSpec("sync", None, 0, app="stubapp:app"),
        ServiceSpec("outflow", "371326", 1, app="stubapp:app"),
    )
    base = _free_base_port(2)
    var_dir = tmp_path / "var"
    console = Console(record=True, width=200)
    try:
        code = stack.up(var_dir, base, detach=True, timeout=30, console=console, topology=topology)
        assert code == 0, console.export_text()
        info = runfile.read(var_dir)
        assert info is not None
        assert [s.port for s in info.services] == [base, base + 1]
        assert info.nats.port == nats_port(base) != 4222
        assert all(p.alive() for p in info.everything())
        secrets = json.loads((var_dir / "dev-secrets.json").read_text())
        assert set(secrets["keys"]) == {"371326"}
        assert (var_dir / "dev-secrets.json").stat().st_mode & 0o077 == 0
        # A second `up` on the same var dir must refuse, not start twins.
        assert stack.up(var_dir, base, detach=True, timeout=5, console=console) == 1
    finally:
        assert stack.down(var_dir, timeout=10, console=console) == 0
    assert not runfile.path(var_dir).exists()
    assert not any(p.alive() for p in info.everything())
    assert stack.down(var_dir, timeout=10, console=console) == 0  # idempotent


def _proc(var_dir: Path, name: str) -> runfile.ProcInfo | None:
    info = runfile.read(var_dir)
    if info is None:
        return None
    return next((p for p in (info.nats, *info.services) if p.name == name), None)


def _back(var_dir: Path, name: str, old_pid: int, timeout: float = 60.0) -> runfile.ProcInfo:
    """Waits until `name` runs again under a new pid (and, for a service, answers /readyz)."""
    deadline = time.monotonic() + timeout
    with http_client() as client:
        while time.monotonic() < deadline:
            proc = _proc(var_dir, name)
            if proc is not None and proc.pid != old_pid and proc.alive():
                if name == "nats" and answers(proc.port):
                    return proc
                if name != "nats" and readyz(client, proc.url)[0]:
                    return proc
            time.sleep(0.25)
    raise AssertionError(f"{name} did not come back within {timeout} s: {_proc(var_dir, name)}")


def test_a_stack_keeps_itself_up(tmp_path: Path, nats_binary: Path) -> None:
    """Real services on the embedded SQLite default, their own nats-server on a free port: what
    dies is started again and counted; `restart` and `rebuild` act on the running stack."""
    topology_file = tmp_path / "topology.toml"
    topology_file.write_text('[[places]]\ncode = "310115"\nname = "浦东新区"\nroles = ["host"]\n')
    topology = from_file(topology_file)
    assert [s.name for s in topology] == ["sync", "inflow-310115"]
    base = _free_base_port(len(topology))
    var_dir = tmp_path / "var"
    console = Console(record=True, width=200)
    cli = CliRunner()
    try:
        code = stack.up(var_dir, base, detach=True, timeout=90, console=console, topology=topology)
        assert code == 0, console.export_text()
        info = runfile.read(var_dir)
        assert info is not None and info.supervisor is not None and info.supervisor.alive()
        # The services trust each other through the file `up` wrote, not a variable.
        assert "310115" in (var_dir / "topology.toml").read_text()

        # 1. A service killed outright comes back by itself, and status counts it.
        host = _proc(var_dir, "inflow-310115")
        os.kill(host.pid, signal.SIGKILL)
        again = _back(var_dir, "inflow-310115", host.pid)
        assert (again.restarts, again.last_exit) == (1, -signal.SIGKILL)
        shown = cli.invoke(app, ["status", "--var-dir", str(var_dir)], terminal_width=200)
        assert shown.exit_code == 0, shown.output
        row = next(line for line in shown.output.splitlines() if "inflow-310115" in line)
        assert "1 (exit -9)" in row, shown.output
        sync_row = next(line for line in shown.output.splitlines() if "│ sync" in line)
        assert "│ 0 " in sync_row, shown.output

        # 2. NATS too: the same port, the same store.
        nats = _proc(var_dir, "nats")
        os.kill(nats.pid, signal.SIGKILL)
        nats_again = _back(var_dir, "nats", nats.pid)
        assert (nats_again.port, nats_again.restarts) == (nats.port, 1)

        def reconnected() -> bool:
            with http_client() as client:
                body = client.get(f"{again.url}/readyz").json()
            return body.get("nats") == "connected"

        deadline = time.monotonic() + 30
        while not reconnected():  # the service found the restarted NATS by itself
            assert time.monotonic() < deadline, "inflow did not reconnect to the restarted NATS"
            time.sleep(0.25)

        # 3. `liangdi restart` asks the supervisor: at once, no backoff.
        sync = _proc(var_dir, "sync")
        asked = cli.invoke(app, ["restart", "sync", "--var-dir", str(var_dir)])
        assert asked.exit_code == 0, asked.output
        assert _back(var_dir, "sync", sync.pid).restarts == 1
        unknown = cli.invoke(app, ["restart", "outflow-999999", "--var-dir", str(var_dir)])
        assert unknown.exit_code == 1 and "inflow-310115" in unknown.output

        # 4. `liangdi rebuild` over the admin API: dropped, recreated, caught up.
        rebuilt = cli.invoke(
            app, ["rebuild", "inflow-310115", "-m", "members", "--var-dir", str(var_dir)]
        )
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "members: rebuilt" in rebuilt.output
    finally:
        assert stack.down(var_dir, timeout=10, console=console) == 0
    assert runfile.read(var_dir) is None
    everything = [*info.everything(), again, nats_again]
    assert not any(p.alive() for p in everything)
