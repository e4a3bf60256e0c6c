"""Bearer tokens: signed JWTs (HS256) carrying a role and a place code, with an expiry."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

ISSUER = "liangdi"


class Role(StrEnum):
    ORIGIN_OPERATOR = "origin_operator"  # 流出地 county organisation department, one county
    HOST_OPERATOR = "host_operator"  # 流入地 district office, one district
    SYNC_ADMIN = "sync_admin"  # operator of the exchange
    AUDITOR = "auditor"  # read-only, no personal data


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    place: str  # the place the bearer acts for; "*" for roles not bound to one place

    @property
    def sees_personal_data(self) -> bool:
        return self.role in (Role.ORIGIN_OPERATOR, Role.HOST_OPERATOR)


class InvalidToken(ValueError):
    pass


def issue_token(
    secret: str,
    *,
    role: Role | str,
    place: str,
    subject: str = "operator",
    ttl_seconds: int = 8 * 3600,
) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "role": str(Role(role)),
        "place": place,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iss", "sub", "role", "place"]},
        )
        return Principal(subject=claims["sub"], role=Role(claims["role"]), place=claims["place"])
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from None
