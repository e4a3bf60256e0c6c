"""What a receiver checks of a message alone, before it looks at the store.

The envelope (a CloudEvent of this exchange), the signature of a place trusted in its role, the
address (this place, this direction, the subject it arrived on), the sealed personal fields
opened, the event against its contract. Nothing here reads or writes the store, so a batch can be
checked while the one before it is applied, on a thread or in a process of its own
(`checks_apart.py`).
"""

from __future__ import annotations

from typing import Any

from shared.contracts.envelope import Envelope, MalformedMessage, parse_envelope
from shared.contracts.registry import SchemaViolation, UnknownEventType, WireEvent
from shared.messaging.tally import DEAD, Outcome
from shared.messaging.topology import event_subject
from shared.security.sealing import Sealer, SealingError, open_sealed
from shared.security.signing import SignatureRejected, TrustRegistry

Checked = Outcome | tuple[Envelope, WireEvent | None, str]


def wrong_subject(envelope: Envelope, subject: str | None) -> str:
    routed = event_subject(
        envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
    )
    if subject is None or subject == routed:
        return ""
    return f"misaddressed: arrived on {subject}, the envelope routes to {routed}"


class FactChecks:
    """A receiver's checks of one message (the base of `InboundProcessor`)."""

    place: str
    direction: str
    trust: TrustRegistry | None
    sealer: Sealer | None = None  # set by the runtime (docs/security.md, sealed personal data)

    @classmethod
    def alone(
        cls, place: str, direction: str, trust: TrustRegistry | None, sealer: Sealer | None
    ) -> FactChecks:
        """The checks without a receiver around them (a checking process has no store)."""
        checks = cls()
        checks.place, checks.direction = place, direction
        checks.trust, checks.sealer = trust, sealer
        return checks

    def prepare(self, raw: bytes, subject: str | None) -> Checked:
        """Checks a message as far as it can be alone: a dead letter's outcome, or the opened
        envelope with its event (None with the reason, when the contract cannot read it)."""
        try:
            envelope = parse_envelope(raw)
        except MalformedMessage as exc:
            return Outcome(DEAD, f"malformed: {exc}")
        rejection = self._authenticate(envelope) or wrong_subject(envelope, subject)
        if rejection:
            return Outcome(DEAD, rejection, envelope)
        try:
            envelope = open_sealed(self.sealer, envelope)  # authentic: now open personal fields
        except SealingError as exc:
            return Outcome(DEAD, f"signature: {exc}", envelope)
        try:
            return envelope, envelope.wire_event(), ""
        except (UnknownEventType, SchemaViolation) as exc:
            return envelope, None, f"schema: {exc}"

    def check_all(self, messages: list[tuple[bytes, str | None]]) -> list[Any]:
        """Each message checked as far as it can be alone (`prepare`), with nothing read from
        or written to the store: the receiver checks a batch while the one before it is applied
        (docs/performance.md, "Eleventh pass" and "Thirteenth pass")."""
        return [self.prepare(raw, subject) for raw, subject in messages]

    def _authenticate(self, envelope: Envelope) -> str:
        if envelope.to_place != self.place or envelope.direction != self.direction:
            return (
                f"misaddressed: {envelope.direction} to {envelope.to_place}, "
                f"this receiver is {self.direction} to {self.place}"
            )
        return self._unsigned(envelope)

    def _unsigned(self, envelope: Envelope) -> str:
        """Why the signature is refused ("" when it is good, or no keys are trusted)."""
        if self.trust is not None:
            try:
                self.trust.verify(envelope)
            except SignatureRejected as exc:
                return f"signature: {exc}"
        return ""
