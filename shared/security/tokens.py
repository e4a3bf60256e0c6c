"""Bearer tokens: signed JWTs (HS256) carrying a role and a place code, with an expiry.

`LIANGDI_JWT_SECRET` may hold several secrets separated by commas (a key ring): the first signs
new tokens, every one verifies. Each token names its secret in the `kid` header (a short hash of
the secret, never the secret), so rotation is: add the new secret first, keep the old one until
the longest-lived token signed with it has expired, then drop it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import jwt
from pydantic_core import PydanticCustomError

from shared.validation.bounds import clean_text

ISSUER = "liangdi"
ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32
MAX_TTL_SECONDS = 31 * 24 * 3600
ANY_PLACE = "*"
MAX_SUBJECT_LENGTH = 100
_PLACE = re.compile(r"^\d{6}$")


class Role(StrEnum):
    ORIGIN_OPERATOR = "origin_operator"  # 流出地 county organisation department, one county
    HOST_OPERATOR = "host_operator"  # 流入地 district office, one district
    SYNC_ADMIN = "sync_admin"  # operator of the exchange
    AUDITOR = "auditor"  # read-only, no personal data


PLACE_BOUND = frozenset({Role.ORIGIN_OPERATOR, Role.HOST_OPERATOR})


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    place: str  # the place the bearer acts for; "*" for roles not bound to one place

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PLACE_BOUND


class InvalidToken(ValueError):
    pass


def key_id(secret: str) -> str:
    return "k" + hashlib.sha256(secret.encode()).hexdigest()[:10]


class KeyRing:
    """The accepted HS256 secrets; the first one signs."""

    def __init__(self, secrets: Iterable[str]):
        self.secrets = [s for s in (x.strip() for x in secrets) if s]
        if not self.secrets:
            raise ValueError("a key ring needs at least one secret")
        self._by_kid = {key_id(s): s for s in self.secrets}

    @classmethod
    def of(cls, value: str | KeyRing | Iterable[str]) -> KeyRing:
        if isinstance(value, KeyRing):
            return value
        if isinstance(value, str):
            return cls(value.split(","))
        return cls(value)

    @property
    def current(self) -> str:
        return self.secrets[0]

    def candidates(self, kid: str | None) -> list[str]:
        if kid is None:
            return list(self.secrets)
        secret = self._by_kid.get(kid)
        return [secret] if secret else []


def validate_claims(role: Role | str, place: str) -> tuple[Role, str]:
    role = Role(role)
    if role in PLACE_BOUND and not _PLACE.match(place):
        raise ValueError(f"a {role} token needs a 6-digit place code, not {place!r}")
    if role not in PLACE_BOUND and place != ANY_PLACE and not _PLACE.match(place):
        raise ValueError(f"place must be '*' or a 6-digit code, not {place!r}")
    return role, place


def valid_subject(subject: str) -> str:
    """The subject is written into every fact as `recorded_by`: one bounded line of text, so a
    token can never carry into a store what a read model or the other place cannot hold."""
    try:
        return clean_text(subject, max_len=MAX_SUBJECT_LENGTH)
    except PydanticCustomError as exc:
        raise ValueError(f"token subject {exc}") from None


def issue_token(
    secret: str | KeyRing,
    *,
    role: Role | str,
    place: str,
    subject: str = "operator",
    ttl_seconds: int = 8 * 3600,
) -> str:
    role, place = validate_claims(role, place)
    subject = valid_subject(subject)
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be between 1 second and {MAX_TTL_SECONDS} seconds")
    ring = KeyRing.of(secret)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "role": str(role),
        "place": place,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, ring.current, algorithm=ALGORITHM, headers={"kid": key_id(ring.current)}
    )


def read_token(secret: str | KeyRing, token: str) -> Principal:
    """The principal of a valid token; InvalidToken (with a reason) for anything else.

    A token is verified once per key ring: the same string has the same signature and claims
    every time, so what changes with time, its expiry, is what is checked on every use. Only
    valid tokens are kept (a refusal raises), and a new key ring starts afresh."""
    principal, expires = _verified(KeyRing.of(secret), token)
    if expires <= time.time():  # as PyJWT decides it, with no leeway
        raise InvalidToken("Signature has expired")
    return principal


@functools.lru_cache(maxsize=1024)
def _verified(ring: KeyRing, token: str) -> tuple[Principal, int]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    candidates = ring.candidates(header.get("kid"))
    if not candidates:
        raise InvalidToken("token is signed with a key this service does not accept")
    last: Exception | None = None
    for candidate in candidates:
        try:
            claims = jwt.decode(
                token,
                candidate,
                algorithms=[ALGORITHM],  # never "none", never a public-key algorithm
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss", "sub", "role", "place"]},
            )
            role, place = validate_claims(claims["role"], str(claims["place"]))
            # The cap holds on use too: a token minted elsewhere with the secret but a longer
            # life is refused, not just never issued here (PyJWT refuses a future `iat`).
            lifetime = int(claims["exp"]) - int(claims["iat"])
            if not 0 < lifetime <= MAX_TTL_SECONDS:
                raise InvalidToken(
                    f"token lifetime {lifetime}s exceeds the cap of {MAX_TTL_SECONDS}s"
                )
            subject = valid_subject(str(claims["sub"]))
            return Principal(subject=subject, role=role, place=place), int(claims["exp"])
        except jwt.InvalidSignatureError as exc:
            last = exc
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise InvalidToken(str(exc)) from None
    raise InvalidToken(str(last or "signature verification failed"))


def weak_secrets(secret: str | KeyRing, dev_secret: str) -> list[str]:
    """Why this key ring is not fit for production (empty when it is)."""
    ring = KeyRing.of(secret)
    problems = []
    for s in ring.secrets:
        if s == dev_secret:
            problems.append("the development secret is in LIANGDI_JWT_SECRET")
        elif len(s) < MIN_SECRET_LENGTH:
            problems.append(f"a secret shorter than {MIN_SECRET_LENGTH} characters")
    return problems
