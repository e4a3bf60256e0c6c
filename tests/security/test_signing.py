"""Ed25519 signatures on envelopes and the registry of trusted place keys (with rotation)."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.envelope import parse_envelope
from shared.security.signing import (
    SignatureRejected,
    Signer,
    TrustRegistry,
    generate_keypair,
    public_key_of,
)
from tests.security.messages import departure, tampered

ORIGIN, HOST = "371326", "310115"
ORIGIN_OLD, ORIGIN_NEW, HOST_KEY, STRANGER = (generate_keypair() for _ in range(4))


def registry() -> TrustRegistry:
    return TrustRegistry.parse(
        f"origin:{ORIGIN}={ORIGIN_OLD[1]}, origin:{ORIGIN}={ORIGIN_NEW[1]}, "
        f"host:{HOST}={HOST_KEY[1]}"
    )


def signed(private: str, place: str = ORIGIN, **kwargs: object):  # type: ignore[no-untyped-def]
    return Signer(place, private).sign(departure(ORIGIN, HOST, **kwargs))


def test_both_keys_of_a_rotating_place_verify_and_survive_the_wire() -> None:
    trust = registry()
    for private, _ in (ORIGIN_OLD, ORIGIN_NEW):
        envelope = parse_envelope(signed(private).to_bytes())
        trust.verify(envelope)
        assert envelope.keyid.startswith(f"{ORIGIN}:")


def test_a_key_dropped_after_rotation_no_longer_verifies() -> None:
    after = TrustRegistry.parse(f"origin:{ORIGIN}={ORIGIN_NEW[1]}")
    after.verify(signed(ORIGIN_NEW[0]))
    with pytest.raises(SignatureRejected, match="not trusted"):
        after.verify(signed(ORIGIN_OLD[0]))


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda: departure(ORIGIN, HOST), "not signed"),
        (lambda: signed(STRANGER[0]), "not trusted"),
        (lambda: signed(HOST_KEY[0], place=HOST), f"signed by {HOST} but claims .* {ORIGIN}"),
        (
            # the host's key relabelled with the origin's place in the key id
            lambda: dataclasses.replace(
                signed(HOST_KEY[0], place=HOST), keyid=f"{ORIGIN}:{HOST_KEY[1][:12]}"
            ),
            "not trusted",
        ),
        (lambda: tampered(signed(ORIGIN_OLD[0]), phone="13900000000"), "does not match"),
        (lambda: dataclasses.replace(signed(ORIGIN_OLD[0]), to_place="310112"), "does not match"),
        (lambda: dataclasses.replace(signed(ORIGIN_OLD[0]), seq=2, prevseq=1), "does not match"),
        (
            lambda: dataclasses.replace(
                signed(ORIGIN_OLD[0]), signature=signed(ORIGIN_NEW[0]).signature
            ),
            "does not match",
        ),
        (
            lambda: dataclasses.replace(signed(ORIGIN_OLD[0]), signature="@@not base64@@"),
            "does not match",
        ),
    ],
    ids=[
        "unsigned",
        "untrusted key",
        "other place's key",
        "relabelled key id",
        "tampered data",
        "readdressed",
        "resequenced",
        "signature of another message",
        "garbage signature",
    ],
)
def test_forgeries_are_rejected_with_a_reason(forge, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignatureRejected, match=reason):
        registry().verify(parse_envelope(forge().to_bytes()))


def test_key_ids_and_parsing() -> None:
    private, public = generate_keypair()
    assert public_key_of(private) == public
    assert Signer(ORIGIN, private).keyid == f"{ORIGIN}:{public[:12]}"
    assert not TrustRegistry.parse("")
    assert registry()


@settings(max_examples=200, deadline=None)
@given(forged=st.binary(min_size=1, max_size=96), flip=st.integers(min_value=0, max_value=63))
def test_any_forged_or_altered_signature_is_refused_with_its_reason(
    forged: bytes, flip: int
) -> None:
    """Whatever bytes stand in the signature (of any length but none, which is "not signed"; or
    the true one with one bit changed), the check refuses them as a bad signature: never
    another error, never accepted; the true signature passes."""
    trust = registry()
    envelope = signed(ORIGIN_NEW[0])
    trust.verify(envelope)
    true = bytearray(base64.b64decode(envelope.signature))
    true[flip] ^= 0x01
    for signature in (forged, bytes(true)):
        fake = envelope.with_signature(envelope.keyid, base64.b64encode(signature).decode())
        with pytest.raises(SignatureRejected, match="does not match"):
            trust.verify(fake)
