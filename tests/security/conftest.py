"""The three services in-process, each with its own store, for the security tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.security.routes import HOST, ORIGIN
from tests.support.backends import NatsServer
from tests.support.harness import running, settings_for


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    """outflow 371326, inflow 310115 and sync; SQLite stores, the link switched off."""
    root: Path = tmp_path_factory.mktemp("security-services")
    server = NatsServer(root / "nats").start()
    nats_url = server.url
    configs = {
        "outflow": settings_for(
            "outflow", f"sqlite:///{root}/outflow.db", nats_url, ORIGIN, sync_enabled=False
        ),
        "inflow": settings_for(
            "inflow", f"sqlite:///{root}/inflow.db", nats_url, HOST, sync_enabled=False
        ),
        "sync": settings_for("sync", f"sqlite:///{root}/sync.db", nats_url),
    }
    with (
        running("outflow", configs["outflow"]) as outflow,
        running("inflow", configs["inflow"]) as inflow,
        running("sync", configs["sync"]) as sync,
    ):
        yield {"outflow": outflow, "inflow": inflow, "sync": sync}
    server.stop()
