"""Which services `liangdi up` runs, on which ports, for which places.

The places come from a topology file (shared/topology_file.py; `--topology`, else
LIANGDI_TOPOLOGY_FILE, else `DEFAULT_TOPOLOGY`, the places of deploy/topology.example.toml): another
origin county or host district is one more `[[places]]` table there, no code edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from liangdi_cli.natsauth import SERVICE_ROLE, service_user
from shared.topology_file import Place, load, write

if TYPE_CHECKING:
    from liangdi_cli.devkeys import DevSecrets

DEFAULT_BASE_PORT = 8000
# 4223 is what shared/config.py's LIANGDI_NATS_URL defaults to, and it stays
# off 4222, where a shared or system NATS usually listens: mixing the two would
# cross-feed unrelated streams. It moves with --base-port so that two stacks
# with different base ports do not collide on NATS either.
DEFAULT_NATS_PORT = 4223
FORBIDDEN_NATS_PORT = 4222


@dataclass(frozen=True)
class ServiceSpec:
    """One uvicorn process of the embedded stack."""

    kind: str  # "outflow" | "inflow" | "sync": selects services.<kind>.main:app
    place: str | None  # 6-digit place code; None for the operator-wide sync service
    port_offset: int  # added to --base-port
    app: str | None = None  # ASGI app override, e.g. a stub in tests

    @property
    def name(self) -> str:
        return self.kind if self.place is None else f"{self.kind}-{self.place}"

    @property
    def module(self) -> str:
        return self.app or f"services.{self.kind}.main:app"

    def port(self, base_port: int) -> int:
        return base_port + self.port_offset

    def database_url(self, var_dir: Path) -> str:
        # Absolute path so the URL means the same whatever the child's cwd is.
        return f"sqlite:///{(var_dir / f'{self.name}.db').resolve()}"


DEFAULT_TOPOLOGY: tuple[ServiceSpec, ...] = (
    ServiceSpec("sync", None, 0),
    ServiceSpec("outflow", "371326", 1),
    ServiceSpec("inflow", "310115", 2),
    ServiceSpec("inflow", "310112", 3),
)


KIND_OF_ROLE = {role: kind for kind, role in SERVICE_ROLE.items()}
TRUST_FILE = "topology.toml"  # what `liangdi up` writes: the places with their development keys


def from_places(places: Sequence[Place]) -> tuple[ServiceSpec, ...]:
    """sync on the base port, then a service per place and role, in the file's order."""
    specs = [ServiceSpec("sync", None, 0)]
    for place in places:
        for role in place.roles:
            specs.append(ServiceSpec(KIND_OF_ROLE[role], place.code, len(specs)))
    return tuple(specs)


def from_file(path: str | Path) -> tuple[ServiceSpec, ...]:
    """The topology of a topology file; TopologyError if it is unreadable or wrong."""
    return from_places(load(path))


def place_list(topology: Sequence[ServiceSpec]) -> list[Place]:
    """The places a topology serves, each with its roles (keys added by `write_trust_file`)."""
    roles: dict[str, list[str]] = {}
    for spec in topology:
        if spec.place is not None and spec.kind in SERVICE_ROLE:
            roles.setdefault(spec.place, []).append(SERVICE_ROLE[spec.kind])
    return [Place(code, tuple(dict.fromkeys(r))) for code, r in roles.items()]


def places_setting(topology: Sequence[ServiceSpec]) -> str:
    """LIANGDI_PLACES for the sync service: `origin:371326,host:310115,...`."""
    return ",".join(f"{role}:{p.code}" for p in place_list(topology) for role in p.roles)


def write_trust_file(var_dir: Path, topology: Sequence[ServiceSpec], dev: DevSecrets) -> Path:
    """var/topology.toml: the topology's places with the public halves of the development keys,
    which every service of `liangdi up` reads as LIANGDI_TOPOLOGY_FILE."""
    from shared.validation.places import place_names

    path = var_dir / TRUST_FILE
    names = place_names()
    listed = [
        Place(
            p.code,
            p.roles,
            name=names.get(p.code, ""),
            signing_keys=(dev.keys[p.code]["public"],),
            sealing_keys=(dev.sealing[p.code]["public"],),
        )
        for p in place_list(topology)
    ]
    write(path, listed)
    return path


def places(topology: tuple[ServiceSpec, ...] = DEFAULT_TOPOLOGY) -> list[str]:
    """Every place served by some service, in topology order, without repeats."""
    seen: list[str] = []
    for spec in topology:
        if spec.place is not None and spec.place not in seen:
            seen.append(spec.place)
    return seen


def nats_port(base_port: int) -> int:
    """4223 for the default base port 8000, shifted by the same amount as the services."""
    port = DEFAULT_NATS_PORT + (base_port - DEFAULT_BASE_PORT)
    if port == FORBIDDEN_NATS_PORT:
        raise ValueError(
            f"--base-port {base_port} would put the embedded NATS on {FORBIDDEN_NATS_PORT}, "
            "which is reserved for a shared NATS; choose another base port"
        )
    if not 1024 <= port <= 65535:
        raise ValueError(f"--base-port {base_port} would put the embedded NATS on port {port}")
    return port


def service_env(
    spec: ServiceSpec,
    *,
    var_dir: Path,
    nats_url: str,
    jwt_secret: str,
    cipher_key: str,
    signing_keys: dict[str, str],
    trusted_keys: str,
    identity_key: str = "",
    nats_password: str = "",
    sealing_keys: dict[str, str] | None = None,
    sealing_peers: str = "",
    topology_file: str = "",
    exchange_places: str = "",
) -> dict[str, str]:
    """The LIANGDI_* variables one service is started with (see shared/config.py)."""
    env = {
        "LIANGDI_DATABASE_URL": spec.database_url(var_dir),
        "LIANGDI_NATS_URL": nats_url,
        "LIANGDI_ENVIRONMENT": "development",
        "LIANGDI_JWT_SECRET": jwt_secret,
        "LIANGDI_CIPHER_KEY": cipher_key,
        "LIANGDI_TRUSTED_KEYS": trusted_keys,
    }
    if topology_file:  # trusted and sealing keys of every place, re-read when it changes
        env["LIANGDI_TOPOLOGY_FILE"] = topology_file
    if exchange_places and spec.place is None:  # the sync service acts on these places
        env["LIANGDI_PLACES"] = exchange_places
    if identity_key:
        env["LIANGDI_IDENTITY_KEY"] = identity_key
    if nats_password:  # each service as its own NATS user (liangdi_cli/natsauth.py)
        env["LIANGDI_NATS_USER"] = service_user(spec.kind, spec.place)
        env["LIANGDI_NATS_PASSWORD"] = nats_password
    if spec.place is not None:
        env["LIANGDI_PLACE"] = spec.place
        env["LIANGDI_SIGNING_KEY"] = signing_keys[spec.place]
        if sealing_keys:  # personal fields sealed for the receiving place (docs/security.md)
            env["LIANGDI_SEALING_KEY"] = sealing_keys[spec.place]
            env["LIANGDI_SEALING_PEERS"] = sealing_peers
    return env
