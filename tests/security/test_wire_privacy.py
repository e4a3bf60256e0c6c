"""No personal data in clear on the wire or in JetStream (docs/security.md, "Sealed personal data").

A real exchange (origin 371326 and host 310115 in-process, real nats-server): departures go to
the host, an unannounced arrival goes back to the origin, a genuine message replayed elsewhere is
dead-lettered. Then the nats-server's store directory (events and dead-letter streams, as files)
holds no ID number, phone, name or address, in UTF-8 or JSON-escaped, while each side still got
the names right.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import uuid
from contextlib import ExitStack
from pathlib import Path

import nats
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.contracts.envelope import parse_envelope
from shared.messaging.topology import EVENTS_STREAM, event_subject
from shared.security.sealing import PREFIX, Sealer, SealingError, generate_sealing_keypair
from tests.security.messages import departure
from tests.support.backends import NatsServer
from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, exchange_keys, keyed_pair, wait_until

ORIGIN, HOST, OTHER_HOST = "371326", "310115", "310112"


def forms(value: str) -> set[bytes]:
    """A value as it may sit in a file: UTF-8, and JSON-escaped (\\uXXXX)."""
    return {value.encode(), json.dumps(value).strip('"').encode()}


def store_bytes(store: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file())


async def _replay_elsewhere(url: str) -> str:
    """Takes a genuine (sealed, signed) message from the stream and republishes it onto another
    member's subject: the host dead-letters it as misaddressed, payload and all."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        msg = await js.get_msg(EVENTS_STREAM, 1)
        envelope = parse_envelope(msg.data)
        subject = event_subject(envelope.direction, envelope.from_place, envelope.to_place, "x")
        await js.publish(subject, msg.data, headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"})
        return envelope.id
    finally:
        await nc.close()


def test_personal_fields_cross_sealed_and_arrive_readable(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    keys = exchange_keys({ORIGIN: "origin", HOST: "host"})
    url = nats_server.url
    rng = random.Random(77)
    people = [member_body(rng, ORIGIN) | departure_body(HOST, rng) for _ in range(3)]
    stranger = member_body(rng, ORIGIN)
    with ExitStack() as stack:
        out, host = keyed_pair(stack, tmp_path, url, keys, ORIGIN, HOST)
        o_auth, h_auth = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
        for person in people:
            created = out.post(
                "/api/v1/members",
                json={k: person[k] for k in member_body(random.Random(1), ORIGIN)},
                headers=o_auth,
            )
            assert created.status_code == 201, created.text
            leaving = {k: person[k] for k in departure_body(HOST)}
            departed = out.post(
                f"/api/v1/members/{created.json()['member_id']}/departures",
                json=leaving,
                headers=o_auth,
            )
            assert departed.status_code == 201, departed.text
        unannounced = host.post(
            "/api/v1/arrivals/unannounced",
            json={
                "origin_place": ORIGIN,
                "name": stranger["name"],
                "resident_id": stranger["resident_id"],
                "phone": stranger["phone"],
                "reported_on": "2026-04-02",
            },
            headers=h_auth,
        )
        assert unannounced.status_code == 201, unannounced.text

        def hosted_names() -> set[str]:
            items = host.get("/api/v1/members?limit=100", headers=h_auth).json()["items"]
            return {item["name"] for item in items}

        # Each side received the people, with their names readable (opened on arrival).
        names = {p["name"] for p in people}
        wait_until(lambda: hosted_names() >= names, message="departures arrive, names opened")
        wait_until(
            lambda: any(
                a["name"] == stranger["name"]
                for a in out.get("/api/v1/arrivals", headers=o_auth).json()
            ),
            message="the unannounced arrival reaches the origin, opened",
        )
        replayed = asyncio.run(_replay_elsewhere(url))
        runtime = host.app.state.runtime
        wait_until(lambda: runtime.processor.counts["dead_letter"] >= 1, message="dead letter")
        hosted_id = next(
            i["member_id"]
            for i in host.get("/api/v1/members", headers=h_auth).json()["items"]
            if i["name"] == people[0]["name"]
        )
        full = host.get(f"/api/v1/members/{hosted_id}/personal-data", headers=h_auth).json()
        assert full["resident_id"] == people[0]["resident_id"]
        assert full["phone"] == people[0]["phone"]

    raw = store_bytes(nats_server.store)
    assert replayed.encode() in raw, "the dead letter is in the store"
    # The control: the search reads the messages (clear, non-personal fields are found).
    assert any(f in raw for f in forms(people[0]["employer"])), "the search sees the data"
    leaks = {
        f"{field} of {p['name']}": p[field]
        for p in [*people, stranger]
        for field in ("resident_id", "phone", "name", "host_address")
        if field in p and any(f in raw for f in forms(p[field]))
    }
    assert not leaks, f"personal data in clear in the JetStream store: {sorted(leaks)}"
    assert raw.count(PREFIX.encode()) >= 4 * len(people), "each personal field sealed"


def test_a_sealed_value_opens_only_for_its_receiver_message_and_field() -> None:
    origin, host, other = (generate_sealing_keypair() for _ in range(3))
    sender = Sealer(ORIGIN, [origin[0]], {HOST: [host[1]]}, required=True)
    receiver = Sealer(HOST, [host[0]], {ORIGIN: [origin[1]]})
    clear = departure(ORIGIN, HOST)
    sealed = sender.seal(clear)
    assert all(sealed.data[f].startswith(PREFIX) for f in ("name", "resident_id", "phone"))
    assert sealed.data["certificate_no"] == clear.data["certificate_no"]
    assert receiver.open(sealed).data == clear.data
    forgeries = {
        "moved to another message": dataclasses.replace(sealed, id=str(uuid.uuid4())),
        "swapped between fields": dataclasses.replace(
            sealed, data={**sealed.data, "name": sealed.data["phone"]}
        ),
    }
    for forged in forgeries.values():
        with pytest.raises(SealingError, match="cannot be opened"):
            receiver.open(forged)
    with pytest.raises(SealingError, match="not for"):
        Sealer(OTHER_HOST, [other[0]], {ORIGIN: [origin[1]]}).open(sealed)
    with pytest.raises(SealingError, match="lacks"):
        Sealer(HOST, [other[0]], {ORIGIN: [origin[1]]}).open(sealed)
    with pytest.raises(SealingError, match="no sealing key for"):
        sender.seal(departure(ORIGIN, OTHER_HOST))
    # Rotation: the receiver holds its new and old key; the sender seals to the new one.
    new = generate_sealing_keypair()
    rotated = Sealer(ORIGIN, [origin[0]], {HOST: [new[1], host[1]]}).seal(clear)
    assert Sealer(HOST, [new[0], host[0]], {ORIGIN: [origin[1]]}).open(rotated).data == clear.data


def test_sealed_values_follow_the_documented_formula_message_after_message() -> None:
    """Each message's key is derived anew (the key agreement is reused across messages): every
    field of several messages opens by the formula in `shared/security/sealing.py` alone."""
    origin, host = generate_sealing_keypair(), generate_sealing_keypair()
    sender = Sealer(ORIGIN, [origin[0]], {HOST: [host[1]]}, required=True)
    agreed = X25519PrivateKey.from_private_bytes(base64.b64decode(host[0])).exchange(
        X25519PublicKey.from_public_bytes(base64.b64decode(origin[1]))
    )
    keys = set()
    for _ in range(3):
        clear = departure(ORIGIN, HOST)
        sealed = sender.seal(clear)
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=f"liangdi-seal/v1|{ORIGIN}|{HOST}".encode(),
            info=sealed.id.encode(),
        ).derive(agreed)
        keys.add(key)
        for field in ("name", "resident_id", "phone"):
            token = base64.urlsafe_b64decode(sealed.data[field].rpartition(":")[2])
            opened = AESGCM(key).decrypt(token[:12], token[12:], f"{sealed.id}|{field}".encode())
            assert opened.decode() == clear.data[field]
    assert len(keys) == 3
