"""Helpers of the end-to-end sync tests: driving the outflow and inflow services over HTTP."""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support.factories import departure_body, member_body
from tests.support.harness import auth

ORIGIN = "371326"
O_AUTH = auth("origin_operator", ORIGIN)


def host_auth(place: str) -> dict[str, str]:
    return auth("host_operator", place)


def depart(client: Any, host: str, rng: random.Random) -> str:
    created = post(client, "/api/v1/members", member_body(rng), O_AUTH)
    member_id = created.json()["member_id"]
    post(client, f"/api/v1/members/{member_id}/departures", departure_body(host, rng), O_AUTH)
    return member_id


def post(client: Any, path: str, body: Any, headers: dict[str, str]) -> Any:
    """POST that retries the 409 a concurrent writer may cause (the write did not happen)."""
    for _ in range(20):
        response = client.post(path, json=body, headers=headers)
        if response.status_code != 409:
            assert response.is_success, response.text
            return response
    raise AssertionError(f"{path} kept conflicting: {response.text}")


def in_parallel(fn: Any, args: list[Any], workers: int = 6) -> list[Any]:
    """Many clients at once, as offices do (and the tests finish sooner)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, args))


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
