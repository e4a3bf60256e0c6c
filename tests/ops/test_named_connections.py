"""Connections named (docs/operations.md, "Logs"): an operator finds a service's sessions in
`pg_stat_activity` and its NATS connections in the server's /connz by the service and place."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shared.config import LogSettings
from shared.logging import configure_logging
from tests.support.backends import NatsServer
from tests.support.harness import running, settings_for, wait_until

ORIGIN = "371326"
OWN_SESSION = "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"


def engine_session(engine: sa.Engine) -> str:
    """The application_name PostgreSQL shows for a session of the read models' engine."""
    with engine.connect() as conn:
        return conn.execute(sa.text(OWN_SESSION)).scalar_one()


def store_session(application: Any) -> str:
    """The same for a session of the event store (the eventsourcing library's own pool)."""
    with application.recorder.datastore.transaction(commit=False) as curs:
        curs.execute(OWN_SESSION)
        return curs.fetchone()["application_name"]


def sessions_named(engine: sa.Engine, name: str) -> int:
    with engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
        return conn.execute(query, {"name": name}).scalar_one()


def nats_names(server: NatsServer) -> set[str]:
    url = f"http://127.0.0.1:{server.monitor_port}/connz?limit=1000"
    return {c.get("name", "") for c in httpx.get(url).json()["connections"]}


def test_a_place_service_names_its_sessions_and_connections(
    pg_database_url: str,
    nats_server: NatsServer,
    restored_logging: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("outflow", ORIGIN, LogSettings(log_format="json"))
    settings = settings_for("outflow", pg_database_url, nats_server.url, ORIGIN)
    with running("outflow", settings) as client:
        rt = client.app.state.runtime
        wait_until(
            lambda: rt.agent.connected and rt.agent.role == "leader" and rt.antientropy.nc,
            message="the link led and the anti-entropy responder connected",
        )
        assert engine_session(rt.engine) == "liangdi-outflow-371326"
        assert store_session(rt.app) == "liangdi-outflow-371326"
        # The leader's lock session: the service's name, then the instance holding the lock.
        leader = rt.leadership.application_name
        assert leader.startswith("liangdi-outflow-371326-leader-")
        assert sessions_named(rt.engine, leader) == 1
        assert {"liangdi-outflow-371326", "liangdi-antientropy-outflow-371326"} <= nats_names(
            nats_server
        )

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    opened = [line for line in lines if line["event"].startswith("NATS connection liangdi-outf")]
    assert opened, lines
    # The agent's lines name the link besides the service and the place.
    assert (
        opened[0] | {"link": "outflow.371326", "service": "outflow", "place": ORIGIN} == (opened[0])
    )


def test_the_sync_service_names_its_sessions_and_connections(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    settings = settings_for("sync", pg_database_url, nats_server.url)
    with running("sync", settings) as client:
        rt = client.app.state.runtime
        wait_until(
            lambda: rt.observer.connected and rt.reconciliation.nc is not None,
            message="the observer and the reconciler connected",
        )
        assert engine_session(rt.engine) == "liangdi-sync"
        assert store_session(rt.reconciliation.app) == "liangdi-sync"
        assert {"liangdi-sync", "liangdi-sync-reconciler"} <= nats_names(nats_server)
