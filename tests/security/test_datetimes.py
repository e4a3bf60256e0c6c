"""Every date-time an API returns carries its offset (on SQLite too, where the read models'
`timestamptz` columns are plain text): walks every GET of the three services after some work."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

from tests.security.routes import operations
from tests.security.test_personal_data import _walk_url, pair, register_and_depart
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST = "371326", "310115"
# A JSON string that is a date-time: date, `T`, time, then maybe an offset.
DATE_TIME = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(Z|[+-]\d\d:\d\d)?"')
ROLES = {
    "outflow": ("origin_operator", ORIGIN),
    "inflow": ("host_operator", HOST),
    "sync": ("sync_admin", "*"),
}


def test_every_date_time_of_every_get_route_has_an_offset(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    urls = {k: f"sqlite:///{tmp_path}/{k}.db" for k in ("outflow", "inflow")}
    with ExitStack() as stack:
        services = dict(stack.enter_context(pair(urls, nats_server.url)))
        sync_settings = settings_for("sync", f"sqlite:///{tmp_path}/sync.db", nats_server.url)
        services["sync"] = stack.enter_context(running("sync", sync_settings))
        person = register_and_depart(services, seed=5)
        out, host = services["outflow"], services["inflow"]
        o_auth, h_auth = auth(*ROLES["outflow"]), auth(*ROLES["inflow"])
        hosted = host.get(f"/api/v1/members/{person['hosted_id']}", headers=h_auth).json()
        writes = [
            out.post(
                "/api/v1/fund/contributions",
                json={"amount_fen": 500000, "contributor": "专项拨款", "received_on": "2026-03-01"},
                headers=o_auth | {"Idempotency-Key": "datetimes-walk-1"},
            ),
            out.post(
                "/api/v1/fund/applications",
                json={
                    "member_id": person["member_id"],
                    "amount_fen": 20000,
                    "reason": "因病住院",
                    "requested_on": "2026-03-02",
                },
                headers=o_auth | {"Idempotency-Key": "datetimes-walk-2"},
            ),
            host.post(
                f"/api/v1/members/{person['hosted_id']}/report",
                json={"certificate_no": hosted["certificate_no"], "reported_on": "2026-03-10"},
                headers=h_auth,
            ),
            host.post(
                "/api/v1/activities",
                json={
                    "kind": "study_session",
                    "title": "三月主题党日",
                    "held_on": "2026-03-12",
                    "organiser": "张江软件园流动党员党支部",
                    "attendee_ids": [person["hosted_id"]],
                },
                headers=h_auth,
            ),
        ]
        assert all(w.status_code < 300 for w in writes), [w.text for w in writes]
        wait_until(
            lambda: out.get(f"/api/v1/members/{person['member_id']}", headers=o_auth).json()[
                "last_contact_on"
            ],
            message="the host's facts reach the origin",
        )
        checked: dict[str, int] = {}
        naive: dict[str, list[str]] = {}
        for kind, client in services.items():
            ids = {"member_id": person["member_id" if kind == "outflow" else "hosted_id"]}
            for op in operations(client.app):
                if op.method != "GET":
                    continue
                response = client.get(_walk_url(op, ids), headers=auth(*ROLES[kind]))
                found = DATE_TIME.findall(response.text)
                checked[f"{kind} {op.path}"] = len(found)
                bad = [value for value, offset in found if not offset]
                if bad:
                    naive[f"{kind} {op.path}"] = bad[:3]
    assert not naive, f"date-times without an offset: {naive}"
    # The walk saw the times it is about (members, arrivals, audit trails on both places).
    for route in ("outflow /api/v1/members", "inflow /api/v1/members", "outflow /api/v1/audit"):
        assert checked[route] > 0, checked
    assert sum(checked.values()) >= 20, checked
