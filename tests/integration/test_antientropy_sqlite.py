"""Anti-entropy on the embedded default (SQLite stores, as `liangdi up` runs them): it used to fail
with `no such table: tracking` (issue 9 §3). Both ends count in the sender's notification ids per
member, so an agreeing link reads equal, stream for stream."""

from __future__ import annotations

import random
from pathlib import Path

from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
O_AUTH, H_AUTH, ADMIN = (
    auth("origin_operator", ORIGIN),
    auth("host_operator", HOST),
    auth("sync_admin"),
)


def test_antientropy_runs_on_sqlite_stores(tmp_path: Path, nats_url: str) -> None:
    def url(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.db"

    rng = random.Random(5)
    with (
        running("sync", settings_for("sync", url("sync"), nats_url)) as sync,
        running("outflow", settings_for("outflow", url("origin"), nats_url, ORIGIN)) as out,
        running("inflow", settings_for("inflow", url("host"), nats_url, HOST)) as inflow,
    ):
        members = []
        for _ in range(2):
            created = out.post("/api/v1/members", json=member_body(rng), headers=O_AUTH)
            members.append(created.json()["member_id"])
            departed = out.post(
                f"/api/v1/members/{members[-1]}/departures",
                json=departure_body(HOST, rng),
                headers=O_AUTH,
            )
            assert departed.status_code == 201, departed.text
        wait_until(
            lambda: inflow.get("/api/v1/members", headers=H_AUTH).json()["total"] == 2,
            message="both arrivals expected at the host",
        )

        def report() -> dict:
            response = sync.post("/admin/antientropy/runs", json={"mode": "report"}, headers=ADMIN)
            assert response.status_code == 200, response.text
            return response.json()

        result = wait_until(lambda: (r := report())["agreed"] and r, message="both sides agree")
        assert result["errors"] == []
        [link] = [x for x in result["links"] if x["direction"] == "o2h"]
        assert (link["streams_sent"], link["streams_applied"]) == (2, 2)
        tracked = inflow.app.state.runtime.app.positions_with_prefix(f"{ORIGIN}:")
        assert set(tracked) == {f"{ORIGIN}:{m}" for m in members}
