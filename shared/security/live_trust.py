"""Trust that follows the topology file: keys of a new place, or a rotated key, are used as soon as
the file says so, without restarting the service (docs/operations.md, "Places").

Without LIANGDI_TOPOLOGY_FILE nothing changes: the registry and the sealer are built once from
LIANGDI_TRUSTED_KEYS and LIANGDI_SEALING_PEERS. With it, those variables still count and the
file's keys are added to them.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.config import revealed
from shared.contracts.envelope import Envelope
from shared.security.sealing import Sealer, _split
from shared.security.sealing import sealer_for as fixed_sealer
from shared.security.signing import TrustRegistry
from shared.topology_file import TopologySource, sealing_peers, trusted_keys

log = logging.getLogger(__name__)


def _joined(*specs: str) -> str:
    return ",".join(spec for spec in specs if spec)


class LiveTrust:
    """A TrustRegistry rebuilt whenever the topology file changes (same `verify`/`roles_of`)."""

    def __init__(self, fixed: str, source: TopologySource):
        self._fixed, self._source = fixed, source
        self._version = 0
        self._registry = TrustRegistry({})
        self._refresh(force=True)

    def _refresh(self, force: bool = False) -> TrustRegistry:
        places = self._source.places(force)
        if self._source.version != self._version:
            try:
                self._registry = TrustRegistry.parse(_joined(self._fixed, trusted_keys(places)))
            except ValueError as exc:  # a malformed key: keep trusting what was trusted
                if self._version == 0:
                    raise
                log.error("topology file: keys not usable, keeping the previous ones: %s", exc)
            self._version = self._source.version
        return self._registry

    def __bool__(self) -> bool:
        return True  # configured: even an empty file means "trust only what it will name"

    def roles_of(self, place: str) -> set[str]:
        return self._refresh().roles_of(place)

    def verify(self, envelope: Envelope) -> None:
        registry = self._refresh()
        if not registry.knows(envelope.keyid):
            # A key we have not seen: perhaps the file named it a moment ago. Look now rather
            # than dead-letter a new place's first facts.
            registry = self._refresh(force=True)
        registry.verify(envelope)


class LiveSealer(Sealer):
    """A Sealer whose peers' public keys follow the topology file."""

    def __init__(self, place: str, private_keys: list[str], fixed_peers: str, source: Any, **kw):
        self._fixed_peers, self._source, self._version = fixed_peers, source, 0
        super().__init__(place, private_keys, {}, **kw)
        self._refresh(force=True)

    def _refresh(self, force: bool = False) -> None:
        places = self._source.places(force)
        if self._source.version == self._version:
            return
        peers: dict[str, list[str]] = {}
        for item in _split(_joined(self._fixed_peers, sealing_peers(places))):
            peer, _, public = item.partition("=")
            peers.setdefault(peer.strip(), []).append(public.strip())
        try:
            fresh = Sealer(self.place, [], peers)
        except ValueError as exc:
            if self._version == 0:
                raise
            log.error("topology file: sealing keys not usable, keeping the previous ones: %s", exc)
        else:
            self._peers = fresh._peers
        self._version = self._source.version

    def seal(self, envelope: Envelope) -> Envelope:
        self._refresh(force=envelope.to_place not in self._peers)
        return super().seal(envelope)

    def open(self, envelope: Envelope) -> Envelope:
        self._refresh(force=envelope.from_place not in self._peers)
        try:
            return super().open(envelope)
        except ValueError:
            # Perhaps sealed with a key the file named since the last look: once more, fresh.
            self._refresh(force=True)
            return super().open(envelope)


def topology_source(settings: Any) -> TopologySource | None:
    path = getattr(settings, "topology_file", "")
    return TopologySource(path) if path else None


def trust_registry(settings: Any) -> TrustRegistry | LiveTrust | None:
    """What a receiver verifies signatures with: None (development without keys) or a registry
    from LIANGDI_TRUSTED_KEYS and, when set, LIANGDI_TOPOLOGY_FILE."""
    source = topology_source(settings)
    if source is not None:
        return LiveTrust(settings.trusted_keys, source)
    return TrustRegistry.parse(settings.trusted_keys) if settings.trusted_keys else None


def sealer_for(settings: Any) -> Sealer:
    """As shared.security.sealing.sealer_for, with peers from the topology file when set."""
    source = topology_source(settings)
    if source is None:
        return fixed_sealer(settings)
    return LiveSealer(
        settings.place,
        _split(revealed(settings.sealing_key)),
        settings.sealing_peers,
        source,
        required=settings.environment == "production",
    )
