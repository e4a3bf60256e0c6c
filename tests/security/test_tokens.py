"""Bearer tokens: claims, expiry, algorithms, key rotation by `kid`, and `liangdi token`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from liangdi_cli.token import token_app
from shared.security.tokens import (
    InvalidToken,
    KeyRing,
    Role,
    issue_token,
    key_id,
    read_token,
)

OLD, NEW = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32


def test_a_token_carries_role_place_subject_and_names_its_key() -> None:
    token = issue_token(OLD, role=Role.HOST_OPERATOR, place="310115", subject="li")
    principal = read_token(OLD, token)
    assert (principal.role, principal.place, principal.subject) == (
        Role.HOST_OPERATOR,
        "310115",
        "li",
    )
    assert jwt.get_unverified_header(token)["kid"] == key_id(OLD)
    assert OLD not in token and key_id(OLD) != OLD


def test_rotation_both_secrets_verify_the_first_signs_and_a_dropped_one_fails() -> None:
    ring = KeyRing.of(f"{NEW},{OLD}")
    old_token = issue_token(OLD, role=Role.AUDITOR, place="*")
    assert read_token(ring, old_token).role == Role.AUDITOR
    new_token = issue_token(ring, role=Role.AUDITOR, place="*")
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(NEW)
    assert read_token(NEW, new_token).role == Role.AUDITOR
    with pytest.raises(InvalidToken, match="does not accept"):
        read_token(NEW, old_token)


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 10},
        {"iss": "someone-else"},
        {"role": "superuser"},
        {"role": "origin_operator", "place": "*"},
        {"place": "37132"},
        {"sub": "李\u0000四"},
        {"sub": "x" * 101},
        {"sub": "  "},
    ],
    ids=[
        "expired",
        "issuer",
        "unknown role",
        "operator without place",
        "bad place",
        "NUL in subject",
        "subject too long",
        "blank subject",
    ],
)
def test_bad_claims_are_refused(claims: dict[str, object]) -> None:
    base = {
        "iss": "liangdi",
        "sub": "x",
        "role": "auditor",
        "place": "*",
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(base | claims, OLD, algorithm="HS256", headers={"kid": key_id(OLD)})
    with pytest.raises(InvalidToken):
        read_token(OLD, token)


def test_other_algorithms_and_missing_claims_are_refused() -> None:
    now = int(time.time())
    claims = {
        "iss": "liangdi",
        "sub": "x",
        "role": "auditor",
        "place": "*",
        "iat": now,
        "exp": now + 60,
    }
    with pytest.raises(InvalidToken):
        read_token(OLD, jwt.encode(claims, OLD, algorithm="HS512"))
    with pytest.raises(InvalidToken):
        read_token(OLD, jwt.encode({k: v for k, v in claims.items() if k != "exp"}, OLD))
    with pytest.raises(ValueError):
        issue_token(OLD, role=Role.ORIGIN_OPERATOR, place="*")
    with pytest.raises(ValueError):
        issue_token(OLD, role=Role.AUDITOR, place="*", ttl_seconds=10**9)


def test_cli_issues_tokens_from_flag_env_or_the_dev_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.delenv("LIANGDI_JWT_SECRET", raising=False)
    args = ["issue", "--role", "origin_operator", "--place", "371326", "--ttl", "60"]

    result = runner.invoke(token_app, [*args, "--secret", OLD])
    assert result.exit_code == 0, result.output
    assert read_token(OLD, result.stdout.strip()).place == "371326"

    missing = runner.invoke(token_app, [*args, "--var-dir", str(tmp_path)])
    assert missing.exit_code == 2

    (tmp_path / "dev-secrets.json").write_text(json.dumps({"jwt_secret": NEW}))
    from_file = runner.invoke(token_app, [*args, "--var-dir", str(tmp_path)])
    assert read_token(NEW, from_file.stdout.strip()).role == Role.ORIGIN_OPERATOR

    monkeypatch.setenv("LIANGDI_JWT_SECRET", f"{OLD},{NEW}")
    from_env = runner.invoke(token_app, [*args, "--var-dir", str(tmp_path)])
    token = from_env.stdout.strip()
    assert jwt.get_unverified_header(token)["kid"] == key_id(OLD)

    shown = runner.invoke(token_app, ["inspect", token])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["place"] == "371326"
    bad_place = runner.invoke(token_app, ["issue", "--role", "host_operator", "--place", "*"])
    assert bad_place.exit_code == 2
    assert runner.invoke(token_app, ["inspect", token, "--secret", "x" * 40]).exit_code == 1
    ring = runner.invoke(token_app, ["new-secret", "--rotate-from", OLD]).stdout.strip()
    assert ring.endswith(f",{OLD}") and len(ring.split(",")) == 2


@pytest.mark.parametrize(
    ("iat_offset", "ttl", "reason"),
    [
        (0, 32 * 24 * 3600, "exceeds the cap"),
        (-3600, 365 * 24 * 3600, "exceeds the cap"),
        (30 * 24 * 3600, 24 * 3600, "not yet valid"),
    ],
    ids=["32 days", "a year", "issued next month"],
)
def test_the_lifetime_cap_is_enforced_when_a_token_is_used(
    iat_offset: int, ttl: int, reason: str
) -> None:
    """A token minted with the secret outside `issue_token` (which refuses such lifetimes)."""
    now = int(time.time()) + iat_offset
    claims = {"iss": "liangdi", "sub": "x", "role": "auditor", "place": "*"}
    claims |= {"iat": now, "exp": now + ttl}
    token = jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": key_id(OLD)})
    with pytest.raises(InvalidToken, match=reason):
        read_token(OLD, token)
    claims["exp"] = claims["iat"] + 31 * 24 * 3600
    if iat_offset <= 0:
        assert read_token(OLD, jwt.encode(claims, OLD, algorithm="HS256")).role == Role.AUDITOR


def test_an_over_long_token_gets_401_from_a_service(tmp_path: Path) -> None:
    from shared.config import DEV_SECRET
    from tests.support.harness import running, settings_for

    now = int(time.time())
    claims = {"iss": "liangdi", "sub": "x", "role": "auditor", "place": "*"}
    token = jwt.encode(
        claims | {"iat": now, "exp": now + 400 * 24 * 3600},
        DEV_SECRET,
        algorithm="HS256",
        headers={"kid": key_id(DEV_SECRET)},
    )
    settings = settings_for(
        "outflow", f"sqlite:///{tmp_path}/o.db", "nats://127.0.0.1:1", "371326", sync_enabled=False
    )
    with running("outflow", settings) as client:
        answer = client.get("/api/v1/members", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "auth.invalid_token"


def test_a_token_read_before_is_refused_once_it_has_expired() -> None:
    """Verified tokens are kept (shared/security/tokens.py), their expiry is not."""
    ring = KeyRing(["a-secret-of-thirty-two-characters"])
    token = issue_token(ring, role="origin_operator", place="371326", ttl_seconds=1)
    assert read_token(ring, token).place == "371326"
    assert read_token(ring, token).place == "371326"  # the second time from what was kept
    time.sleep(1.1)
    with pytest.raises(InvalidToken, match="expired"):
        read_token(ring, token)


def test_a_kept_token_is_refused_by_a_ring_without_its_key() -> None:
    old, new = (
        KeyRing(["an-old-secret-of-thirty-two-chars"]),
        KeyRing(["a-new-secret-of-32-characters!!"]),
    )
    token = issue_token(old, role="origin_operator", place="371326")
    assert read_token(old, token).role == "origin_operator"
    with pytest.raises(InvalidToken):
        read_token(new, token)
