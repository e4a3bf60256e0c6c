"""The CloudEvents 1.0 envelope (structured JSON) every liangdi message travels in.

One id is used everywhere: the CloudEvents `id` is also the `Nats-Msg-Id` header and the key the
receiver de-duplicates by. Extension attributes carry the routing and per-member ordering:
`liangdifrom`/`liangdito` (place codes), `liangdidir` (o2h origin→host, h2o host→origin),
`liangdistream` (the member the fact is about: one stream across all of the sender's aggregates
about that member), `liangdiseq` (the sender's notification id of the event: increasing in its
store, the same on every re-publish) and `liangdiprevseq` (the notification id of the previous
fact about that member sent to the same place, 0 for the first).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from dateutil.parser import isoparse

from shared.contracts.registry import WireEvent, parse_wire_event

O2H = "o2h"
H2O = "h2o"
_FORMAT = JSONFormat()


class MalformedMessage(ValueError):
    """The bytes are not a liangdi CloudEvent; the reason says why."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    data: dict[str, Any]
    from_place: str
    to_place: str
    direction: str
    stream: str
    seq: int
    prevseq: int
    keyid: str = ""
    signature: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def signing_bytes(self) -> bytes:
        """Canonical bytes a signature covers: every attribute but the signature itself."""
        body = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "data": self.data,
            "from": self.from_place,
            "to": self.to_place,
            "dir": self.direction,
            "stream": self.stream,
            "seq": self.seq,
            "prevseq": self.prevseq,
            "keyid": self.keyid,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def with_signature(self, keyid: str, signature: str) -> Envelope:
        return replace(self, keyid=keyid, signature=signature)

    def wire_event(self) -> WireEvent:
        return parse_wire_event(self.type, self.data)

    @property
    def tracking_name(self) -> str:
        """The receiver's per-member position key: sender place and member (the stream)."""
        return f"{self.from_place}:{self.stream}"

    def to_bytes(self) -> bytes:
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            "liangdifrom": self.from_place,
            "liangdito": self.to_place,
            "liangdidir": self.direction,
            "liangdistream": self.stream,
            "liangdiseq": self.seq,
            "liangdiprevseq": self.prevseq,
        }
        if self.signature:
            attributes["liangdikeyid"] = self.keyid
            attributes["liangdisig"] = self.signature
        return _FORMAT.write(CloudEvent(attributes, self.data))


def new_envelope(
    *,
    event_id: str,
    service: str,
    event: WireEvent,
    member_id: str,
    from_place: str,
    to_place: str,
    direction: str,
    stream: str,
    seq: int,
    prevseq: int,
    time: datetime | None = None,
) -> Envelope:
    return Envelope(
        id=event_id,
        source=f"/liangdi/{service}/{from_place}",
        type=event.cloudevent_type(),
        subject=member_id,
        time=time or datetime.now(UTC),
        data=event.model_dump(mode="json"),
        from_place=from_place,
        to_place=to_place,
        direction=direction,
        stream=stream,
        seq=seq,
        prevseq=prevseq,
    )


_REQUIRED = ("id", "source", "type", "subject", "time")
_EXTENSIONS = ("liangdifrom", "liangdito", "liangdidir", "liangdistream", "liangdiseq")


def parse_envelope(raw: bytes) -> Envelope:
    """Reads a structured-mode CloudEvent; raises MalformedMessage naming what is wrong."""
    try:
        decoded = json.loads(raw)
    except RecursionError:  # arrays or objects nested beyond the interpreter's recursion limit
        raise MalformedMessage("not JSON this receiver can hold: nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, an integer of over 4,300 digits
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise MalformedMessage("not a JSON object")
    if decoded.get("specversion") != "1.0":
        raise MalformedMessage(f"specversion {decoded.get('specversion')!r} is not 1.0")
    for key in _REQUIRED + _EXTENSIONS:
        if decoded.get(key) in (None, ""):
            raise MalformedMessage(f"attribute {key!r} is missing")
    try:
        # What the SDK's structured-mode read does (`JSONFormat.read`), on the object decoded
        # above rather than the bytes again: its checks of every attribute, one JSON parse.
        attributes = dict(decoded)
        data = attributes.pop("data", None)
        if data is None:  # base64 data is never a JSON object: refused below all the same
            attributes.pop("data_base64", None)
        attributes["time"] = isoparse(attributes["time"])
        event = CloudEvent(attributes, data)
        attrs = event.get_attributes()
        data = event.get_data()
        if not isinstance(data, dict):
            raise MalformedMessage("data is not a JSON object")
        seq, prevseq = int(attrs["liangdiseq"]), int(attrs.get("liangdiprevseq") or 0)
    except MalformedMessage:
        raise
    except Exception as exc:  # the SDK raises several types for bad attributes
        raise MalformedMessage(f"invalid CloudEvent: {exc}") from None
    if attrs["liangdidir"] not in (O2H, H2O):
        raise MalformedMessage(f"direction {attrs['liangdidir']!r} is neither o2h nor h2o")
    if seq < 1 or prevseq < 0 or prevseq >= seq:
        raise MalformedMessage(f"sequence {prevseq}->{seq} is not increasing")
    if seq > 2**63 - 1:  # positions are BIGINT in every tracking table
        raise MalformedMessage(f"sequence {seq} is beyond a 64-bit position")
    time = attrs["time"]
    if not isinstance(time, datetime):
        time = datetime.fromisoformat(str(time))
    return Envelope(
        id=attrs["id"],
        source=attrs["source"],
        type=attrs["type"],
        subject=attrs["subject"],
        time=time,
        data=data,
        from_place=str(attrs["liangdifrom"]),
        to_place=str(attrs["liangdito"]),
        direction=attrs["liangdidir"],
        stream=str(attrs["liangdistream"]),
        seq=seq,
        prevseq=prevseq,
        keyid=str(attrs.get("liangdikeyid") or ""),
        signature=str(attrs.get("liangdisig") or ""),
    )
