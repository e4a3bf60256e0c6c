"""Anti-entropy between real outflow and inflow services: agreement is cheap, a gap is found
(report-only changes nothing) and repaired by a re-send, after which both sides agree again.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import nats
from fastapi.testclient import TestClient

from shared.messaging.topology import EVENTS_STREAM, event_subject
from tests.support.backends import NatsServer, drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
O_AUTH, H_AUTH, ADMIN = (
    auth("origin_operator", ORIGIN),
    auth("host_operator", HOST),
    auth("sync_admin"),
)


def depart(out: TestClient, rng: random.Random) -> str:
    created = out.post("/api/v1/members", json=member_body(rng), headers=O_AUTH)
    assert created.status_code == 201, created.text
    member_id = created.json()["member_id"]
    departed = out.post(
        f"/api/v1/members/{member_id}/departures", json=departure_body(HOST, rng), headers=O_AUTH
    )
    assert departed.status_code == 201, departed.text
    return member_id


def expected_at_host(host: TestClient) -> set[str]:
    items = host.get("/api/v1/members", params={"limit": 500}, headers=H_AUTH).json()["items"]
    return {item["origin_member_id"] for item in items}


def run(sync: TestClient, mode: str) -> dict[str, Any]:
    response = sync.post("/admin/antientropy/runs", json={"mode": mode}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def agreed_on_the_link(sync: TestClient) -> dict[str, Any] | None:
    """A report run that agrees and covers the origin → host link: a run made before the
    exchange has seen both places agrees vacuously, with no link at all (a CI run read that)."""
    result = run(sync, "report")
    links = [
        x
        for x in result["links"]
        if (x["direction"], x["from_place"], x["to_place"]) == ("o2h", ORIGIN, HOST)
    ]
    return result if result["agreed"] and links else None


def o2h_link(result: dict[str, Any]) -> dict[str, Any]:
    [link] = [
        x
        for x in result["links"]
        if (x["direction"], x["from_place"], x["to_place"]) == ("o2h", ORIGIN, HOST)
    ]
    return link


def lose_in_transit(nats_url: str, member_id: str) -> None:
    """The published fact vanishes from the stream before the host read it (e.g. a lost store)."""

    async def purge() -> None:
        nc = await nats.connect(nats_url)
        await nc.jetstream().purge_stream(
            EVENTS_STREAM, subject=event_subject("o2h", ORIGIN, HOST, member_id)
        )
        await nc.close()

    asyncio.run(purge())


def test_antientropy_agrees_then_finds_and_repairs_a_gap(
    postgres_url: str, pg_database_url: str, nats_server: NatsServer
) -> None:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    url = nats_server.url
    sync_settings = settings_for("sync", pg_database_url, url)
    origin = settings_for("outflow", f"{base}?schema={schema}_o", url, ORIGIN)
    host = settings_for("inflow", f"{base}?schema={schema}_h", url, HOST)
    rng = random.Random(11)
    try:
        with running("sync", sync_settings) as sync, running("outflow", origin) as out:
            with running("inflow", host) as inflow:
                first = depart(out, rng)
                wait_until(lambda: expected_at_host(inflow) == {first}, message="first arrival")
                agreed = wait_until(lambda: agreed_on_the_link(sync), message="both sides agree")
                link = o2h_link(agreed)
                assert (link["streams_sent"], link["streams_applied"]) == (1, 1)
                assert link["buckets_differing"] == 0 and link["missing"] == []

            # The host is down; a departure is published and then lost before it arrives.
            lost = depart(out, rng)
            wait_until(
                lambda: (
                    sync.get("/admin/reconciliation", headers=ADMIN).json()["assessments"]["total"]
                    == 2
                ),
                message="the fact was on the stream",
            )
            lose_in_transit(url, lost)

            with running("inflow", host) as inflow:
                third = depart(out, rng)
                wait_until(
                    lambda: expected_at_host(inflow) == {first, third}, message="later arrival"
                )
                report = run(sync, "report")
                link = o2h_link(report)
                assert not report["agreed"] and not link["agreed"]
                assert [(g["stream"], g["receiver_seq"]) for g in link["missing"]] == [(lost, 0)]
                assert link["missing"][0]["sender_seq"] >= 2 and link["resent"] == 0
                assert expected_at_host(inflow) == {first, third}  # report-only repairs nothing
                latest = sync.get("/admin/antientropy/runs/latest", headers=auth("auditor"))
                assert latest.json()["run_id"] == report["run_id"]
                assert "resident_id" not in str(report) and "phone" not in str(report)

                repaired = run(sync, "repair")
                assert o2h_link(repaired)["resent"] == 1
                wait_until(
                    lambda: expected_at_host(inflow) == {first, lost, third},
                    message="the lost departure re-sent and applied",
                )
                after = wait_until(
                    lambda: (r := run(sync, "report"))["agreed"] and r,
                    message="agreement after repair",
                )
                assert o2h_link(after)["streams_applied"] == 3
                assert (
                    sync.post(
                        "/admin/antientropy/runs", json={"mode": "repair"}, headers=auth("auditor")
                    ).status_code
                    == 403
                )
    finally:
        for suffix in ("_o", "_h"):
            drop_schema(postgres_url, schema + suffix)
