"""Helpers that put correctly-formed facts on the exchange, and the domain's pure rules."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date
from typing import Any

import nats

from services.sync.domain.assessment import DivergencePolicy, JointAssessment, evaluation_deadline
from shared.contracts.envelope import H2O, new_envelope
from shared.contracts.registry import WireEvent
from shared.messaging.topology import ensure_topology, event_subject
from shared.security.signing import Signer

_ids = itertools.count(1)


class Wire:
    """Publishes wire events as a place's relay would: per-route seq/prevseq, Nats-Msg-Id = id."""

    def __init__(self, nats_url: str, signers: dict[str, Signer] | None = None):
        self.nats_url, self.signers = nats_url, signers or {}
        self.last: dict[tuple[str, str, str], int] = {}

    def envelope(
        self,
        event: WireEvent,
        *,
        direction: str,
        stream: str,
        seq: int | None = None,
        prevseq: int = 0,
        signer: Signer | None = None,
    ) -> Any:
        """The next fact of `stream` on its route, or (with `seq`) a copy of an earlier one."""
        data = event.model_dump()
        origin, host = data["origin_place"], data["host_place"]
        from_place, to_place = (host, origin) if direction == H2O else (origin, host)
        key = (from_place, to_place, stream)
        if seq is None:
            prev = self.last.get(key, 0)
            seq = self.last[key] = prev + 1
        else:
            prev = prevseq
        envelope = new_envelope(
            event_id=f"{from_place}.test.{next(_ids)}.0",
            service="inflow" if direction == H2O else "outflow",
            event=event,
            member_id=data.get("member_id") or "unannounced",
            from_place=from_place,
            to_place=to_place,
            direction=direction,
            stream=stream,
            seq=seq,
            prevseq=prev,
        )
        signer = signer or self.signers.get(from_place)
        return signer.sign(envelope) if signer else envelope

    def publish(self, *envelopes: Any, msg_id_suffix: str = "") -> None:
        async def send() -> None:
            nc = await nats.connect(self.nats_url)
            js = nc.jetstream()
            await ensure_topology(js)  # the services may not have created it yet
            for env in envelopes:
                subject = event_subject(env.direction, env.from_place, env.to_place, env.subject)
                await js.publish(
                    subject, env.to_bytes(), headers={"Nats-Msg-Id": env.id + msg_id_suffix}
                )
            await nc.close()

        asyncio.run(send())

    def send(self, event: WireEvent, *, direction: str, stream: str) -> Any:
        envelope = self.envelope(event, direction=direction, stream=stream)
        self.publish(envelope)
        return envelope


def test_divergence_policy_counts_steps_and_the_failing_grade() -> None:
    policy = DivergencePolicy(steps=2, not_competent_diverges=True)
    assert not policy.diverges("excellent", "competent")
    assert policy.diverges("excellent", "basically_competent")
    assert policy.diverges("basically_competent", "not_competent")
    assert not DivergencePolicy(steps=2, not_competent_diverges=False).diverges(
        "basically_competent", "not_competent"
    )
    assert not DivergencePolicy(steps=3).diverges("excellent", "basically_competent")
    assert evaluation_deadline(2026, "03-31") == date(2027, 3, 31)


def test_a_conclusion_without_review_is_flagged_unless_a_resolution_says_why() -> None:
    def divergent() -> JointAssessment:
        a = JointAssessment(
            origin_place="371326", member_id="m", year=2026, host_place="310115", evidence=None
        )
        a.record_origin_grade(grade="excellent", policy=DivergencePolicy(), evidence=None)
        a.record_host_grade(
            host_place="310115",
            grade="basically_competent",
            policy=DivergencePolicy(),
            evidence=None,
        )
        assert a.stage == "divergent"
        return a

    unreviewed = divergent()
    unreviewed.conclude(grade="competent", origin_grade=None, host_grade=None, evidence=None)
    assert unreviewed.concluded_without_review and unreviewed.stage == "concluded"

    on_paper = divergent()
    on_paper.conclude(
        grade="competent",
        origin_grade=None,
        host_grade=None,
        evidence=None,
        resolution="joint review with 310115 on 2027-01-10: competent",
    )
    assert not on_paper.concluded_without_review and on_paper.resolution.startswith("joint")

    reviewed = divergent()
    reviewed.record_joint_review(
        agreed_grade="competent",
        notes="n",
        reviewer="origin:371326",
        reviewed_on=date(2027, 1, 2),
        evidence=None,
    )
    reviewed.conclude(grade="competent", origin_grade=None, host_grade=None, evidence=None)
    assert not reviewed.concluded_without_review
    assert reviewed.review["agreed_grade"] == "competent"
