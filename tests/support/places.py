"""Real places for end-to-end tests: each service in-process with its real lifespan, on its own
PostgreSQL schema, all on one nats-server; and the steps every flow starts with."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from fastapi.testclient import TestClient

from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN = "371326"


@contextmanager
def real_places(
    postgres_url: str, pg_database_url: str, nats_url: str, **places: tuple[str, str | None]
) -> Iterator[dict[str, TestClient]]:
    """`name=(kind, place)` for each service, e.g. `out=("outflow", "371326")`; the schemas are
    dropped afterwards."""
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    try:
        with ExitStack() as stack:
            clients = {
                name: stack.enter_context(
                    running(
                        kind,
                        settings_for(kind, f"{base}?schema={schema}_{name}", nats_url, place),
                    )
                )
                for name, (kind, place) in places.items()
            }
            yield clients
    finally:
        for name in places:
            drop_schema(postgres_url, f"{schema}_{name}")


def register_and_depart(
    out: TestClient, host: str, rng: random.Random, departed_on: str = "2026-03-01"
) -> tuple[str, str]:
    """A member registered at the origin and departed to `host`: (member id, certificate no)."""
    origin_op = auth("origin_operator", ORIGIN)
    member = out.post("/api/v1/members", json=member_body(rng), headers=origin_op)
    assert member.status_code == 201, member.text
    member_id = member.json()["member_id"]
    departed = out.post(
        f"/api/v1/members/{member_id}/departures",
        json={**departure_body(host, rng), "departed_on": departed_on},
        headers=origin_op,
    )
    assert departed.status_code == 201, departed.text
    return member_id, departed.json()["certificate_no"]


def host_record(inn: TestClient, host: str, member_id: str, status: str | None = None) -> Any:
    """The host's record of the origin's member, once it is there (and in `status`)."""
    headers = auth("host_operator", host)

    def found() -> Any:
        r = inn.get(f"/api/v1/members/{member_id}", headers=headers)
        return (
            r.status_code == 200 and (status is None or r.json()["status"] == status) and r.json()
        )

    return wait_until(
        found, message=f"member {member_id} at {host}" + (f" {status}" if status else "")
    )


def report(inn: TestClient, host: str, member_id: str, certificate_no: str, on: str) -> str:
    """The member reports (报到) at the host with the certificate: the host's record id."""
    record = host_record(inn, host, member_id, "expected")
    done = inn.post(
        f"/api/v1/members/{record['member_id']}/report",
        json={"certificate_no": certificate_no, "reported_on": on},
        headers=auth("host_operator", host),
    )
    assert done.status_code == 204, done.text
    return str(record["member_id"])
