"""`liangdi token ...`: mint and inspect bearer tokens for operators and tests.

The secret comes from --secret, else LIANGDI_JWT_SECRET, else the development secrets that
`liangdi up` keeps under var/ (never in production).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import jwt
import typer

from shared.config import DEV_SECRET, OperatorSettings
from shared.security.tokens import (
    ANY_PLACE,
    InvalidToken,
    KeyRing,
    Role,
    issue_token,
    key_id,
    read_token,
)

token_app = typer.Typer(
    name="token", help="Bearer tokens (JWT) for the liangdi APIs.", no_args_is_help=True
)

SecretOpt = typer.Option(
    None,
    "--secret",
    help="HS256 secret (or comma-separated key ring; the first signs). "
    "Default: $LIANGDI_JWT_SECRET, else the development secret in <var-dir>.",
)
VarDirOpt = typer.Option(Path("var"), "--var-dir", help="Where `liangdi up` keeps its secrets.")
DevOpt = typer.Option(False, "--dev-secret", help="Use the built-in development-only secret.")


def _var_secret(var_dir: Path) -> str | None:
    names = []
    try:  # the file and key names `liangdi up` writes, when that module is present
        from liangdi_cli.devkeys import SECRETS_FILE

        names.append(SECRETS_FILE)
    except ImportError:
        pass
    names += ["dev-secrets.json", "secrets.json"]
    for name in dict.fromkeys(names):
        path = var_dir / name
        if path.exists():
            data = json.loads(path.read_text())
            value = data.get("jwt_secret") or data.get("LIANGDI_JWT_SECRET")
            if value:
                return str(value)
    return None


def resolve_secret(secret: str | None, var_dir: Path, dev_secret: bool = False) -> str:
    if secret:
        return secret
    if dev_secret:
        return DEV_SECRET
    if env := OperatorSettings().jwt_secret.get_secret_value():
        return env
    if found := _var_secret(var_dir):
        return found
    typer.echo(
        "no JWT secret: pass --secret, set LIANGDI_JWT_SECRET, run `liangdi up` "
        "(which writes one under var/), or use --dev-secret for a default dev stack",
        err=True,
    )
    raise typer.Exit(2)


@token_app.command("issue")
def issue(
    role: Role = typer.Option(..., "--role", help="origin_operator, host_operator, ..."),
    place: str = typer.Option(
        ANY_PLACE, "--place", help="6-digit code (required for operators); '*' for all places"
    ),
    ttl: int = typer.Option(8 * 3600, "--ttl", help="Lifetime in seconds."),
    subject: str = typer.Option(
        "", "--subject", help="Who the token is for (shows in the audit trail)."
    ),
    secret: str | None = SecretOpt,
    var_dir: Path = VarDirOpt,
    dev_secret: bool = DevOpt,
) -> None:
    """Print a signed token for ROLE acting for PLACE."""
    key = resolve_secret(secret, var_dir, dev_secret)
    try:
        token = issue_token(
            key,
            role=role,
            place=place,
            subject=subject or f"{os.environ.get('USER', 'operator')}:{role}",
            ttl_seconds=ttl,
        )
    except ValueError as exc:
        typer.echo(f"cannot issue: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


@token_app.command("inspect")
def inspect(
    token: str = typer.Argument(..., help="The token to check."),
    secret: str | None = SecretOpt,
    var_dir: Path = VarDirOpt,
    dev_secret: bool = DevOpt,
) -> None:
    """Verify a token and show its claims; exit 1 if it is not valid."""
    key = resolve_secret(secret, var_dir, dev_secret)
    try:
        principal = read_token(key, token)
    except InvalidToken as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from None
    claims = jwt.decode(token, options={"verify_signature": False})
    expires = datetime.fromtimestamp(claims["exp"], UTC).isoformat()
    typer.echo(
        json.dumps(
            {
                "subject": principal.subject,
                "role": str(principal.role),
                "place": principal.place,
                "kid": jwt.get_unverified_header(token).get("kid"),
                "expires": expires,
            },
            ensure_ascii=False,
        )
    )


@token_app.command("new-secret")
def new_secret(
    rotate_from: str | None = typer.Option(
        None, "--rotate-from", help="The current LIANGDI_JWT_SECRET: print a ring new,old."
    ),
) -> None:
    """Print a fresh secret (or a key ring with it first, for rotation)."""
    fresh = secrets.token_urlsafe(48)
    ring = KeyRing([fresh, *(rotate_from.split(",") if rotate_from else [])])
    typer.echo(",".join(ring.secrets))
    typer.echo(f"signing key id: {key_id(fresh)}", err=True)
