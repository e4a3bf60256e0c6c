"""The supervisor against a real nats-server, on free ports (never 4222)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nats
import pytest
from rich.console import Console

from liangdi_cli import runfile, stack
from liangdi_cli.natsserver import NatsServerNotFound, answers, find_nats_server
from liangdi_cli.procs import free_port, is_alive, port_free
from liangdi_cli.supervisor import start_nats, stop_children
from liangdi_cli.topology import ServiceSpec, nats_port
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
