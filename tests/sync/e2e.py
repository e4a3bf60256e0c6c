"""Helpers of the end-to-end sync tests: driving the outflow and inflow services over HTTP."""

from __future__ import annotations

import random
import re
from typing import Any

from tests.support.factories import departure_body, member_body
from tests.support.harness import auth

ORIGIN = "371326"
O_AUTH = auth("origin_operator", ORIGIN)


def host_auth(place: str) -> dict[str, str]:
    return auth("host_operator", place)


def depart(client: Any, host: str, rng: random.Random) -> str:
    created = client.post("/api/v1/members", json=member_body(rng), headers=O_AUTH)
    assert created.status_code == 201, created.text
    member_id = created.json()["member_id"]
    departed = client.post(
        f"/api/v1/members/{member_id}/departures", json=departure_body(host, rng), headers=O_AUTH
    )
    assert departed.status_code == 201, departed.text
    return member_id


def items(client: Any, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get(
            "/api/v1/members", params={**params, "offset": len(out), "limit": 500}, headers=headers
        ).json()
        out += page["items"]
        if len(out) >= page["total"] or not page["items"]:
            return out


def total(client: Any, headers: dict[str, str], **params: Any) -> int:
    page = client.get("/api/v1/members", params={**params, "limit": 1}, headers=headers).json()
    return int(page["total"])


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample's values whose labels include `labels`."""
    value = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            value += float(line.rsplit(" ", 1)[1])
    return value
