"""`liangdi rebuild SERVICE`: a place service's read models dropped and rebuilt from its events.

Online (the service runs) it asks the service's admin API, which drops and recreates the tables and
replays in the background, and waits until the read models caught up. Offline (the service is
stopped, e.g. during an upgrade whose read model changed shape) it drops and recreates the tables
in the database and sets their positions to 0: the service replays them when it starts.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console

from liangdi_cli import runfile
from liangdi_cli.topology import ServiceSpec
from shared.eventstore import application_name, sqlalchemy_engine
from shared.positions import HALTED, REBUILT, PositionStore, failures, now
from shared.schema_upgrade import recreate_tables

OPERATOR = "liangdi-rebuild"


def _kind_and_place(service: str) -> tuple[str, str]:
    kind, _, place = service.partition("-")
    if kind not in ("outflow", "inflow") or not (len(place) == 6 and place.isdigit()):
        raise ValueError(f"{service!r}: name a place service, e.g. outflow-371326 or inflow-310115")
    return kind, place


def read_model_classes(kind: str) -> tuple[Any, ...]:
    return importlib.import_module(f"services.{kind}.adapters.projection").READ_MODELS


def reset_offline(
    engine: sa.Engine, kind: str, names: Sequence[str], by: str, reason: str
) -> list[str]:
    """Drops and recreates the named read models' tables (all if none named), positions to 0,
    a halt resolved as rebuilt. Returns the names reset. The service must not be running."""
    classes = read_model_classes(kind)
    chosen = [cls for cls in classes if not names or cls.name in names]
    unknown = set(names) - {cls.name for cls in classes}
    if unknown:
        known = ", ".join(cls.name for cls in classes)
        raise ValueError(f"no read model {sorted(unknown)} in {kind}; it has {known}")
    positions = PositionStore(engine)
    failures.create(engine, checkfirst=True)
    with engine.begin() as conn:
        for cls in chosen:
            key = f"read-model:{kind}:{cls.name}"
            positions.lock(conn, key)
            conn.execute(
                failures.update()
                .where(failures.c.read_model == cls.name, failures.c.state == HALTED)
                .values(state=REBUILT, resolved_by=by, resolved_at=now(), reason=reason)
            )
            recreate_tables(conn, cls)
            positions.set(key, 0, conn)
    return [cls.name for cls in chosen]


def _token(var_dir: Path) -> str:
    from liangdi_cli.token import resolve_secret
    from shared.security.tokens import ANY_PLACE, Role, issue_token

    secret = resolve_secret(None, var_dir)
    return issue_token(
        secret, role=Role.SYNC_ADMIN, place=ANY_PLACE, subject=OPERATOR, ttl_seconds=600
    )


def rebuild_online(
    client: httpx.Client, names: Sequence[str], reason: str, wait: float, console: Console
) -> bool:
    """Rebuilds over the admin API; True once every one caught up with the event store."""
    listed = client.get("/admin/read-models")
    listed.raise_for_status()
    present = [m["name"] for m in listed.json()["read_models"]]
    unknown = set(names) - set(present)
    if unknown:
        raise ValueError(f"no read model {sorted(unknown)} here; there are {', '.join(present)}")
    chosen = list(names) or present
    for name in chosen:
        response = client.post(f"/admin/read-models/{name}/rebuild", json={"reason": reason})
        response.raise_for_status()
        console.print(f"{name}: tables dropped and recreated, replaying from the first event")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        models = {m["name"]: m for m in client.get("/admin/read-models").json()["read_models"]}
        halted = [n for n in chosen if models[n]["state"] == HALTED]
        if halted:
            console.print(f"[bold red]halted while rebuilding: {', '.join(halted)}[/]")
            return False
        if all(models[n]["lag"] == 0 for n in chosen):
            for name in chosen:
                console.print(f"[green]{name}: rebuilt, at position {models[name]['position']}[/]")
            return True
        time.sleep(0.5)
    console.print(f"[yellow]still replaying after {wait:.0f} s; see GET /admin/read-models[/]")
    return False


def run(
    service: str,
    *,
    read_models: Sequence[str],
    reason: str,
    var_dir: Path,
    url: str | None,
    offline: bool,
    database_url: str | None,
    wait: float,
    console: Console,
) -> int:
    try:
        kind, place = _kind_and_place(service)
        if offline:
            database_url = database_url or ServiceSpec(kind, place, 0).database_url(var_dir)
            # The read models' own file or schema, as the service opens it.
            engine = sqlalchemy_engine(database_url, application_name("rebuild", place))
            try:
                done = reset_offline(engine, kind, read_models, f"operator:{OPERATOR}", reason)
            finally:
                engine.dispose()
            console.print(f"reset {', '.join(done)}: the service replays them when it starts")
            return 0
        if url is None:
            info = runfile.read(var_dir)
            found = next((p for p in info.services if p.name == service), None) if info else None
            if found is None:
                console.print(f"[bold red]{service} is not running here: pass --url[/]")
                return 1
            url = found.url
        headers = {"Authorization": f"Bearer {_token(var_dir)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30, trust_env=False) as client:
            return 0 if rebuild_online(client, read_models, reason, wait, console) else 1
    except (ValueError, httpx.HTTPError, sa.exc.SQLAlchemyError) as exc:
        console.print(f"[bold red]{exc}[/]")
        return 1
