"""Ed25519 signatures on envelopes, checked against a registry of trusted place keys.

A place may have several valid keys at once (rotation); the key id is `<place>:<n>` where n is
the position of the key in that place's list.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.contracts.envelope import Envelope


class SignatureRejected(ValueError):
    pass


def generate_keypair() -> tuple[str, str]:
    """A new (private, public) pair, each base64 of the raw 32 bytes."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes_raw()
    raw_public = private.public_key().public_bytes_raw()
    return base64.b64encode(raw_private).decode(), base64.b64encode(raw_public).decode()


def public_key_of(private_b64: str) -> str:
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(private.public_key().public_bytes_raw()).decode()


class Signer:
    def __init__(self, place: str, private_b64: str):
        self._key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
        self.place = place
        self.keyid = f"{place}:{public_key_of(private_b64)[:12]}"

    def sign(self, envelope: Envelope) -> Envelope:
        unsigned = envelope.with_signature(self.keyid, "")
        signature = self._key.sign(unsigned.signing_bytes())
        return envelope.with_signature(self.keyid, base64.b64encode(signature).decode())


class TrustRegistry:
    """Public keys per place; parsed from `place=pub[,place=pub...]`."""

    def __init__(self, keys: dict[str, list[str]]):
        self._keys: dict[str, Ed25519PublicKey] = {}
        for place, publics in keys.items():
            for public in publics:
                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
                self._keys[f"{place}:{public[:12]}"] = key

    @classmethod
    def parse(cls, spec: str) -> TrustRegistry:
        keys: dict[str, list[str]] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            place, _, public = item.partition("=")
            keys.setdefault(place.strip(), []).append(public.strip())
        return cls(keys)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def verify(self, envelope: Envelope) -> None:
        if not envelope.signature:
            raise SignatureRejected("message is not signed")
        signer_place = envelope.keyid.partition(":")[0]
        if signer_place != envelope.from_place:
            raise SignatureRejected(
                f"signed by {signer_place} but claims to come from {envelope.from_place}"
            )
        key = self._keys.get(envelope.keyid)
        if key is None:
            raise SignatureRejected(f"key {envelope.keyid} is not trusted")
        unsigned = envelope.with_signature(envelope.keyid, "")
        try:
            key.verify(base64.b64decode(envelope.signature), unsigned.signing_bytes())
        except (InvalidSignature, ValueError):
            raise SignatureRejected("signature does not match the message") from None
