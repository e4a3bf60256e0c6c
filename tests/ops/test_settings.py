"""Settings (shared/config.py): typed, and secrets that never show in a repr or a log line."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from shared.config import LogSettings, OutflowSettings

SECRETS = {
    "jwt_secret": "jwt-" + "j" * 40,
    "cipher_key": "Y2lwaGVyLWtleS1jaXBoZXIta2V5LTMyYnl0ZXM=",
    "signing_key": "c2lnbmluZy1rZXktc2lnbmluZy1rZXk=",
    "sealing_key": "c2VhbGluZy1rZXktc2VhbGluZy1rZXk=",
    "identity_key": "identity-key-identity-key",
    "nats_password": "natspasswordnats",
}


def test_secrets_are_kept_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    settings = OutflowSettings(place="371326", **SECRETS)
    assert {name: getattr(settings, name).get_secret_value() for name in SECRETS} == SECRETS
    logging.getLogger("tests.ops").warning("settings: %r / %s", settings, settings)
    for shown in (repr(settings), str(settings), caplog.text):
        assert not [value for value in SECRETS.values() if value in shown]


def test_environment_and_log_level_take_only_known_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIANGDI_LOG_LEVEL", "warning")
    assert LogSettings().log_level == "WARNING"
    monkeypatch.setenv("LIANGDI_ENVIRONMENT", "prod")  # a typo must not pass for development
    with pytest.raises(ValidationError, match="environment"):
        OutflowSettings(place="371326")
    monkeypatch.setenv("LIANGDI_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="LIANGDI_JWT_SECRET"):
        OutflowSettings(place="371326")  # the development secret, in production
