"""`liangdi demo`: a realistic scenario against running services, ending with the sync state."""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from liangdi_cli.client import Api
from liangdi_cli.devkeys import load_or_create
from liangdi_cli.topology import DEFAULT_BASE_PORT, DEFAULT_TOPOLOGY, places
from shared.security.tokens import Role
from shared.validation import make_resident_id

console = Console(width=120)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚"
EMPLOYERS = ["上海建工集团", "浦东物流有限公司", "闵行电子厂", "张江软件园", "虹桥快递站"]


def demo(
    base_port: int = typer.Option(DEFAULT_BASE_PORT, "--base-port", help="Same as `liangdi up`."),
    var_dir: Path = typer.Option(Path("var"), "--var-dir", help="Where `liangdi up` keeps keys."),
    members: int = typer.Option(300, help="How many members the origin county sends out."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for every link to catch up."),
    seed: int = typer.Option(2026, help="Random seed, for a repeatable scenario."),
) -> None:
    """Run a realistic scenario: members leave 371326 for 310115 and 310112, report, take part,
    are evaluated and helped; then wait until both sides agree and print every link's state."""
    secret = load_or_create(var_dir, places()).jwt_secret
    url = {spec.name: f"http://127.0.0.1:{spec.port(base_port)}" for spec in DEFAULT_TOPOLOGY}
    origins = [s.place for s in DEFAULT_TOPOLOGY if s.kind == "outflow" and s.place]
    hosts = [s.place for s in DEFAULT_TOPOLOGY if s.kind == "inflow" and s.place]
    origin = origins[0]
    outflow = Api(url[f"outflow-{origin}"], secret, Role.ORIGIN_OPERATOR, origin)
    inflows = {h: Api(url[f"inflow-{h}"], secret, Role.HOST_OPERATOR, h) for h in hosts}
    sync = Api(url["sync"], secret, Role.SYNC_ADMIN)
    rng = random.Random(seed)
    started = time.monotonic()

    sent = _send_members(outflow, origin, hosts, members, rng)
    arrived = _wait_arrivals(inflows, sent, timeout)
    reported = _report(inflows, arrived, rng)
    ok = _wait_agreement(outflow, inflows, sync, sent, reported, timeout)
    _print_links(sync)
    console.print(f"scenario took {time.monotonic() - started:.1f}s")
    if not ok:
        console.print("[red]links did not catch up, or the two sides disagree[/red]")
        raise typer.Exit(1)
    console.print("[green]every link caught up; origin and hosts agree[/green]")


def _member(rng: random.Random, origin: str) -> dict[str, Any]:
    birth = date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        "resident_id": make_resident_id(origin, birth, rng.randint(0, 999)),
        "sex": rng.choice(["male", "female"]),
        "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
        "origin_branch": f"平邑镇第{rng.randint(1, 30)}村党支部",
        "household_address": f"山东省临沂市平邑县平邑镇{rng.randint(1, 300)}号",
    }


def _send_members(
    outflow: Api, origin: str, hosts: list[str], count: int, rng: random.Random
) -> dict[str, str]:
    """Registers and departs `count` members; returns origin member id → host place."""
    sent: dict[str, str] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{origin}: register and depart", total=count)
        while len(sent) < count:
            body = _member(rng, origin)
            created = outflow.call("POST", "/api/v1/members", json=body, expect=(201, 409))
            if not created or "member_id" not in created:
                continue  # the same random ID number twice: already registered
            host = hosts[len(sent) % len(hosts)]
            departed_on = date.today() - timedelta(days=rng.randint(5, 200))
            outflow.post(
                f"/api/v1/members/{created['member_id']}/departures",
                {
                    "host_place": host,
                    "employer": rng.choice(EMPLOYERS),
                    "host_address": f"上海市某路{rng.randint(1, 999)}号",
                    "reason": "务工",
                    "expected_months": rng.choice([3, 4, 5, 8, 12]),
                    "departed_on": departed_on.isoformat(),
                },
            )
            sent[created["member_id"]] = host
            progress.advance(task)
    console.print(f"{origin}: {count} members registered and departed to {', '.join(hosts)}")
    return sent


def _wait_arrivals(
    inflows: dict[str, Api], sent: dict[str, str], timeout: float
) -> dict[str, list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    expected = {h: sum(1 for v in sent.values() if v == h) for h in inflows}
    while True:
        arrived = {h: api.all_items("/api/v1/members") for h, api in inflows.items()}
        mine = {
            h: [m for m in items if m["origin_member_id"] in sent] for h, items in arrived.items()
        }
        if all(len(mine[h]) >= expected[h] for h in inflows) or time.monotonic() > deadline:
            for h in inflows:
                console.print(f"{h}: {len(mine[h])} of {expected[h]} expected arrivals")
            return mine
        time.sleep(0.5)


def _report(
    inflows: dict[str, Api], arrived: dict[str, list[dict[str, Any]]], rng: random.Random
) -> set[str]:
    """Most members report (报到) with their certificate; a few have not yet."""
    reported: set[str] = set()
    for host, members in arrived.items():
        for m in members:
            if m["status"] != "expected" or rng.random() < 0.1:
                continue
            on = date.fromisoformat(m["departed_on"]) + timedelta(days=rng.randint(1, 4))
            inflows[host].post(
                f"/api/v1/members/{m['member_id']}/report",
                {
                    "certificate_no": m["certificate_no"],
                    "reported_on": min(on, date.today()).isoformat(),
                },
            )
            reported.add(m["origin_member_id"])
        console.print(
            f"{host}: {sum(1 for m in members if m['origin_member_id'] in reported)} reported"
        )
    return reported


def _wait_agreement(
    outflow: Api,
    inflows: dict[str, Api],
    sync: Api,
    sent: dict[str, str],
    reported: set[str],
    timeout: float,
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        origin_view = {m["member_id"]: m for m in outflow.all_items("/api/v1/members")}
        agree = all(
            origin_view.get(mid, {}).get("host_place") == host
            and bool(origin_view.get(mid, {}).get("reported_on")) == (mid in reported)
            for mid, host in sent.items()
        )
        links = sync.get("/admin/links")["links"]
        caught_up = bool(links) and all(link["state"] == "running" for link in links)
        if agree and caught_up:
            return True
        time.sleep(1.0)
    return False


def _print_links(sync: Api) -> None:
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
            str(link["published"]),
            str(link["applied"]),
            str(link["duplicates"]),
            str(link["dead_letters"]),
            str(link["lag_messages"]),
        )
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    typer.run(demo)
    sys.exit(0)
