"""A key authorises a role, not just a place (docs/security.md, "Signed messages").

A host signing correctly with its own key cannot speak as an origin; a place never speaks for a
member another place owns. Refusals are dead letters (`signature` for the role, `rejected` for
ownership), and nothing is applied.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared.contracts.envelope import H2O, Envelope, new_envelope
from shared.contracts.events import MemberReported
from shared.messaging.receiver import reason_class
from shared.messaging.topology import DEADLETTER_STREAM, deadletter_subject, event_subject
from shared.security.signing import SignatureRejected, Signer, TrustRegistry, generate_keypair
from tests.security.messages import departure
from tests.support.backends import NatsServer
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, exchange_keys, keyed_pair, wait_until

ORIGIN, HOST, OTHER_HOST = "371326", "310115", "310112"
ORIGIN_KEY, HOST_KEY, BOTH_KEY = (generate_keypair() for _ in range(3))


def registry() -> TrustRegistry:
    return TrustRegistry.parse(
        f"origin:{ORIGIN}={ORIGIN_KEY[1]},host:{HOST}={HOST_KEY[1]},"
        f"origin:{OTHER_HOST}={BOTH_KEY[1]},host:{OTHER_HOST}={BOTH_KEY[1]}"
    )


def test_a_host_key_cannot_speak_as_an_origin_nor_an_origin_key_as_a_host() -> None:
    trust = registry()
    trust.verify(Signer(ORIGIN, ORIGIN_KEY[0]).sign(departure(ORIGIN, HOST)))
    # The reported attack: a host, with its own genuine key, sends an origin's fact.
    as_origin = Signer(HOST, HOST_KEY[0]).sign(departure(HOST, OTHER_HOST))
    with pytest.raises(SignatureRejected, match=f"{HOST} is not trusted as origin"):
        trust.verify(as_origin)
    as_host = Signer(ORIGIN, ORIGIN_KEY[0]).sign(dataclasses.replace(reported(), from_place=ORIGIN))
    with pytest.raises(SignatureRejected, match=f"{ORIGIN} is not trusted as host"):
        trust.verify(as_host)
    # A place with both roles (it sends members away and receives others) may say both.
    trust.verify(Signer(OTHER_HOST, BOTH_KEY[0]).sign(departure(OTHER_HOST, HOST)))
    assert trust.roles_of(OTHER_HOST) == {"origin", "host"}


def test_the_old_form_is_read_only_where_the_role_is_unambiguous() -> None:
    rotated = generate_keypair()
    # An untagged second key of a place named with its role elsewhere: that role.
    trust = TrustRegistry.parse(f"origin:{ORIGIN}={ORIGIN_KEY[1]},{ORIGIN}={rotated[1]}")
    trust.verify(Signer(ORIGIN, rotated[0]).sign(departure(ORIGIN, HOST)))
    with pytest.raises(SignatureRejected, match="not trusted as host"):
        trust.verify(Signer(ORIGIN, rotated[0]).sign(reported(from_place=ORIGIN)))
    with pytest.raises(ValueError, match="names no role"):
        TrustRegistry.parse(f"{HOST}={HOST_KEY[1]}")
    with pytest.raises(ValueError, match="neither"):
        TrustRegistry.parse(f"admin:{HOST}={HOST_KEY[1]}")


def reported(
    member_id: str | None = None, host_place: str = HOST, from_place: str = HOST
) -> Envelope:
    member_id = member_id or str(uuid.uuid4())
    event = MemberReported(
        member_id=member_id,
        origin_place=ORIGIN,
        host_place=host_place,
        reported_on=date(2026, 3, 5),
        certificate_no=f"{ORIGIN}-000001",
    )
    return new_envelope(
        event_id=str(uuid.uuid4()),
        service="inflow",
        event=event,
        member_id=member_id,
        from_place=from_place,
        to_place=ORIGIN,
        direction=H2O,
        stream=str(uuid.uuid4()),
        seq=1,
        prevseq=0,
    )


async def _publish(url: str, envelopes: list[Envelope]) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for e in envelopes:
            subject = event_subject(e.direction, e.from_place, e.to_place, e.subject)
            await js.publish(subject, e.to_bytes(), headers={"Nats-Msg-Id": e.id})
    finally:
        await nc.close()


async def _dead_letters(url: str, service: str, place: str) -> list[dict[str, Any]]:
    nc = await nats.connect(url)
    try:
        subject = deadletter_subject(service, place)
        sub = await nc.jetstream().pull_subscribe(
            subject,
            stream=DEADLETTER_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, filter_subject=subject),
        )
        try:
            return [
                {"data": m.data, **(m.headers or {})}
                for m in await sub.fetch(batch=100, timeout=1.0)
            ]
        except TimeoutError:
            return []
    finally:
        await nc.close()


def letters_for(url: str, service: str, place: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    def found() -> dict[str, dict[str, Any]]:
        letters = asyncio.run(_dead_letters(url, service, place))
        by_id = {i: x for x in letters for i in ids if i.encode() in x["data"]}
        return by_id if set(by_id) == ids else {}

    return wait_until(found, message=f"dead letters at {service} {place}")


def test_a_trusted_place_never_speaks_out_of_its_role_or_for_anothers_member(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    keys = exchange_keys({ORIGIN: "origin", HOST: "host", OTHER_HOST: "host"})
    url = nats_server.url
    with ExitStack() as stack:
        out, host = keyed_pair(stack, tmp_path, url, keys, ORIGIN, HOST)
        o_auth, h_auth = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
        rng = random.Random(5)
        member = out.post("/api/v1/members", json=member_body(rng, ORIGIN), headers=o_auth)
        member_id = member.json()["member_id"]
        left = out.post(
            f"/api/v1/members/{member_id}/departures",
            json=departure_body(HOST, rng),
            headers=o_auth,
        )
        assert left.status_code == 201, left.text

        def hosted() -> set[str]:
            items = host.get("/api/v1/members?limit=500", headers=h_auth).json()["items"]
            return {item["origin_member_id"] for item in items}

        wait_until(lambda: member_id in hosted(), message="the genuine departure arrives")

        other = Signer(OTHER_HOST, keys[OTHER_HOST]["signing_key"])
        this = Signer(HOST, keys[HOST]["signing_key"])
        # 1. The reported attack: host 310112 sends an origin-style departure, as itself.
        as_origin = other.sign(departure(OTHER_HOST, HOST, seed=9))
        # 2. A host's fact naming another host in its data, about its own member.
        named_other = this.sign(reported(member_id, host_place=OTHER_HOST))
        # 3. Another host's fact about a member this host holds.
        not_its_member = other.sign(
            reported(member_id, host_place=OTHER_HOST, from_place=OTHER_HOST)
        )
        asyncio.run(_publish(url, [as_origin, named_other, not_its_member]))

        at_host = letters_for(url, "inflow", HOST, {as_origin.id})
        at_origin = letters_for(url, "outflow", ORIGIN, {named_other.id, not_its_member.id})
        reason = at_host[as_origin.id]["Liangdi-Reason"]
        assert f"{OTHER_HOST} is not trusted as origin" in reason
        assert at_host[as_origin.id]["Liangdi-Reason-Class"] == "signature" == reason_class(reason)
        for letter in at_origin.values():
            assert letter["Liangdi-Reason-Class"] == "rejected"
            assert "inbound.not_your_member" in letter["Liangdi-Reason"]
        assert hosted() == {member_id}, "a member appeared from a host speaking as an origin"
        summary = out.get(f"/api/v1/members/{member_id}", headers=o_auth).json()
        assert summary["reported_on"] is None, "a refused report was applied"

        # The control: the same host, saying what it may, is applied.
        genuine = this.sign(reported(member_id))
        asyncio.run(_publish(url, [genuine]))
        wait_until(
            lambda: (
                out.get(f"/api/v1/members/{member_id}", headers=o_auth).json()["reported_on"]
                == "2026-03-05"
            ),
            message="the host's own report applied",
        )
