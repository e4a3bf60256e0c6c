"""Personal fields of wire facts, sealed for the receiving place only.

The events stream, the dead-letter stream and anyone administering NATS see facts in transit and
at rest; ID numbers, names, phones and addresses must not be readable there. Before a fact is
signed, each personal field is encrypted for the place it is addressed to:

    key   = HKDF-SHA256(X25519(sender's sealing key, receiver's public sealing key),
                        salt = "liangdi-seal/v1|<from>|<to>", info = <message id>)
    value = "sealed:v1:<sender key id>.<receiver key id>:" + base64url(nonce + AES-GCM(field))

with the message id and the field name as associated data, so a sealed value can be neither read
elsewhere nor moved to another message or field. The signature covers the sealed form; the
receiver verifies, then opens. Key ids (12 hex digits of SHA-256 of the public key) let several
keys be valid during a rotation (docs/security.md, "Sealed personal data").
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import replace
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.config import revealed
from shared.contracts.envelope import Envelope

PREFIX = "sealed:v1:"
# The personal fields of the wire contract (shared/contracts/events.py).
PERSONAL_FIELDS = ("name", "resident_id", "phone", "host_address", "household_address")


class SealingError(ValueError):
    """A fact cannot be sealed (no key for its receiver) or opened (not for us, or tampered)."""


def generate_sealing_keypair() -> tuple[str, str]:
    """A new X25519 (private, public) pair, each base64 of the raw 32 bytes."""
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    return base64.b64encode(private.private_bytes_raw()).decode(), base64.b64encode(public).decode()


def sealing_public_of(private_b64: str) -> str:
    private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(private.public_key().public_bytes_raw()).decode()


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:12]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _split(spec: str) -> list[str]:
    return [part.strip() for part in spec.split(",") if part.strip()]


class Sealer:
    """This place's sealing keys (the first seals, all open) and its peers' public keys (per
    place, the first is sealed to; all are accepted from that place while rotating)."""

    def __init__(
        self,
        place: str,
        private_keys: list[str],
        peers: dict[str, list[str]],
        *,
        required: bool = False,
    ):
        self.place, self.required = place, required
        self._own: dict[str, X25519PrivateKey] = {}
        for private in private_keys:
            key = X25519PrivateKey.from_private_bytes(base64.b64decode(private))
            self._own[key_id(sealing_public_of(private))] = key
        self._current = next(iter(self._own), None)
        self._peers: dict[str, list[tuple[str, X25519PublicKey]]] = {}
        for peer, publics in peers.items():
            for public in publics:
                key = X25519PublicKey.from_public_bytes(base64.b64decode(public))
                self._peers.setdefault(peer, []).append((key_id(public), key))
        # X25519 of a key pair is the same for every message (a tenth of a millisecond a
        # field): agreed once per (own key id, peer key id); HKDF makes each message's key.
        self._agreed: dict[tuple[str, str], bytes] = {}

    @classmethod
    def from_settings(
        cls, place: str, sealing_key: str, sealing_peers: str, *, required: bool = False
    ) -> Sealer:
        """`sealing_key`: base64 private key(s), comma separated; `sealing_peers`:
        `place=base64pub[,place=base64pub...]`."""
        peers: dict[str, list[str]] = {}
        for item in _split(sealing_peers):
            peer, _, public = item.partition("=")
            peers.setdefault(peer.strip(), []).append(public.strip())
        return cls(place, _split(sealing_key), peers, required=required)

    @property
    def configured(self) -> bool:
        return self._current is not None and bool(self._peers)

    def seal(self, envelope: Envelope) -> Envelope:
        """The envelope with its personal fields sealed for `envelope.to_place`."""
        fields = [f for f in PERSONAL_FIELDS if _clear_text(envelope.data.get(f))]
        if not fields:
            return envelope
        peer = self._peers.get(envelope.to_place)
        if self._current is None or not peer:
            if self.required:
                raise SealingError(f"no sealing key for {envelope.to_place}: personal data kept")
            return envelope  # development without sealing keys: clear, as documented
        peer_kid, peer_key = peer[0]
        aead = self._aead((self._current, peer_kid), peer_key, envelope, self.place)
        data = dict(envelope.data)
        for field in fields:
            nonce = os.urandom(12)
            sealed = aead.encrypt(nonce, data[field].encode(), _aad(envelope, field))
            token = base64.urlsafe_b64encode(nonce + sealed).decode()
            data[field] = f"{PREFIX}{self._current}.{peer_kid}:{token}"
        return replace(envelope, data=data)

    def open(self, envelope: Envelope) -> Envelope:
        """The envelope with every sealed field opened; SealingError if any cannot be."""
        sealed = {k: v for k, v in envelope.data.items() if is_sealed(v)}
        if not sealed:
            return envelope
        if envelope.to_place != self.place:
            raise SealingError(f"sealed for {envelope.to_place}, not for {self.place}")
        data = dict(envelope.data)
        aeads: dict[str, AESGCM] = {}  # one message key per key pair (the fields share it)
        for field, value in sealed.items():
            kids, _, token = value[len(PREFIX) :].partition(":")
            sender_kid, _, own_kid = kids.partition(".")
            if own_kid not in self._own:
                raise SealingError(f"{field} is sealed to key {own_kid}, which this place lacks")
            sender = dict(self._peers.get(envelope.from_place, [])).get(sender_kid)
            if sender is None:
                raise SealingError(
                    f"{field} is sealed with key {sender_kid}, not one of {envelope.from_place}'s"
                )
            try:
                raw = base64.urlsafe_b64decode(token)
                aead = aeads.get(kids) or aeads.setdefault(
                    kids, self._aead((own_kid, sender_kid), sender, envelope, envelope.from_place)
                )
                data[field] = aead.decrypt(raw[:12], raw[12:], _aad(envelope, field)).decode()
            except (InvalidTag, ValueError):
                raise SealingError(f"{field} cannot be opened: tampered or misdirected") from None
        return replace(envelope, data=data)

    def _aead(
        self, kids: tuple[str, str], other: X25519PublicKey, envelope: Envelope, sender: str
    ) -> AESGCM:
        """The message's key; `kids` is (own key id, the peer's key id)."""
        agreed = self._agreed.get(kids)
        if agreed is None:
            agreed = self._agreed[kids] = self._own[kids[0]].exchange(other)
        receiver = envelope.to_place
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=f"liangdi-seal/v1|{sender}|{receiver}".encode(),
            info=envelope.id.encode(),
        ).derive(agreed)
        return AESGCM(key)


def _clear_text(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not is_sealed(value)


def _aad(envelope: Envelope, field: str) -> bytes:
    return f"{envelope.id}|{field}".encode()


def seal(sealer: Sealer | None, envelope: Envelope) -> Envelope:
    """The relay's hook: personal fields sealed for the receiver (unchanged without a sealer)."""
    return sealer.seal(envelope) if sealer is not None else envelope


def open_sealed(sealer: Sealer | None, envelope: Envelope) -> Envelope:
    """The receiver's hook. A place's receiver always has a sealer (perhaps without keys, which
    then refuses sealed fields); only a reader that never uses personal data (the sync service's
    reconciler) has none and sees the sealed values as they are."""
    return sealer.open(envelope) if sealer is not None else envelope


def sealer_for(settings: Any) -> Sealer:
    """A place service's sealer. In production it refuses to send a personal field it cannot seal
    (and `check_deployment` refuses to start without keys); development without keys sends them
    in clear, as before (docs/security.md)."""
    production = settings.environment == "production"
    return Sealer.from_settings(
        settings.place, revealed(settings.sealing_key), settings.sealing_peers, required=production
    )


def sealing_problem(settings: Any) -> str:
    if not revealed(getattr(settings, "sealing_key", "")):
        return "LIANGDI_SEALING_KEY is not set: personal data would cross NATS in clear"
    if not getattr(settings, "sealing_peers", "") and not getattr(settings, "topology_file", ""):
        return "LIANGDI_SEALING_PEERS is not set: no place to seal personal data for"
    return ""
