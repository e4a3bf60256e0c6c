"""Authentication and the role check every route declares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.http.errors import ApiError
from shared.security.tokens import InvalidToken, Principal, Role, read_token

_bearer = HTTPBearer(auto_error=False, description="JWT from `liangdi token issue`")


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError("auth.required", "a bearer token is required", 401)
    try:
        principal = read_token(request.app.state.jwt_secret, credentials.credentials)
    except InvalidToken as exc:
        raise ApiError("auth.invalid_token", f"token rejected: {exc}", 401) from None
    request.state.principal = principal
    return principal


def allow(*roles: Role, own_place: bool = True) -> Callable[..., Principal]:
    """A dependency admitting `roles`; place-bound roles only for the place this service serves."""

    def check(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        if principal.role not in roles:
            raise ApiError("auth.forbidden", f"role {principal.role} may not do this", 403)
        served = getattr(request.app.state, "place", None)
        place_bound = principal.role in (Role.ORIGIN_OPERATOR, Role.HOST_OPERATOR)
        if own_place and place_bound and served and principal.place != served:
            raise ApiError(
                "auth.wrong_place", f"token is for place {principal.place}, not {served}", 403
            )
        return principal

    return check
