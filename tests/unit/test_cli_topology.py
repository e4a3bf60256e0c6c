"""`liangdi up`'s topology, dev secrets and run.json, without starting anything."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from liangdi_cli import devkeys, runfile
from liangdi_cli.main import app
from liangdi_cli.topology import DEFAULT_TOPOLOGY, nats_port, places, service_env
from shared.config import InflowSettings, OutflowSettings, SyncSettings

SETTINGS = {"outflow": OutflowSettings, "inflow": InflowSettings, "sync": SyncSettings}


def test_default_topology_ports_and_places() -> None:
    assert {s.name: s.port(8000) for s in DEFAULT_TOPOLOGY} == {
        "sync": 8000,
        "outflow-371326": 8001,
        "inflow-310115": 8002,
        "inflow-310112": 8003,
    }
    assert places() == ["371326", "310115", "310112"]
    assert nats_port(8000) == 4223


def test_nats_never_lands_on_4222() -> None:
    assert nats_port(9000) == 5223
    with pytest.raises(ValueError, match="4222"):
        nats_port(7999)


def test_dev_secrets_are_persistent_and_valid(tmp_path: Path) -> None:
    first = devkeys.load_or_create(tmp_path, ["371326", "310115"])
    again = devkeys.load_or_create(tmp_path, ["371326", "310115"])
    assert first == again
    assert len(base64.b64decode(first.cipher_key)) == 32
    assert (tmp_path / devkeys.SECRETS_FILE).stat().st_mode & 0o077 == 0
    for pair in first.keys.values():
        private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(pair["private"]))
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        assert base64.b64encode(public).decode() == pair["public"]
    # A new place gets a key; existing keys survive (old signatures stay valid).
    roles = {"371326": ["origin"], "310115": ["host"], "310101": ["host"]}
    more = devkeys.load_or_create(tmp_path, ["371326", "310115", "310101"], roles=roles)
    assert more.keys["371326"] == first.keys["371326"]
    assert [e.partition("=")[0].rpartition(":")[2] for e in more.trusted_keys.split(",")] == [
        "371326",
        "310115",
        "310101",
    ]


def test_service_env_is_accepted_by_settings(tmp_path: Path, monkeypatch) -> None:
    dev = devkeys.load_or_create(tmp_path, places())
    for spec in DEFAULT_TOPOLOGY:
        env = service_env(
            spec,
            var_dir=tmp_path,
            nats_url="nats://127.0.0.1:4223",
            jwt_secret=dev.jwt_secret,
            cipher_key=dev.cipher_key,
            signing_keys=dev.signing_keys,
            trusted_keys=dev.trusted_keys,
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if spec.place is None:
            monkeypatch.delenv("LIANGDI_PLACE", raising=False)
            monkeypatch.delenv("LIANGDI_SIGNING_KEY", raising=False)
        settings = SETTINGS[spec.kind]()
        assert settings.database_url.endswith(f"/{spec.name}.db")
        assert settings.nats_url == "nats://127.0.0.1:4223"
        assert getattr(settings, "place", None) == spec.place


def test_runfile_round_trip(tmp_path: Path) -> None:
    nats = runfile.ProcInfo("nats", 1, 4223, "nats://127.0.0.1:4223", "n.log", "x")
    svc = runfile.ProcInfo("sync", 2, 8000, "http://127.0.0.1:8000", "s.log")
    info = runfile.RunInfo(str(tmp_path), 8000, True, nats, [svc])
    runfile.write(tmp_path, info)
    assert runfile.read(tmp_path) == info
    assert json.loads(runfile.path(tmp_path).read_text())["services"][0]["port"] == 8000
    runfile.remove(tmp_path)
    runfile.remove(tmp_path)  # idempotent
    assert runfile.read(tmp_path) is None


def test_cli_help_and_status_without_run(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "status", "restart", "rebuild", "demo", "token"):
        assert command in result.output
    assert runner.invoke(app, ["status", "--var-dir", str(tmp_path)]).exit_code == 1
    assert runner.invoke(app, ["down", "--var-dir", str(tmp_path)]).exit_code == 0
    restart = runner.invoke(app, ["restart", "sync", "--var-dir", str(tmp_path)])
    assert restart.exit_code == 1 and "no supervisor running" in restart.output


def test_each_service_gets_its_own_nats_user(tmp_path: Path, monkeypatch) -> None:
    from liangdi_cli import natsauth

    dev = devkeys.load_or_create(tmp_path, places())
    assert set(dev.nats_passwords) == {"sync", *places()}
    assert len(set(dev.nats_passwords.values())) == len(dev.nats_passwords)
    assert devkeys.load_or_create(tmp_path, places()).nats_passwords == dev.nats_passwords
    assert natsauth.roles_of(DEFAULT_TOPOLOGY) == (["371326"], ["310115", "310112"])
    seen = {}
    for spec in DEFAULT_TOPOLOGY:
        env = service_env(
            spec,
            var_dir=tmp_path,
            nats_url="nats://127.0.0.1:4223",
            jwt_secret=dev.jwt_secret,
            cipher_key=dev.cipher_key,
            signing_keys=dev.signing_keys,
            trusted_keys=dev.trusted_keys,
            nats_password=dev.nats_passwords[spec.place or "sync"],
        )
        for name in ("LIANGDI_PLACE", "LIANGDI_SIGNING_KEY"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = SETTINGS[spec.kind]()
        seen[settings.nats_user] = settings.nats_password.get_secret_value()
        assert settings.nats_password.get_secret_value() not in repr(settings)  # never logged
    assert seen == {
        "sync": dev.nats_passwords["sync"],
        "place-371326": dev.nats_passwords["371326"],
        "place-310115": dev.nats_passwords["310115"],
        "place-310112": dev.nats_passwords["310112"],
    }
    # The server side of the same secrets: a variable per user, referenced by the config.
    config = natsauth.render(*natsauth.roles_of(DEFAULT_TOPOLOGY))
    for user in dev.nats_passwords:
        assert "$" + natsauth.password_variable(user) in config
    assert not [pw for pw in dev.nats_passwords.values() if pw in config]


def test_up_gives_every_service_the_places_file_with_its_dev_keys(
    tmp_path: Path, monkeypatch
) -> None:
    from liangdi_cli.topology import places_setting, write_trust_file
    from shared.security.live_trust import trust_registry
    from shared.security.signing import Signer
    from tests.security.messages import departure

    dev = devkeys.load_or_create(tmp_path, places(), roles=devkeys.place_roles())
    path = write_trust_file(tmp_path, DEFAULT_TOPOLOGY, dev)
    for spec in DEFAULT_TOPOLOGY:
        env = service_env(
            spec,
            var_dir=tmp_path,
            nats_url="nats://127.0.0.1:4223",
            jwt_secret=dev.jwt_secret,
            cipher_key=dev.cipher_key,
            signing_keys=dev.signing_keys,
            trusted_keys="",
            sealing_keys=dev.sealing_keys,
            topology_file=str(path),
            exchange_places=places_setting(DEFAULT_TOPOLOGY),
        )
        for name in ("LIANGDI_PLACE", "LIANGDI_SIGNING_KEY", "LIANGDI_PLACES"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = SETTINGS[spec.kind]()
        assert settings.topology_file == str(path)
        if spec.place is None:
            assert settings.places == "origin:371326,host:310115,host:310112"
    # The file carries the public halves: a fact the origin signs is trusted, in its role only.
    trust = trust_registry(SETTINGS["sync"]())
    trust.verify(Signer("371326", dev.signing_keys["371326"]).sign(departure("371326", "310115")))
    assert trust.roles_of("310115") == {"host"}
    assert "平邑县" in path.read_text(encoding="utf-8")
    assert not [key for key in dev.signing_keys.values() if key in path.read_text()]
