"""The places of the exchange as a file an operator edits: codes, names, roles, public keys.

Adding an origin county or a host district is one more `[[places]]` table (docs/operations.md,
"Places"); `liangdi up`, the services (LIANGDI_TOPOLOGY_FILE) and the NATS permission generator
read the same file. Only public keys belong here: it is not a secret and may be shared with every
place. A service re-reads it when its modification time changes, so a new place's facts are
trusted without restarting its peers.

    [[places]]
    code = "371326"          # GB/T 2260 code
    name = "平邑县"
    roles = ["origin"]       # origin (county sending members), host (district receiving them)
    signing_keys = ["<base64 Ed25519 public key>"]   # several while rotating
    sealing_keys = ["<base64 X25519 public key>"]    # the first is sealed to
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

ROLES = ("origin", "host")
CODE = re.compile(r"\d{6}")


class TopologyError(ValueError):
    """The file cannot be read or says something impossible."""


@dataclass(frozen=True)
class Place:
    code: str
    roles: tuple[str, ...]
    name: str = ""
    signing_keys: tuple[str, ...] = field(default=())
    sealing_keys: tuple[str, ...] = field(default=())


def _strings(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TopologyError(f"{what} must be a string or a list of strings")
    return tuple(v.strip() for v in value)


def _place(entry: object, index: int) -> Place:
    if not isinstance(entry, dict):
        raise TopologyError(f"places[{index}] is not a table")
    code = str(entry.get("code", ""))
    where = f"place {code or index}"
    if not CODE.fullmatch(code):
        raise TopologyError(f"{where}: code must be a 6-digit place code")
    unknown = set(entry) - {"code", "name", "role", "roles", "signing_keys", "sealing_keys"}
    if unknown:
        raise TopologyError(f"{where}: unknown keys {sorted(unknown)}")
    roles = _strings(entry.get("roles", entry.get("role", [])), f"{where}: roles")
    if not roles or any(role not in ROLES for role in roles):
        raise TopologyError(f"{where}: roles must be origin and/or host, not {list(roles)}")
    return Place(
        code=code,
        roles=tuple(dict.fromkeys(roles)),
        name=str(entry.get("name", "")),
        signing_keys=_strings(entry.get("signing_keys", []), f"{where}: signing_keys"),
        sealing_keys=_strings(entry.get("sealing_keys", []), f"{where}: sealing_keys"),
    )


def parse(text: str) -> list[Place]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TopologyError(f"not valid TOML: {exc}") from None
    entries = data.get("places", [])
    if not isinstance(entries, list):
        raise TopologyError("places must be an array of tables ([[places]])")
    places = [_place(entry, index) for index, entry in enumerate(entries)]
    codes = [p.code for p in places]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise TopologyError(f"places named twice: {twice}")
    return places


def load(path: str | Path) -> list[Place]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError(f"cannot read the topology file {path}: {exc.strerror}") from None
    try:
        return parse(text)
    except TopologyError as exc:
        raise TopologyError(f"{path}: {exc}") from None


def trusted_keys(places: Iterable[Place]) -> str:
    """In LIANGDI_TRUSTED_KEYS's form: each signing key bound to each role of its place."""
    return ",".join(
        f"{role}:{p.code}={key}" for p in places for key in p.signing_keys for role in p.roles
    )


def sealing_peers(places: Iterable[Place]) -> str:
    """In LIANGDI_SEALING_PEERS's form."""
    return ",".join(f"{p.code}={key}" for p in places for key in p.sealing_keys)


def with_role(places: Iterable[Place], role: str) -> list[str]:
    return [p.code for p in places if role in p.roles]


def places_spec(path: str | Path) -> str:
    """The file's places as LIANGDI_PLACES says them (`origin:371326,host:310115`); empty
    without a file. For the sync service, which acts on the places of the exchange."""
    if not path:
        return ""
    return ",".join(f"{role}:{p.code}" for p in load(path) for role in p.roles)


def render(places: Sequence[Place]) -> str:
    """The file for these places (what `liangdi up` writes with its development keys)."""
    lines = ['# The places of the exchange (docs/operations.md, "Places"). Public keys only.', ""]
    for place in places:
        lines.append("[[places]]")
        lines.append(f"code = {json.dumps(place.code)}")
        if place.name:
            lines.append(f"name = {json.dumps(place.name, ensure_ascii=False)}")
        lines.append(f"roles = {json.dumps(list(place.roles))}")
        lines.append(f"signing_keys = {json.dumps(list(place.signing_keys))}")
        lines.append(f"sealing_keys = {json.dumps(list(place.sealing_keys))}")
        lines.append("")
    return "\n".join(lines)


def write(path: Path, places: Sequence[Place]) -> None:
    """Write-then-rename: a service re-reading the file never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(places), encoding="utf-8")
    os.replace(tmp, path)


class TopologySource:
    """The file as a service sees it: parsed once, re-read when its mtime changes.

    The check is a `stat` at most every `interval` seconds (or at once with `force`, when a key
    is not found), so it costs nothing per message. A file that breaks (half saved, a typo) keeps
    the last good places and logs why, rather than distrusting every peer.
    """

    def __init__(self, path: str | Path, interval: float = 1.0):
        self.path, self.interval = Path(path), interval
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._places = load(self.path)  # a broken file at start is a configuration error
        self._checked = time.monotonic()
        self.version = 1

    def _stat(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size

    def places(self, force: bool = False) -> list[Place]:
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return self._places
        with self._lock:
            self._checked = now
            stamp = self._stat()
            if stamp is None or stamp == self._stamp:
                return self._places
            try:
                places = load(self.path)
            except TopologyError as exc:
                log.error("topology file changed but is not usable, keeping the last one: %s", exc)
                self._stamp = stamp  # tried once; the next save changes the stamp again
                return self._places
            self._places, self._stamp = places, stamp
            self.version += 1
            log.info("topology file re-read: %d places", len(places))
            return places
