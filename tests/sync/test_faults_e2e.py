"""Faults through the real services: a host down for a while catches up by itself (and the
operators' links view shows the lag rising and falling); the origin's relay leader is killed and
its standby, on the same PostgreSQL schema, publishes the rest without doubles."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import httpx

from tests.support.backends import free_port
from tests.support.harness import ServiceProcess, auth, running, settings_for, wait_until
from tests.sync.e2e import ORIGIN, depart, host_auth, metric, total

HOST = "310115"


def test_host_down_catches_up_and_links_show_lag(schema_url, nats_server) -> None:
    url = nats_server.url
    origin = settings_for("outflow", schema_url("o"), url, ORIGIN)
    host = settings_for("inflow", schema_url("h"), url, HOST)
    rng = random.Random(5)
    with (
        running("outflow", origin) as out,
        running("sync", settings_for("sync", schema_url("s"), url)) as sync,
    ):

        def link() -> dict:
            links = sync.get("/admin/links", headers=auth("auditor")).json()["links"]
            return next((x for x in links if x["direction"] == "o2h"), {})

        with running("inflow", host) as inflow:
            for _ in range(5):
                depart(out, HOST, rng)
            wait_until(lambda: total(inflow, host_auth(HOST)) == 5, message="first arrivals")
            wait_until(lambda: link().get("applied") == 5, message="link seen by the exchange")
        # The host is down; the origin keeps accepting departures.
        lags = []
        for batch in range(3):
            for _ in range(10):
                depart(out, HOST, rng)
            lags.append(
                wait_until(
                    lambda n=batch: (
                        link().get("lag_messages", 0) >= 10 * (n + 1) and link()["lag_messages"]
                    ),
                    message="lag rising while the host is down",
                )
            )
        assert lags == sorted(lags) and lags[-1] >= 30
        assert link()["lag_seconds"] >= 0
        down = wait_until(lambda: link()["state"] == "unknown" and link(), message="host down")
        assert f"no status from inflow {HOST}" in down["state_reason"]
        with running("inflow", host) as inflow:
            wait_until(
                lambda: total(inflow, host_auth(HOST)) == 35, timeout=30, message="caught up"
            )
            view = wait_until(
                lambda: (
                    link().get("lag_messages") == 0
                    and link()["state"] == "running"
                    and link()["applied"] == 35  # cumulative: the host's restart loses no count
                    and link()["in_stream"] == 35
                    and link()
                ),
                timeout=20,
                message="lag back to zero",
            )
            assert view["last_applied_position"] > 0
            text = inflow.get("/metrics").text
            assert metric(text, "liangdi_received_dead_lettered_total") == 0


def test_relay_failover_between_two_origin_processes(schema_url, nats_server, tmp_path: Path):
    database = schema_url("o")
    env = {
        "LIANGDI_PLACE": ORIGIN,
        "LIANGDI_DATABASE_URL": database,
        "LIANGDI_NATS_URL": nats_server.url,
        "LIANGDI_POLL_INTERVAL": "0.05",
    }
    first = ServiceProcess("outflow", free_port(), env, tmp_path / "logs").start()
    wait_until(lambda: role(first) == "leader", message="first instance leads")
    second = ServiceProcess("outflow", free_port(), env, tmp_path / "logs").start()
    rng = random.Random(7)
    try:
        assert role(second) == "standby"
        with (
            running(
                "inflow", settings_for("inflow", schema_url("h"), nats_server.url, HOST)
            ) as inflow,
            httpx.Client(base_url=second.url, timeout=10) as standby,
        ):
            for _ in range(30):
                depart(standby, HOST, rng)  # written at the standby, published by the leader
            wait_until(lambda: total(inflow, host_auth(HOST)) >= 10, message="flowing")
            assert first.process is not None
            first.process.send_signal(signal.SIGKILL)  # no goodbye: the lock's session just ends
            first.process.wait(10)
            for _ in range(30):
                depart(standby, HOST, rng)
            wait_until(lambda: role(second) == "leader", timeout=20, message="standby takes over")
            wait_until(lambda: total(inflow, host_auth(HOST)) == 60, timeout=30, message="all 60")
            text = inflow.get("/metrics").text
            assert metric(text, "liangdi_received_applied_total") == 60
            assert metric(text, "liangdi_received_dead_lettered_total") == 0
            published = metric(
                httpx.get(f"{second.url}/metrics").text, "liangdi_relay_published_total"
            )
            assert published > 0
    finally:
        first.stop(kill=True)
        second.stop()


def role(service: ServiceProcess) -> str:
    try:
        return httpx.get(f"{service.url}/readyz", timeout=2).json().get("link", "")
    except httpx.HTTPError:
        return ""
