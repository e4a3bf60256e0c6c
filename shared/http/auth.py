"""Authentication, and authorisation by the role matrix (`shared.security.matrix`).

`guard` runs on every route a service serves (service_app installs it on each router): it reads
the bearer token, then asks the matrix whether this role, from this place, may call this route of
this service. Routes may also declare `allow(...)`; it must agree with the matrix (a test checks
that) and is enforced as well, so a disagreement can only deny.

The checks are `async def`: they only read the token and the matrix (no I/O), and FastAPI runs a
plain `def` dependency in its thread pool, one hand-off (and one turn at the GIL) per dependency
per request, which under load cost more than the checks themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.http.errors import ApiError
from shared.security.matrix import PUBLIC_PATHS, decide
from shared.security.tokens import PLACE_BOUND, InvalidToken, KeyRing, Principal, Role, read_token

_bearer = HTTPBearer(auto_error=False, description="JWT from `liangdi token issue`")


def _key_ring(request: Request) -> KeyRing:
    ring = getattr(request.app.state, "jwt_keys", None)
    if ring is None:
        ring = request.app.state.jwt_keys = KeyRing.of(request.app.state.jwt_secret)
    return ring


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError("auth.required", "a bearer token is required", 401)
    try:
        principal = read_token(_key_ring(request), credentials.credentials)
    except InvalidToken as exc:
        raise ApiError("auth.invalid_token", f"token rejected: {exc}", 401) from None
    request.state.principal = principal
    return principal


async def guard(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> None:
    """Admits the request only if the role matrix allows this principal on this route."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or request.url.path
    if path in PUBLIC_PATHS:
        return
    decision = decide(
        getattr(request.app.state, "service", ""),
        request.method,
        path,
        principal,
        getattr(request.app.state, "place", None),
    )
    if not decision.allowed:
        raise ApiError(decision.code, decision.message, 403)


def allow(*roles: Role, own_place: bool = True) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting `roles` (after the matrix has); returns the principal."""

    async def check(
        request: Request,
        principal: Annotated[Principal, Depends(current_principal)],
        _: Annotated[None, Depends(guard)],
    ) -> Principal:
        if principal.role not in roles:
            raise ApiError("auth.forbidden", f"role {principal.role} may not do this", 403)
        served = getattr(request.app.state, "place", None)
        if own_place and principal.role in PLACE_BOUND and principal.place != served:
            raise ApiError(
                "auth.wrong_place", f"token is for place {principal.place}, not {served}", 403
            )
        return principal

    check.declared_roles = frozenset(roles)  # type: ignore[attr-defined]
    return check


def declared_roles(route: object) -> frozenset[Role] | None:
    """The roles a route's `allow(...)` declares, or None if it declares none (for the tests)."""
    dependant = getattr(route, "dependant", None)
    stack = list(getattr(dependant, "dependencies", []))
    while stack:
        dep = stack.pop()
        roles = getattr(dep.call, "declared_roles", None)
        if roles is not None:
            return roles
        stack.extend(dep.dependencies)
    return None
