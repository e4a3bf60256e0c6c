"""The operators' dashboard: a page with no data of its own, strict CSP, and a script that reads
only admin endpoints that exist, using only fields those endpoints really return."""

from __future__ import annotations

import random
import re
from pathlib import Path

from tests.support.backends import drop_schema
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for, wait_until

SCRIPT = (
    Path(__file__).resolve().parents[2] / "services/sync/entrypoints/static/dashboard.js"
).read_text()


def test_dashboard_reads_real_fields_of_real_endpoints(
    postgres_url: str, pg_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin = settings_for("outflow", f"{base}?schema={schema}_o", nats_url, "371326")
    host = settings_for("inflow", f"{base}?schema={schema}_h", nats_url, "310115")
    exchange = settings_for("sync", f"sqlite:///{tmp_path / 'sync.db'}", nats_url)
    try:
        with (
            running("sync", exchange) as sync,
            running("outflow", origin) as out,
            running("inflow", host),
        ):
            page = sync.get("/dashboard")  # no token: the page itself carries no data
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert "frame-ancestors 'none'" in csp
            # One bundle: the shared scripts and place names, then the exchange's own script.
            script = sync.get("/dashboard/dashboard.js")
            assert script.status_code == 200 and script.text.endswith(SCRIPT)
            assert '"371326":"平邑县"' in script.text
            assert sync.get("/dashboard/dashboard.css").status_code == 200

            endpoints = re.findall(r'read\("(/admin/[a-z/-]+)', SCRIPT)
            assert len(endpoints) == 4
            for path in endpoints:
                assert sync.get(path).status_code == 401, path  # the data needs a token
                # 404 only for "no anti-entropy run yet": the route exists, the auditor may read
                assert sync.get(path, headers=auth("auditor")).status_code in (200, 404), path

            o_auth = auth("origin_operator", "371326")
            rng = random.Random(3)
            member = out.post("/api/v1/members", json=member_body(rng), headers=o_auth).json()
            out.post(
                f"/api/v1/members/{member['member_id']}/departures",
                json=departure_body("310115", rng),
                headers=o_auth,
            )

            def link() -> dict | None:
                links = sync.get("/admin/links", headers=auth("auditor")).json()["links"]
                return next(
                    (x for x in links if (x["from_place"], x["to_place"]) == ("371326", "310115")),
                    None,
                )

            shown = wait_until(link, message="the link in the admin view")
            used = set(re.findall(r"\bl\.([a-z_]+)", SCRIPT))
            assert used and used <= set(shown), used - set(shown)
            reconciliation = sync.get("/admin/reconciliation", headers=auth("auditor")).json()
            assert isinstance(reconciliation["assessments"]["by_state"], dict)
            assert isinstance(reconciliation["mismatches"]["by_kind"], dict)
            dead = sync.get("/admin/dead-letters/summary", headers=auth("auditor")).json()
            assert isinstance(dead["links"], list)
    finally:
        for suffix in ("_o", "_h"):
            drop_schema(postgres_url, schema + suffix)
