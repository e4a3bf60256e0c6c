"""Dead letters, kept in the sync service's own database: the original bytes, why, where from.

Ingested from the `LIANGDI_DEADLETTER` stream by a durable consumer; a row is written (once per
DLQ stream sequence) before the message is acknowledged, so none is lost. Nothing is ever deleted:
a retry republishes the original bytes and records who and when; a discard records who, when
and why. The bytes may hold personal data: they are encrypted at rest when a cipher key is set,
and lists show the message with ID numbers, phones and names masked.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.validation.phone import mask_phone
from shared.validation.resident_id import mask_resident_id

metadata = sa.MetaData()
BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")

dead_letters = sa.Table(
    "sync_dead_letters",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("dlq_seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("receiver", sa.String(40), nullable=False, index=True),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("from_place", sa.String(20), nullable=False),
    sa.Column("to_place", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("stream_seq", sa.BigInteger),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reason_class", sa.String(30), nullable=False),
    sa.Column("retry_of", sa.String(36)),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("state", sa.String(12), nullable=False, index=True),
    sa.Column("retries", sa.Integer, nullable=False, default=0),
    sa.Column("last_retried_at", sa.DateTime(timezone=True)),
    sa.Column("last_retried_by", sa.String(200)),
    sa.Column("discarded_at", sa.DateTime(timezone=True)),
    sa.Column("discarded_by", sa.String(200)),
    sa.Column("discard_reason", sa.Text),
)
actions = sa.Table(
    "sync_dead_letter_actions",
    metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("dead_letter_id", sa.String(36), nullable=False, index=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text),
)
OPEN, RETRIED, DISCARDED = "open", "retried", "discarded"
_PERSONAL = {"resident_id": mask_resident_id, "phone": mask_phone}


class DeadLetterStore:
    def __init__(self, engine: sa.Engine, cipher_key: str = ""):
        self.engine = engine
        self._aead = AESGCM(base64.b64decode(cipher_key)) if cipher_key else None
        metadata.create_all(engine)

    def _seal(self, raw: bytes) -> bytes:
        if self._aead is None:
            return raw
        nonce = os.urandom(12)
        return b"G1" + nonce + self._aead.encrypt(nonce, raw, None)

    def _open(self, stored: bytes) -> bytes:
        if self._aead is None or not stored.startswith(b"G1"):
            return stored
        return self._aead.decrypt(stored[2:14], stored[14:], None)

    def record(self, dlq_seq: int, headers: dict[str, str], raw: bytes) -> bool:
        """Stores one dead letter; False when this DLQ sequence was stored before."""
        receiver = headers.get("Liangdi-Receiver", "?:?")
        service, _, to_place = receiver.partition(":")
        subject = headers.get("Liangdi-Subject", "")
        parts = subject.split(".")
        direction = headers.get("Liangdi-Direction") or (parts[2] if len(parts) > 4 else "")
        with self.engine.begin() as conn:
            seen = conn.execute(
                sa.select(dead_letters.c.id).where(dead_letters.c.dlq_seq == dlq_seq)
            ).first()
            if seen:
                return False
            conn.execute(
                dead_letters.insert().values(
                    id=str(uuid.uuid4()),
                    dlq_seq=dlq_seq,
                    receiver=receiver,
                    direction=direction or ("o2h" if service == "inflow" else "h2o"),
                    from_place=headers.get("Liangdi-From") or (parts[3] if len(parts) > 4 else ""),
                    to_place=to_place,
                    subject=subject,
                    stream_seq=int(headers.get("Liangdi-Stream-Seq") or 0) or None,
                    reason=headers.get("Liangdi-Reason", ""),
                    reason_class=headers.get("Liangdi-Reason-Class", "other"),
                    retry_of=headers.get("Liangdi-Retry-Of"),
                    data=self._seal(raw),
                    received_at=_now(),
                    state=OPEN,
                    retries=0,
                )
            )
        return True

    def summary(self) -> list[dict[str, Any]]:
        """Per link: open dead letters and the age of the oldest."""
        query = (
            sa.select(
                dead_letters.c.direction,
                dead_letters.c.from_place,
                dead_letters.c.to_place,
                sa.func.count().label("open"),
                sa.func.min(dead_letters.c.received_at).label("oldest"),
            )
            .where(dead_letters.c.state == OPEN)
            .group_by(dead_letters.c.direction, dead_letters.c.from_place, dead_letters.c.to_place)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        now = _now()
        return [
            {
                "direction": row.direction,
                "from_place": row.from_place,
                "to_place": row.to_place,
                "open": row.open,
                "oldest_age_seconds": round((now - _aware(row.oldest)).total_seconds(), 1),
            }
            for row in rows
        ]

    def counts(self) -> dict[tuple[str, str, str, str], int]:
        """Dead letters by (direction, from, to, state): for metrics."""
        query = sa.select(
            dead_letters.c.direction,
            dead_letters.c.from_place,
            dead_letters.c.to_place,
            dead_letters.c.state,
            sa.func.count(),
        ).group_by(
            dead_letters.c.direction,
            dead_letters.c.from_place,
            dead_letters.c.to_place,
            dead_letters.c.state,
        )
        with self.engine.connect() as conn:
            return {(r[0], r[1], r[2], r[3]): r[4] for r in conn.execute(query)}

    def page(
        self, *, state: str | None, direction: str | None, from_place: str | None,
        to_place: str | None, offset: int, limit: int,
    ) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
        where = []
        for column, value in (
            (dead_letters.c.state, state),
            (dead_letters.c.direction, direction),
            (dead_letters.c.from_place, from_place),
            (dead_letters.c.to_place, to_place),
        ):
            if value:
                where.append(column == value)
        with self.engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(dead_letters).where(*where)
            ).scalar_one()
            rows = conn.execute(
                sa.select(dead_letters)
                .where(*where)
                .order_by(dead_letters.c.received_at, dead_letters.c.dlq_seq)
                .offset(offset)
                .limit(limit)
            ).all()
        return total, [self._view(row) for row in rows]

    def get(self, dead_letter_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(dead_letters).where(dead_letters.c.id == dead_letter_id)
            ).first()
        return self._view(row) | {"raw": self._open(row.data)} if row else None

    def open_ids(self, **link: str | None) -> list[str]:
        where = [dead_letters.c.state == OPEN]
        for name, value in link.items():
            if value:
                where.append(dead_letters.c[name] == value)
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(dead_letters.c.id).where(*where).order_by(dead_letters.c.dlq_seq)
                ).scalars()
            )

    def mark_retried(self, dead_letter_id: str, by: str) -> None:
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                dead_letters.update()
                .where(dead_letters.c.id == dead_letter_id)
                .values(
                    state=RETRIED,
                    retries=dead_letters.c.retries + 1,
                    last_retried_at=now,
                    last_retried_by=by,
                )
            )
            conn.execute(
                actions.insert().values(
                    dead_letter_id=dead_letter_id, action="retry", by=by, at=now
                )
            )

    def discard(self, dead_letter_id: str, by: str, reason: str) -> None:
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                dead_letters.update()
                .where(dead_letters.c.id == dead_letter_id)
                .values(state=DISCARDED, discarded_at=now, discarded_by=by, discard_reason=reason)
            )
            conn.execute(
                actions.insert().values(
                    dead_letter_id=dead_letter_id, action="discard", by=by, at=now, reason=reason
                )
            )

    def history(self, dead_letter_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(actions)
                .where(actions.c.dead_letter_id == dead_letter_id)
                .order_by(actions.c.id)
            ).all()
        return [
            {"action": r.action, "by": r.by, "at": r.at.isoformat(), "reason": r.reason}
            for r in rows
        ]

    def _view(self, row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "direction": row.direction,
            "from_place": row.from_place,
            "to_place": row.to_place,
            "receiver": row.receiver,
            "subject": row.subject,
            "stream_seq": row.stream_seq,
            "reason": row.reason,
            "reason_class": row.reason_class,
            "retry_of": row.retry_of,
            "received_at": _aware(row.received_at).isoformat(),
            "state": row.state,
            "retries": row.retries,
            "last_retried_at": row.last_retried_at and _aware(row.last_retried_at).isoformat(),
            "last_retried_by": row.last_retried_by,
            "discarded_at": row.discarded_at and _aware(row.discarded_at).isoformat(),
            "discarded_by": row.discarded_by,
            "discard_reason": row.discard_reason,
            "message": masked_message(self._open(row.data)),
        }


def masked_message(raw: bytes) -> Any:
    """The message for an operator's eyes: JSON with personal fields masked, else a short text."""
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or JSON nested beyond what Python holds
        return {"unparsed": _mask_digits(raw[:300].decode("utf-8", "replace"))}
    if isinstance(decoded, dict) and isinstance(decoded.get("data"), dict):
        data = dict(decoded["data"])
        for key, mask in _PERSONAL.items():
            if isinstance(data.get(key), str):
                data[key] = mask(data[key])
        if isinstance(data.get("name"), str) and data["name"]:
            data["name"] = data["name"][0] + "*" * (len(data["name"]) - 1)
        decoded = decoded | {"data": data}
        decoded.pop("liangdisig", None)
        return decoded
    return {"unparsed": _mask_digits(json.dumps(decoded, ensure_ascii=False)[:300])}


def _mask_digits(text: str) -> str:
    """Long digit runs (ID numbers, phones) never leave unmasked, even in garbage."""
    out, run = [], 0
    for char in text:
        run = run + 1 if char.isdigit() else 0
        out.append("*" if run > 6 else char)
    return "".join(out)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
