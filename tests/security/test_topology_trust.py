"""A new origin county joins by an edit to the topology file: the running host trusts its signed,
sealed facts at once, with no restart (docs/operations.md, "Places")."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

from shared.security.sealing import Sealer, generate_sealing_keypair
from shared.security.signing import Signer, generate_keypair
from shared.topology_file import Place, write
from tests.security.messages import departure
from tests.security.test_role_bound_trust import _publish, letters_for
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until

ORIGIN, HOST, NEW_ORIGIN = "371326", "310115", "371321"


def test_a_place_added_to_the_file_is_trusted_without_restarting_its_peers(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    signing = {place: generate_keypair() for place in (ORIGIN, HOST, NEW_ORIGIN)}
    sealing = {place: generate_sealing_keypair() for place in (ORIGIN, HOST, NEW_ORIGIN)}

    def place(code: str, role: str) -> Place:
        return Place(
            code, (role,), signing_keys=(signing[code][1],), sealing_keys=(sealing[code][1],)
        )

    topology = tmp_path / "topology.toml"
    write(topology, [place(ORIGIN, "origin"), place(HOST, "host")])
    settings = settings_for(
        "inflow",
        f"sqlite:///{tmp_path}/h.db",
        nats_server.url,
        HOST,
        signing_key=signing[HOST][0],
        sealing_key=sealing[HOST][0],
        topology_file=str(topology),  # no LIANGDI_TRUSTED_KEYS, no LIANGDI_SEALING_PEERS
    )
    newcomer_sealer = Sealer(NEW_ORIGIN, [sealing[NEW_ORIGIN][0]], {HOST: [sealing[HOST][1]]})
    newcomer = Signer(NEW_ORIGIN, signing[NEW_ORIGIN][0])

    def from_newcomer(seed: int):  # noqa: ANN202 - an Envelope, signed over its sealed form
        return newcomer.sign(newcomer_sealer.seal(departure(NEW_ORIGIN, HOST, seed=seed)))

    with ExitStack() as stack:
        host = stack.enter_context(running("inflow", settings))
        headers = auth("host_operator", HOST)

        def hosted() -> set[str]:
            items = host.get("/api/v1/members?limit=500", headers=headers).json()["items"]
            return {item["origin_member_id"] for item in items}

        # Before the file names it, the newcomer is a stranger: its fact is a dead letter.
        early = from_newcomer(seed=3)
        asyncio.run(_publish(nats_server.url, [early]))
        letters = letters_for(nats_server.url, "inflow", HOST, {early.id})
        assert "not trusted" in letters[early.id]["Liangdi-Reason"]

        write(
            topology,
            [place(ORIGIN, "origin"), place(HOST, "host"), place(NEW_ORIGIN, "origin")],
        )
        welcome = from_newcomer(seed=4)
        asyncio.run(_publish(nats_server.url, [welcome]))
        wait_until(
            lambda: welcome.subject in hosted(),
            message="the new origin's departure applied by the running host",
        )
        assert early.subject not in hosted()
        member = next(
            item
            for item in host.get("/api/v1/members?limit=500", headers=headers).json()["items"]
            if item["origin_member_id"] == welcome.subject
        )
        # Its sealed name was opened with the sealing key the file gave a moment ago.
        expected = departure(NEW_ORIGIN, HOST, seed=4).data["name"]
        assert member["name"] == expected, member
