"""Auditors read the host's lists but see no personal data: not even a member's name."""

from __future__ import annotations

import random

from tests.inflow.support import AUDITOR, OriginWire, W, expect, inflow


def test_auditors_see_names_masked_operators_in_full(pg_database_url: str, nats_server) -> None:
    origin, rng = OriginWire(nats_server.url), random.Random(11)
    with inflow(pg_database_url, nats_server.url) as host:
        member_id = origin.depart(rng, name="欧阳娜娜")
        record = expect(host, member_id)
        assert record["name"] == "欧阳娜娜"
        for path in ("/api/v1/members", "/api/v1/arrivals"):
            seen = host.get(path, headers=AUDITOR).json()["items"]
            assert [m["name"] for m in seen] == ["欧***"], path
            assert host.get(path, headers=W).json()["items"][0]["name"] == "欧阳娜娜"
        one = host.get(f"/api/v1/members/{member_id}", headers=AUDITOR).json()
        assert one["name"] == "欧***"
