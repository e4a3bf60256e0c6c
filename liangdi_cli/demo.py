"""`liangdi demo`: a realistic scenario against running services, ending with the sync state."""

from __future__ import annotations

import contextlib
import random
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from liangdi_cli import scenario
from liangdi_cli.client import Api, ServiceError
from liangdi_cli.devkeys import load_or_create
from liangdi_cli.topology import DEFAULT_BASE_PORT, DEFAULT_TOPOLOGY, places
from shared.security.tokens import Role

console = Console(width=120)


def demo(
    base_port: int = typer.Option(DEFAULT_BASE_PORT, "--base-port", help="Same as `liangdi up`."),
    var_dir: Path = typer.Option(Path("var"), "--var-dir", help="Where `liangdi up` keeps keys."),
    members: int = typer.Option(300, help="How many members the origin county sends out."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for every link to catch up."),
    seed: int = typer.Option(2026, help="Random seed, for a repeatable scenario."),
) -> None:
    """Run a realistic scenario: members leave 371326 for 310115 and 310112, report, take part,
    are evaluated by both sides and helped from the fund; then wait until both sides agree and
    print every link's state. Exits non-zero when they do not, within --timeout."""
    secret = load_or_create(var_dir, places()).jwt_secret
    url = {spec.name: f"http://127.0.0.1:{spec.port(base_port)}" for spec in DEFAULT_TOPOLOGY}
    origin = next(s.place for s in DEFAULT_TOPOLOGY if s.kind == "outflow" and s.place)
    hosts = [s.place for s in DEFAULT_TOPOLOGY if s.kind == "inflow" and s.place]
    outflow = Api(url[f"outflow-{origin}"], secret, Role.ORIGIN_OPERATOR, origin)
    inflows = {h: Api(url[f"inflow-{h}"], secret, Role.HOST_OPERATOR, h) for h in hosts}
    sync = Api(url["sync"], secret, Role.SYNC_ADMIN)
    rng, started, year = random.Random(seed), time.monotonic(), date.today().year

    try:
        sent = scenario.send_members(outflow, origin, hosts, members, rng, console)
        arrived = scenario.wait_arrivals(inflows, sent, timeout, console)
        reported = scenario.report(inflows, arrived, rng, console)
        scenario.activities(inflows, reported, console)
        graded = scenario.evaluations(outflow, inflows, reported, year, 5, console)
        concluded = scenario.conclude(outflow, graded, year, timeout)
        console.print(f"{origin}: {concluded} final grades concluded (民主评议)")
        paid_host, request_id = scenario.payout(outflow, inflows, reported, timeout, console)
        scenario.print_certificate(outflow, next(iter(sent)), var_dir, console)  # a printed one
        scenario.pioneer_card_and_fixed_day(inflows, reported, var_dir, console)
        expectations = Expectations(sent, reported, graded, year, paid_host, request_id)
        ok = wait_for_agreement(outflow, inflows, sync, expectations, timeout)
    except (httpx.HTTPError, ServiceError, RuntimeError) as exc:
        # A service down or refusing: say which and stop, without a traceback.
        console.print(f"[red]the scenario could not go on: {_describe(exc)}[/red]")
        with contextlib.suppress(httpx.HTTPError, ServiceError):
            print_links(sync)
        raise typer.Exit(1) from None
    print_links(sync)
    console.print(f"scenario took {time.monotonic() - started:.1f}s")
    if not ok:
        console.print(f"[red]links did not catch up, or the two sides disagree: {ok.why}[/red]")
        raise typer.Exit(1)
    console.print("[green]every link caught up; origin and hosts agree[/green]")


def _describe(exc: Exception) -> str:
    where = ""
    if isinstance(exc, httpx.RequestError):
        with contextlib.suppress(RuntimeError):
            where = f" ({exc.request.method} {exc.request.url})"
    return f"{type(exc).__name__}: {exc}{where}"


class Verdict:
    def __init__(self, why: str = ""):
        self.why = why

    def __bool__(self) -> bool:
        return not self.why


class Expectations:
    def __init__(
        self,
        sent: dict[str, str],
        reported: dict[str, dict[str, Any]],
        graded: dict[str, str],
        year: int,
        paid_host: str,
        request_id: str,
    ):
        self.sent, self.reported, self.graded, self.year = sent, reported, graded, year
        self.paid_host, self.request_id = paid_host, request_id

    def check(self, outflow: Api, inflows: dict[str, Api], sync: Api) -> Verdict:
        origin_view = {m["member_id"]: m for m in outflow.all_items("/api/v1/members")}
        for mid, host in self.sent.items():
            member = origin_view.get(mid, {})
            if member.get("host_place") != host:
                return Verdict(f"origin does not show {mid} at {host}")
            if bool(member.get("reported_on")) != (mid in self.reported):
                return Verdict(f"origin and host disagree on the report of {mid}")
        for mid in self.graded:
            record = self.reported[mid]
            views = inflows[record["host"]].get(
                "/api/v1/evaluations", params={"member_id": record["member_id"], "year": self.year}
            )["items"]
            if not views or views[0]["concluded_grade"] != self.graded[mid]:
                return Verdict(f"host has not received the concluded grade of {mid}")
        request = inflows[self.paid_host].get(f"/api/v1/assistance-requests/{self.request_id}")
        if request["status"] != "paid":
            return Verdict(f"host sees the assistance request as {request['status']}")
        ledger = outflow.get("/api/v1/fund/ledger")
        if sum(1 for entry in ledger if entry["kind"] == "disbursement") != 1:
            return Verdict("the fund's ledger does not show exactly one disbursement")
        links = sync.get("/admin/links")["links"]
        lagging = [
            f"{lk['from_place']}→{lk['to_place']}: {lk['state']}"
            for lk in links
            if lk["state"] != "running"
        ]
        if not links or lagging:
            return Verdict(f"links not caught up: {lagging or 'none reported yet'}")
        return Verdict()


def wait_for_agreement(
    outflow: Api, inflows: dict[str, Api], sync: Api, expectations: Expectations, timeout: float
) -> Verdict:
    deadline = time.monotonic() + timeout
    verdict = expectations.check(outflow, inflows, sync)
    while not verdict and time.monotonic() < deadline:
        time.sleep(1.0)
        verdict = expectations.check(outflow, inflows, sync)
    return verdict


def print_links(sync: Api) -> None:
    table = Table(title="sync state per link")
    for column in (
        "direction",
        "from",
        "to",
        "state",
        "published",
        "applied",
        "duplicates",
        "dead letters",
        "lag",
    ):
        table.add_column(column)
    for link in sync.get("/admin/links")["links"]:
        table.add_row(
            link["direction"],
            link["from_place"],
            link["to_place"],
            link["state"],
            str(link.get("published", "")),
            str(link.get("applied", "")),
            str(link.get("duplicates", "")),
            str(link.get("dead_lettered", "")),
            str(link.get("lag_messages", "")),
        )
    console.print(table)
