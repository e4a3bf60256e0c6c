"""Development secrets for the embedded stack: generated once, kept in var/.

These are for a developer's machine only. Production secrets come from the
operator's secret store through the same LIANGDI_* variables.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liangdi_cli.natsauth import password_variable, roles_of
from liangdi_cli.topology import DEFAULT_TOPOLOGY, ServiceSpec
from shared.security.sealing import generate_sealing_keypair

SECRETS_FILE = "dev-secrets.json"


@dataclass(frozen=True)
class DevSecrets:
    jwt_secret: str
    cipher_key: str  # base64 of 32 random bytes (AES-256)
    identity_key: str  # keys member ids derived from ID numbers
    keys: dict[str, dict[str, str]]  # place -> {"private": b64 raw, "public": b64 raw}
    # NATS user passwords: "sync" and each place code (liangdi_cli/natsauth.py names the users)
    nats_passwords: dict[str, str] = field(default_factory=dict)
    # place -> its roles ("origin", "host"): a trusted key speaks only in its place's roles
    roles: dict[str, list[str]] = field(default_factory=dict)
    # place -> {"private", "public"}: X25519 keys sealing personal fields on the wire
    sealing: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def signing_keys(self) -> dict[str, str]:
        return {place: pair["private"] for place, pair in self.keys.items()}

    @property
    def trusted_keys(self) -> str:
        return ",".join(
            f"{role}:{place}={pair['public']}"
            for place, pair in self.keys.items()
            for role in self.roles.get(place, ())
        )

    @property
    def sealing_keys(self) -> dict[str, str]:
        return {place: pair["private"] for place, pair in self.sealing.items()}

    @property
    def sealing_peers(self) -> str:
        return ",".join(f"{place}={pair['public']}" for place, pair in self.sealing.items())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def new_key_pair() -> dict[str, str]:
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"private": _b64(raw_private), "public": _b64(raw_public)}


def place_roles(topology: Iterable[ServiceSpec] = DEFAULT_TOPOLOGY) -> dict[str, list[str]]:
    """Each place's roles in a topology: outflow places are origins, inflow places hosts."""
    origins, hosts = roles_of(topology)
    roles: dict[str, list[str]] = {}
    for role, members in (("origin", origins), ("host", hosts)):
        for place in members:
            roles.setdefault(place, []).append(role)
    return roles


def new_nats_password() -> str:
    """32 ASCII letters (~182 bits). Letters only: nats-server reads a `$VARIABLE` password as a
    config value, so one starting with a digit or a sign is taken for a number and refused."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(32))


def load_or_create(
    var_dir: Path, places: list[str], roles: dict[str, list[str]] | None = None
) -> DevSecrets:
    """Read var/dev-secrets.json, creating it or adding missing places' keys.

    Keys are kept across runs because the event stores hold signatures made
    with them; regenerating would make old events untrusted.
    """
    path = var_dir / SECRETS_FILE
    data: dict = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    if "jwt_secret" not in data:
        data["jwt_secret"] = secrets.token_urlsafe(32)
        changed = True
    if "cipher_key" not in data:
        data["cipher_key"] = _b64(secrets.token_bytes(32))
        changed = True
    if "identity_key" not in data:
        data["identity_key"] = secrets.token_urlsafe(32)
        changed = True
    keys = data.setdefault("keys", {})
    for place in places:
        if place not in keys:
            keys[place] = new_key_pair()
            changed = True
    nats_passwords = data.setdefault("nats_passwords", {})
    for user in ("sync", *places):
        if not nats_passwords.get(user, "").isalpha():
            nats_passwords[user] = new_nats_password()
            changed = True
    sealing = data.setdefault("sealing_keys", {})
    for place in places:
        if place not in sealing:
            private, public = generate_sealing_keypair()
            sealing[place] = {"private": private, "public": public}
            changed = True
    if changed:
        var_dir.mkdir(parents=True, exist_ok=True)
        data["warning"] = "development only: never use these keys outside a developer machine"
        # Create with 0600 from the start rather than chmod afterwards.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
    return DevSecrets(
        jwt_secret=data["jwt_secret"],
        cipher_key=data["cipher_key"],
        identity_key=data["identity_key"],
        keys={place: keys[place] for place in places},
        nats_passwords={u: nats_passwords[u] for u in ("sync", *places)},
        roles=place_roles() if roles is None else roles,
        sealing={place: sealing[place] for place in places},
    )


def compose_env_lines(dev: DevSecrets) -> list[str]:
    """KEY=value lines for docker compose's ${...} interpolation (see docker-compose.yml)."""
    lines = [
        f"JWT_SECRET={dev.jwt_secret}",
        f"CIPHER_KEY={dev.cipher_key}",
        f"IDENTITY_KEY={dev.identity_key}",
        f"TRUSTED_KEYS={dev.trusted_keys}",
    ]
    lines += [f"SIGNING_KEY_{place}={key}" for place, key in dev.signing_keys.items()]
    lines.append(f"SEALING_PEERS={dev.sealing_peers}")
    lines += [f"SEALING_KEY_{place}={key}" for place, key in dev.sealing_keys.items()]
    # The same name serves the nats container (its config references it) and the service.
    lines += [f"{password_variable(user)}={pw}" for user, pw in dev.nats_passwords.items()]
    return lines
