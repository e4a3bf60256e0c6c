"""Development NATS passwords are letters only: nats-server reads `$NATS_PASSWORD_*` as a config
value, and one starting with a digit ("7R...") is taken for a number and stops the server."""

from __future__ import annotations

import json
from pathlib import Path

from liangdi_cli.devkeys import SECRETS_FILE, load_or_create, new_nats_password


def test_generated_passwords_are_letters_only() -> None:
    for _ in range(200):
        password = new_nats_password()
        assert password.isascii() and password.isalpha() and len(password) == 32


def test_a_stored_password_nats_cannot_read_is_replaced(tmp_path: Path) -> None:
    (tmp_path / SECRETS_FILE).write_text(json.dumps({"nats_passwords": {"sync": "7Rxyz-_q"}}))
    load_or_create(tmp_path, ["371326", "310115"])
    stored = json.loads((tmp_path / SECRETS_FILE).read_text())["nats_passwords"]
    assert set(stored) == {"sync", "371326", "310115"}
    assert all(p.isalpha() and len(p) == 32 for p in stored.values()), stored
