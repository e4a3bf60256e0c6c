"""The places file (docs/operations.md, "Places"): one file for `liangdi up`, the services' trust
and the NATS permissions; a change to its keys is trusted at once, without a restart."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from liangdi_cli.natsauth import render
from liangdi_cli.topology import DEFAULT_TOPOLOGY, from_file, from_places, places_setting
from shared.security.live_trust import LiveSealer, LiveTrust, sealer_for, trust_registry
from shared.security.sealing import Sealer, generate_sealing_keypair
from shared.security.signing import SignatureRejected, Signer, generate_keypair
from shared.topology_file import (
    Place,
    TopologyError,
    TopologySource,
    load,
    parse,
    places_spec,
    with_role,
    write,
)
from tests.security.messages import departure

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "topology.example.toml"
ORIGIN, HOST, NEW_ORIGIN = "371326", "310115", "371321"


def test_the_example_file_is_the_default_local_stack_and_the_shipped_nats_users() -> None:
    places = load(EXAMPLE)
    assert [(p.code, p.name, p.roles) for p in places] == [
        ("371326", "平邑县", ("origin",)),
        ("310115", "浦东新区", ("host",)),
        ("310112", "闵行区", ("host",)),
    ]
    assert from_file(EXAMPLE) == DEFAULT_TOPOLOGY
    # The sync service acts on these places (LIANGDI_PLACES's form).
    assert places_spec(EXAMPLE) == "origin:371326,host:310115,host:310112"
    assert places_spec("") == ""
    authorization = ROOT / "deploy" / "nats" / "permissions" / "authorization.conf"
    assert render(with_role(places, "origin"), with_role(places, "host")) == (
        authorization.read_text()
    )


def test_another_place_is_one_more_table(tmp_path: Path) -> None:
    text = EXAMPLE.read_text() + '\n[[places]]\ncode = "371302"\nname = "兰山区"\nrole = "origin"\n'
    path = tmp_path / "t.toml"
    path.write_text(text)
    topology = from_file(path)
    assert [s.name for s in topology] == [
        "sync",
        "outflow-371326",
        "inflow-310115",
        "inflow-310112",
        "outflow-371302",
    ]
    assert [s.port(8000) for s in topology] == [8000, 8001, 8002, 8003, 8004]
    assert places_setting(topology) == ("origin:371326,host:310115,host:310112,origin:371302")
    # A place in both roles runs both services.
    both = from_places([Place("310101", ("origin", "host"))])
    assert [s.name for s in both] == ["sync", "outflow-310101", "inflow-310101"]


def test_the_generator_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    write(path, [Place("371326", ("origin",)), Place("320106", ("host",))])
    sys.path.insert(0, str(ROOT / "deploy" / "nats" / "permissions"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    assert "liangdi.ev.h2o.320106.>" not in render(["371326"], ["310115"])
    out = tmp_path / "out"
    saved = sys.stdout
    with out.open("w") as sys.stdout:
        assert generate.main(["--topology", str(path)]) == 0
    sys.stdout = saved
    assert out.read_text() == render(["371326"], ["320106"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[places]]\ncode = "31011"\nroles = ["host"]\n', "6-digit"),
        ('[[places]]\ncode = "310115"\nroles = ["guest"]\n', "origin and/or host"),
        ('[[places]]\ncode = "310115"\n', "origin and/or host"),
        ('[[places]]\ncode = "310115"\nroles = ["host"]\nkey = "x"\n', "unknown keys"),
        ('[[places]]\ncode = "310115"\nrole = "host"\n' * 2, "named twice"),
        ("[[places]\n", "not valid TOML"),
    ],
)
def test_mistakes_are_named(text: str, problem: str) -> None:
    with pytest.raises(TopologyError, match=problem):
        parse(text)


def _bump(path: Path) -> None:
    # Some filesystems keep mtime in whole seconds: make the change visible regardless.
    stamp = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_a_new_place_is_trusted_as_soon_as_the_file_names_it(tmp_path: Path) -> None:
    origin, new = generate_keypair(), generate_keypair()
    path = tmp_path / "topology.toml"
    write(path, [Place(ORIGIN, ("origin",), signing_keys=(origin[1],))])
    # A long interval: the file is looked at again only because the key is unknown.
    trust = LiveTrust("", TopologySource(path, interval=3600))
    trust.verify(Signer(ORIGIN, origin[0]).sign(departure(ORIGIN, HOST)))
    fact = Signer(NEW_ORIGIN, new[0]).sign(departure(NEW_ORIGIN, HOST))
    with pytest.raises(SignatureRejected, match="not trusted"):
        trust.verify(fact)
    write(
        path,
        [
            Place(ORIGIN, ("origin",), signing_keys=(origin[1],)),
            Place(NEW_ORIGIN, ("origin",), signing_keys=(new[1],)),
        ],
    )
    _bump(path)
    trust.verify(fact)
    assert trust.roles_of(NEW_ORIGIN) == {"origin"}
    # The role still binds: the new origin's key cannot speak as a host.
    as_host = Signer(NEW_ORIGIN, new[0]).sign(
        dataclasses.replace(departure(NEW_ORIGIN, HOST), direction="h2o")
    )
    with pytest.raises(SignatureRejected, match="not trusted as host"):
        trust.verify(as_host)


def test_a_broken_save_keeps_the_last_good_keys(tmp_path: Path) -> None:
    origin = generate_keypair()
    path = tmp_path / "topology.toml"
    write(path, [Place(ORIGIN, ("origin",), signing_keys=(origin[1],))])
    source = TopologySource(path, interval=0)
    trust = LiveTrust("", source)
    path.write_text("[[places]\n")  # an editor's half-saved file
    _bump(path)
    trust.verify(Signer(ORIGIN, origin[0]).sign(departure(ORIGIN, HOST)))
    assert [p.code for p in source.places()] == [ORIGIN]


def test_keys_from_the_variable_still_count_beside_the_file(tmp_path: Path) -> None:
    origin, other = generate_keypair(), generate_keypair()
    path = tmp_path / "topology.toml"
    write(path, [Place(ORIGIN, ("origin",), signing_keys=(origin[1],))])
    settings = SimpleNamespace(topology_file=str(path), trusted_keys=f"origin:371302={other[1]}")
    trust = trust_registry(settings)
    trust.verify(Signer(ORIGIN, origin[0]).sign(departure(ORIGIN, HOST)))
    trust.verify(Signer("371302", other[0]).sign(departure("371302", HOST)))
    without_file = trust_registry(SimpleNamespace(topology_file="", trusted_keys=""))
    assert without_file is None


def test_a_new_places_sealed_fields_open_as_soon_as_the_file_names_it(tmp_path: Path) -> None:
    host_private, host_public = generate_sealing_keypair()
    new_private, new_public = generate_sealing_keypair()
    path = tmp_path / "topology.toml"
    write(path, [Place(HOST, ("host",), sealing_keys=(host_public,))])
    settings = SimpleNamespace(
        topology_file=str(path),
        place=HOST,
        sealing_key=host_private,
        sealing_peers="",
        environment="development",
    )
    host = sealer_for(settings)
    assert isinstance(host, LiveSealer)
    sealed = Sealer(NEW_ORIGIN, [new_private], {HOST: [host_public]}).seal(
        departure(NEW_ORIGIN, HOST)
    )
    assert sealed.data["name"].startswith("sealed:")
    with pytest.raises(ValueError, match="not one of"):
        host.open(sealed)
    write(
        path,
        [
            Place(HOST, ("host",), sealing_keys=(host_public,)),
            Place(NEW_ORIGIN, ("origin",), sealing_keys=(new_public,)),
        ],
    )
    _bump(path)
    opened = host.open(sealed)
    assert not opened.data["name"].startswith("sealed:")
    # And the host seals for the new place too, without a restart.
    reply = host.seal(departure(HOST, NEW_ORIGIN))
    assert reply.data["name"].startswith("sealed:")
