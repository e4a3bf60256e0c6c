"""Envelopes for the signing tests: genuine departures from an origin to a host, and forgeries."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import date

from shared.contracts.envelope import O2H, Envelope, new_envelope
from shared.contracts.events import MemberDeparted
from tests.support.factories import member_body


def departure(origin: str, host: str, member_id: str | None = None, seed: int = 1) -> Envelope:
    body = member_body(random.Random(seed), origin)
    member_id = member_id or str(uuid.uuid4())
    event = MemberDeparted(
        member_id=member_id,
        origin_place=origin,
        host_place=host,
        name=body["name"],
        resident_id=body["resident_id"],
        sex=body["sex"],
        phone=body["phone"],
        origin_branch=body["origin_branch"],
        employer="浦东物流有限公司",
        host_address="上海市浦东新区张江路1号",
        reason="务工",
        expected_months=4,
        departed_on=date(2026, 3, 1),
        certificate_no=f"{origin}-{seed:06d}",
    )
    return new_envelope(
        event_id=str(uuid.uuid4()),
        service="outflow",
        event=event,
        member_id=member_id,
        from_place=origin,
        to_place=host,
        direction=O2H,
        stream=member_id,
        seq=1,
        prevseq=0,
    )


def tampered(envelope: Envelope, **data: object) -> Envelope:
    return dataclasses.replace(envelope, data={**envelope.data, **data})
