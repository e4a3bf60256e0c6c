"""Member ids are derived from ID numbers with a secret key, so an id does not give the number
away to anyone who can enumerate a county's ID numbers."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, uuid5

import pytest

from services.outflow.domain.member import member_id_for
from shared.config import OutflowSettings
from shared.security.deployment import InsecureDeployment, check_deployment
from shared.security.identity import identity_key_or_dev, person_key
from shared.validation import make_resident_id

RESIDENT_ID = make_resident_id("371326", date(1990, 5, 1), 12)


def test_the_id_depends_on_the_secret_not_only_on_the_number() -> None:
    ours = member_id_for("371326", person_key("secret-a", "371326", RESIDENT_ID))
    again = member_id_for("371326", person_key("secret-a", "371326", RESIDENT_ID))
    theirs = member_id_for("371326", person_key("secret-b", "371326", RESIDENT_ID))
    unkeyed = uuid5(NAMESPACE_URL, f"liangdi:member:371326:{RESIDENT_ID}")
    assert ours == again  # one record per person: registering twice still conflicts
    assert ours != theirs
    assert ours != unkeyed
    assert RESIDENT_ID not in person_key("secret-a", "371326", RESIDENT_ID)


def test_production_refuses_to_run_without_an_identity_key() -> None:
    settings = OutflowSettings(
        place="371326", environment="production", identity_key="", jwt_secret="s" * 40
    )
    with pytest.raises(InsecureDeployment, match="LIANGDI_IDENTITY_KEY"):
        check_deployment("outflow", settings, "x" * 40)
    assert (
        identity_key_or_dev("configured-key-0123456789", "production")
        == "configured-key-0123456789"
    )
