"""Request hygiene shared by the three services (pure ASGI, installed by service_app).

- `SecurityHeaders`: headers browsers honour on every response, `Cache-Control: no-store`, a
  `WWW-Authenticate` challenge on 401, and a JSON 500 without a trace if anything escapes.
- `BodyLimit`: bodies over `LIANGDI_MAX_BODY_BYTES` get 413, declared length or not.
- `AuditWrites`: every write (allowed or refused) and every refused read of personal data goes
  to the audit trail with method, route, status and principal.
- `DocsGate`: /docs, /redoc and /openapi.json need a valid token in production.
- `RequestContext`: a request id per request (the caller's `X-Request-ID` when it is a plain
  token, else a new one), on every log line of the request and in the response's header.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.errors import error_body
from shared.security.matrix import DASHBOARD_PATHS, READ, is_personal_data
from shared.security.tokens import InvalidToken, KeyRing, read_token

log = logging.getLogger(__name__)

# A caller's request id is kept only if it cannot smuggle anything into a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc come from the package (shared/http/docs.py sets their policy); never framed.
DOCS_CSP = "frame-ancestors 'none'"
# The dashboard runs its own script and style, talks only to this origin, is never framed.
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _state(scope: Scope) -> Any:
    return scope["app"].state


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        docs = scope["path"] in DOCS_PATHS
        csp = DOCS_CSP if docs else DASHBOARD_CSP if scope["path"] in DASHBOARD_PATHS else API_CSP

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"no-referrer",
                    b"cache-control": b"no-store",
                    b"content-security-policy": csp.encode(),
                    b"cross-origin-resource-policy": b"same-origin",
                }
                if message["status"] == 401:
                    wanted[b"www-authenticate"] = b'Bearer realm="liangdi"'
                headers += [(k, v) for k, v in wanted.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            log.exception("unhandled error")
            if started:
                raise
            await _send_json(
                with_headers, 500, error_body("internal", "internal error; it has been logged")
            )


class BodyLimit:
    def __init__(self, app: ASGIApp, default_limit: int = 1_000_000):
        self.app, self.default_limit = app, default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = getattr(_state(scope), "max_body_bytes", None) or self.default_limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _send_json(send, 400, error_body("request.bad_length", "bad Content-Length"))
                return
            if too_big:
                await self._refuse(send, limit)
                return
            await self.app(scope, self._counting(receive, limit), send)
            return
        # No declared length (chunked): read up to the limit before the application sees it.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _counting(receive: Receive, limit: int) -> Receive:
        # A client may send more than it declared; never hand the application more than the limit.
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    return {"type": "http.disconnect"}
            return message

        return counted

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        message = f"request body is larger than {limit} bytes"
        await _send_json(send, 413, error_body("request.too_large", message))


class AuditWrites:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] in READ | {"OPTIONS"} and not is_personal_data(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await self._record(scope, status)

    async def _record(self, scope: Scope, status: int) -> None:
        trail = getattr(_state(scope), "audit", None)
        state = scope.get("state", {})
        if trail is None or state.get("audited"):
            return
        route = scope.get("route")
        template = getattr(route, "path_format", None) or scope["path"]
        personal = is_personal_data(template) and scope["method"] in READ
        params = scope.get("path_params", {})
        member_id = params.get("member_id")
        client = scope.get("client")
        try:
            await asyncio.to_thread(
                trail.record,
                action="personal_data.read" if personal else f"{scope['method']} {template}",
                method=scope["method"],
                path=scope["path"],
                status=status,
                principal=state.get("principal"),
                member_id=str(member_id) if member_id is not None else None,
                remote=client[0] if client else None,
            )
        except Exception:
            log.exception("audit entry for %s %s not recorded", scope["method"], scope["path"])


class DocsGate:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = _state(scope) if scope["type"] == "http" else None
        if (
            state is None
            or scope["path"] not in DOCS_PATHS
            or getattr(state, "environment", "development") != "production"
        ):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise InvalidToken("a bearer token is required")
            read_token(KeyRing.of(state.jwt_keys), token.strip())
        except InvalidToken as exc:
            await _send_json(send, 401, error_body("auth.required", f"docs: {exc}"))
            return
        await self.app(scope, receive, send)


class RequestContext:
    """Outermost: uvicorn's access line is written while the response starts, inside it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = _state(scope)

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id,
            service=getattr(state, "service", None),
            place=getattr(state, "place", None),
        ):
            await self.app(scope, receive, with_id)
