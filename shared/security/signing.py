"""Ed25519 signatures on envelopes, checked against a registry of trusted keys bound to roles.

A key vouches for one place in one or both roles: `origin` (an origin county: may send origin →
host facts, `o2h`) and/or `host` (a host district: may send `h2o`). So a host signing correctly
with its own key still cannot speak as an origin (docs/security.md, "Signed messages").

A place may have several valid keys at once (rotation); the key id is `<place>:<first 12
characters of the base64 public key>`.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.contracts.envelope import H2O, O2H, Envelope

ORIGIN_ROLE, HOST_ROLE = "origin", "host"
ROLES = (ORIGIN_ROLE, HOST_ROLE)
# Who may say a fact of each direction: origin → host facts only an origin county, and back.
ROLE_OF_DIRECTION = {O2H: ORIGIN_ROLE, H2O: HOST_ROLE}


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


def _role_and_place(label: str) -> tuple[str | None, str]:
    role, sep, place = label.strip().rpartition(":")
    if not sep:
        return None, place
    if role not in ROLES:
        raise ValueError(f"trusted key role {role!r} is neither 'origin' nor 'host'")
    return role, place


class TrustRegistry:
    """Public keys per role and place: `origin:371326=pub,host:310115=pub[,...]`.

    The old form `place=pub` is still read where it is unambiguous: when the same place is named
    with its role elsewhere in the list (for example a second key during a rotation). A place named
    only without a role is refused at start-up: a key that could speak in any role is the hole
    this registry closes.
    """

    def __init__(self, keys: dict[str, list[str]]):
        tagged: dict[str, set[str]] = {}
        for label in keys:
            role, place = _role_and_place(label)
            if role:
                tagged.setdefault(place, set()).add(role)
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._roles: dict[str, set[str]] = {}
        for label, publics in keys.items():
            role, place = _role_and_place(label)
            roles = {role} if role else tagged.get(place)
            if not roles:
                raise ValueError(
                    f"trusted key for {place} names no role: write origin:{place}=... or "
                    f"host:{place}=..."
                )
            for public in publics:
                keyid = f"{place}:{public[:12]}"
                self._keys[keyid] = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
                self._roles.setdefault(keyid, set()).update(roles)

    @classmethod
    def parse(cls, spec: str) -> TrustRegistry:
        keys: dict[str, list[str]] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            label, _, public = item.partition("=")
            keys.setdefault(label.strip(), []).append(public.strip())
        return cls(keys)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def knows(self, keyid: str) -> bool:
        return keyid in self._keys

    def roles_of(self, place: str) -> set[str]:
        """Every role some trusted key of `place` may speak in."""
        found: set[str] = set()
        for keyid, roles in self._roles.items():
            if keyid.partition(":")[0] == place:
                found |= roles
        return found

    def verify(self, envelope: Envelope) -> None:
        """Raises SignatureRejected unless a trusted key of the sender, in the role the message's
        direction needs, signed exactly this message."""
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
        needed = ROLE_OF_DIRECTION.get(envelope.direction)
        if needed not in self._roles[envelope.keyid]:
            raise SignatureRejected(
                f"{envelope.from_place} is not trusted as {needed or envelope.direction}: "
                f"its key {envelope.keyid} may speak as "
                f"{' and '.join(sorted(self._roles[envelope.keyid]))} only"
            )
