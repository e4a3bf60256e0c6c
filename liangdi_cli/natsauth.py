"""The nats-server `authorization` block for liangdi: one user per place, one for sync.

A place's user (`place-<code>`) may publish only its own facts (an origin
`liangdi.ev.o2h.<origin>.>`, a host `liangdi.ev.h2o.<host>.>`) and its own dead letters, and use
the JetStream API only for its own durable consumer (whose filter is fixed in the permitted
subject), its own status key and a read of the control bucket. It receives only replies to its own
inbox prefix `_INBOX.<place>.` (shared/messaging/connection.py connects with it) and the sync
service's anti-entropy questions to it, which it answers on a subject of its own
(`liangdi.ae.answers.<service>.<place>.<token>`). Streams and buckets are created by the sync
user, never by a place, and only the sync user may write the control bucket (an operator's pause
of a link).

Passwords are references to environment variables of the nats-server process
(`$NATS_PASSWORD_SYNC`, `$NATS_PASSWORD_PLACE_<code>`), so the file itself holds no secret and is
the same in every setup (`liangdi up`, docker-compose, k8s); tests may pass them literally.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liangdi_cli.topology import ServiceSpec

EVENTS, DEADLETTER = "LIANGDI_EVENTS", "LIANGDI_DEADLETTER"
STATUS, CONTROL = "liangdi_status", "liangdi_control"
SYNC_USER = "sync"
# service, the direction it publishes, the direction it receives
ROLES = {"origin": ("outflow", "o2h", "h2o"), "host": ("inflow", "h2o", "o2h")}
SERVICE_ROLE = {"outflow": "origin", "inflow": "host"}


def user_name(place: str) -> str:
    return f"place-{place}"


def service_user(kind: str, place: str | None) -> str:
    """The NATS user a service connects as: its place's, or sync's for the exchange."""
    return SYNC_USER if kind == "sync" or place is None else user_name(place)


def password_variable(key: str) -> str:
    """Environment variable of the nats-server process holding a user's password; `key` is a
    place code or `sync`."""
    return "NATS_PASSWORD_SYNC" if key == SYNC_USER else f"NATS_PASSWORD_PLACE_{key}"


def place_permissions(place: str, roles: Iterable[str]) -> dict[str, object]:
    # What every place service needs at start (ensure_topology reads the streams' and buckets'
    # declarations) and to read its pause flags (the control bucket is not a direct-get bucket,
    # so the read goes through STREAM.MSG.GET; pause flags carry no personal data).
    publish = [
        f"$JS.API.STREAM.INFO.{EVENTS}",
        f"$JS.API.STREAM.INFO.{DEADLETTER}",
        f"$JS.API.STREAM.INFO.KV_{STATUS}",
        f"$JS.API.STREAM.INFO.KV_{CONTROL}",
        f"$JS.API.STREAM.MSG.GET.KV_{CONTROL}",
    ]
    subscribe = [f"_INBOX.{place}.>"]
    for role in roles:
        service, sends, receives = ROLES[role]
        durable = f"{service}-{place}"
        inbound = f"liangdi.ev.{receives}.*.{place}.>"
        publish += [
            f"liangdi.ev.{sends}.{place}.>",
            f"liangdi.dlq.{service}.{place}",
            # Its answers to sync's anti-entropy questions (shared/messaging/antientropy.py).
            f"liangdi.ae.answers.{service}.{place}.*",
            f"$JS.API.CONSUMER.INFO.{EVENTS}.{durable}",
            # The filter is part of the subject: a place cannot create its durable on another
            # place's messages.
            f"$JS.API.CONSUMER.CREATE.{EVENTS}.{durable}.{inbound}",
            f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS}.{durable}",
            f"$JS.ACK.{EVENTS}.{durable}.>",
            f"$KV.{STATUS}.{service}.{place}",
            f"$JS.API.DIRECT.GET.KV_{CONTROL}.$KV.{CONTROL}.pause.{service}.{place}",
            f"$JS.API.DIRECT.GET.KV_{CONTROL}.$KV.{CONTROL}.pause.{service}.{place}.>",
        ]
        subscribe.append(f"liangdi.ae.{service}.{place}")  # anti-entropy questions from sync
    # No `allow_responses`: nats-server would record the reply subject of every JetStream
    # delivery to the place and walk them all at each delivery (docs/performance.md).
    return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}


def sync_permissions() -> dict[str, object]:
    # The exchange's own service: provisions streams and buckets, watches every link, replays.
    return {
        "publish": {"allow": ["$JS.API.>", "$JS.ACK.>", "$KV.>", "liangdi.>"]},
        "subscribe": {"allow": ["_INBOX.sync.>", "$KV.>", "liangdi.>"]},
    }


def _password(key: str, literal: Mapping[str, str]) -> str:
    if key in literal:
        return json.dumps(literal[key])
    return "$" + password_variable(key)


def render(
    origins: Iterable[str],
    hosts: Iterable[str],
    literal: Mapping[str, str] | None = None,
    admin_password: str | None = None,
) -> str:
    """The authorization block. `literal` maps `sync`/a place code to a password written into the
    file (tests); `admin_password` adds an unrestricted `admin` user (test fixtures only)."""
    literal = {("sync" if k == "SYNC" else k): v for k, v in (literal or {}).items()}
    roles: dict[str, list[str]] = {}
    for place in origins:
        roles.setdefault(place, []).append("origin")
    for place in hosts:
        roles.setdefault(place, []).append("host")
    users = [(SYNC_USER, SYNC_USER, sync_permissions())]
    users += [(user_name(p), p, place_permissions(p, r)) for p, r in sorted(roles.items())]
    lines = [
        "# Generated by deploy/nats/permissions/generate.py: one user per place, one for sync.",
        "authorization {",
        "  users = [",
    ]
    for name, key, permissions in users:
        body = textwrap.indent(json.dumps(permissions, indent=2), "      ").lstrip()
        lines.append(
            f"    {{user: {json.dumps(name)}, password: {_password(key, literal)},\n"
            f"      permissions: {body}}}"
        )
    if admin_password is not None:
        lines.append(f'    {{user: "admin", password: {json.dumps(admin_password)}}}')
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def roles_of(topology: Iterable[ServiceSpec]) -> tuple[list[str], list[str]]:
    """(origins, hosts) of a topology: outflow places are origins, inflow places hosts."""
    origins: list[str] = []
    hosts: list[str] = []
    for spec in topology:
        if spec.place is None or spec.kind not in SERVICE_ROLE:
            continue
        chosen = origins if SERVICE_ROLE[spec.kind] == "origin" else hosts
        if spec.place not in chosen:
            chosen.append(spec.place)
    return origins, hosts


async def _provision(url: str, password: str) -> None:
    from shared.messaging.connection import NatsAccess, connect
    from shared.messaging.topology import ensure_topology

    nc = await connect(NatsAccess([url], SYNC_USER, password), name="liangdi-up", owner=SYNC_USER)
    try:
        await ensure_topology(nc.jetstream(timeout=10))
    finally:
        await nc.close()


def provision(url: str, password: str, timeout: float = 30.0) -> None:
    """Creates the streams and buckets as the sync user before any place starts: a place may not
    create them, and would otherwise wait for the sync service to."""
    asyncio.run(asyncio.wait_for(_provision(url, password), timeout))
