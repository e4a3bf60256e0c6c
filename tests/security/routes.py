"""Route discovery and the principals the security tests walk every route with."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import FastAPI

from shared.config import DEV_SECRET
from shared.security.matrix import PUBLIC_PATHS
from shared.security.tokens import Principal, Role, issue_token

ORIGIN, HOST, OTHER_ORIGIN, OTHER_HOST = "371326", "310115", "370303", "310112"
SERVED = {"outflow": ORIGIN, "inflow": HOST, "sync": None}
WRITES = {"post", "put", "patch", "delete"}


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, as in the OpenAPI document
    parameters: tuple[dict[str, Any], ...]

    def url(self) -> str:
        url = self.path
        for param in self.parameters:
            if param.get("in") == "path":
                url = url.replace("{" + param["name"] + "}", sample(param))
        return url


def sample(param: dict[str, Any]) -> str:
    schema = param.get("schema", {})
    if schema.get("format") == "uuid" or param["name"].endswith("_id"):
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "1"
    if "\\d{6}" in schema.get("pattern", "") or "place" in param["name"]:
        return HOST
    return "x"


def operations(app: FastAPI) -> list[Operation]:
    """Every operation the running app documents, except the public health endpoints."""
    found = []
    for path, item in app.openapi()["paths"].items():
        if path in PUBLIC_PATHS:
            continue
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                params = tuple(shared) + tuple(op.get("parameters", []))
                found.append(Operation(method.upper(), path, params))
    return found


def effective_routes(app: FastAPI) -> list[Any]:
    """Every API route object (FastAPI may keep included routers as lazy branches)."""
    routes = []
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            routes.extend(route.effective_route_contexts())
        elif hasattr(route, "dependant"):
            routes.append(route)
    return routes


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def good(role: Role, place: str) -> dict[str, str]:
    return bearer(issue_token(DEV_SECRET, role=role, place=place, subject=f"walk-{role}"))


def _unsigned_none_token() -> str:
    def part(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {
        "iss": "liangdi",
        "sub": "x",
        "role": "sync_admin",
        "place": "*",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _expired() -> str:
    claims = {
        "iss": "liangdi",
        "sub": "x",
        "role": "sync_admin",
        "place": "*",
        "iat": int(time.time()) - 7200,
        "exp": int(time.time()) - 3600,
    }
    return jwt.encode(claims, DEV_SECRET, algorithm="HS256")


def _tampered() -> str:
    """An auditor's token whose payload was edited to say sync_admin, signature kept."""
    token = issue_token(DEV_SECRET, role=Role.AUDITOR, place="*")
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"role": "sync_admin"}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


# Principals that must never get past authentication (401 everywhere).
UNAUTHENTICATED: dict[str, dict[str, str]] = {
    "no token": {},
    "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
    "garbage": bearer("not-a-jwt"),
    "expired": bearer(_expired()),
    "bad signature": bearer(
        issue_token("another-deployment-secret-0123456789", role=Role.SYNC_ADMIN, place="*")
    ),
    "alg none": bearer(_unsigned_none_token()),
    "tampered role": bearer(_tampered()),
}

# Authenticated principals: every role, with own-place, other-place and all-places variants.
PRINCIPALS: dict[str, Principal] = {
    "origin operator 371326": Principal("walk", Role.ORIGIN_OPERATOR, ORIGIN),
    "origin operator 370303": Principal("walk", Role.ORIGIN_OPERATOR, OTHER_ORIGIN),
    "host operator 310115": Principal("walk", Role.HOST_OPERATOR, HOST),
    "host operator 310112": Principal("walk", Role.HOST_OPERATOR, OTHER_HOST),
    "host operator 371326": Principal("walk", Role.HOST_OPERATOR, ORIGIN),
    "origin operator 310115": Principal("walk", Role.ORIGIN_OPERATOR, HOST),
    "sync admin *": Principal("walk", Role.SYNC_ADMIN, "*"),
    "sync admin 310112": Principal("walk", Role.SYNC_ADMIN, OTHER_HOST),
    "auditor *": Principal("walk", Role.AUDITOR, "*"),
    "auditor 371326": Principal("walk", Role.AUDITOR, ORIGIN),
    "auditor 310112": Principal("walk", Role.AUDITOR, OTHER_HOST),
}


def denied_by_auth(status: int, body: Any) -> bool:
    """The request stopped at authentication or authorisation (not at the handler)."""
    code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
    return status in (401, 403) and code.startswith("auth.")
