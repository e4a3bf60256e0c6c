"""The replication benchmark measures places as deployed (docs/performance.md): the keys it gives
the origin and the host sign, seal and encrypt, and the host accepts what the origin sends."""

from __future__ import annotations

from bench.replication import HOST, ORIGIN, deployed_keys
from shared.security.deployment import cipher_key_problem
from shared.security.sealing import PREFIX, Sealer, sealing_problem
from shared.security.signing import Signer, TrustRegistry
from tests.security.messages import departure
from tests.support.harness import settings_for


def test_the_benchmark_places_have_a_deployments_keys() -> None:
    keys = deployed_keys()
    for kind, place in (("outflow", ORIGIN), ("inflow", HOST)):
        settings = settings_for(
            kind, "sqlite:///unused.db", "nats://127.0.0.1:1", place, **keys[place]
        )
        assert sealing_problem(settings) == ""
        assert cipher_key_problem(settings.cipher_key.get_secret_value()) == ""
    origin, host = keys[ORIGIN], keys[HOST]
    sealed = Sealer.from_settings(
        ORIGIN, origin["sealing_key"], origin["sealing_peers"], required=True
    ).seal(departure(ORIGIN, HOST))
    assert sealed.data["name"].startswith(PREFIX)
    signed = Signer(ORIGIN, origin["signing_key"]).sign(sealed)
    TrustRegistry.parse(host["trusted_keys"]).verify(signed)  # raises if not trusted
    opened = Sealer.from_settings(HOST, host["sealing_key"], host["sealing_peers"]).open(signed)
    assert not opened.data["name"].startswith(PREFIX)
