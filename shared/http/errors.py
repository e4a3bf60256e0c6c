"""The one translation of errors into HTTP, for all three services: a stable code and a message,
never a trace. Domain refusals (``shared.domain_errors``) get their status here, by kind; errors
that exist only at the edge (no token, a missing header) are ``ApiError`` with their status."""

from __future__ import annotations

import logging

from eventsourcing.persistence import RecordConflictError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import domain_errors as domain
from shared.domain_errors import DomainError
from shared.validation.errors import ValidationFailed

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An application error with its HTTP status and stable machine-readable code."""

    status = 400

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        if status is not None:
            self.status = status


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class RuleViolated(ApiError):
    status = 422


# The one place a kind of domain refusal becomes an HTTP status, for all three services. The first
# matching kind wins; a refusal of no listed kind broke a rule (422).
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (domain.NotFound, 404),
    (domain.OwnedElsewhere, 403),
    (domain.WrongState, 409),
    (domain.Conflict, 409),
    (domain.IdempotencyKeyReused, 422),
    (domain.RuleViolation, 422),
)


def status_of(error: DomainError) -> int:
    return next((status for kind, status in DOMAIN_STATUS if isinstance(error, kind)), 422)


class FieldError(BaseModel):
    field: str = Field(examples=["body.resident_id"])
    message: str
    type: str = Field(examples=["string_too_long"])


class ErrorDetail(BaseModel):
    code: str = Field(examples=["member.wrong_state"], description="stable, machine-readable")
    message: str = Field(examples=["cannot record a return home: member is at_home"])
    details: list[FieldError] | None = Field(
        None, description="for `request.invalid`: every field that failed, not only the first"
    )


class ErrorBody(BaseModel):
    """The one error body of every service and status."""

    error: ErrorDetail


def error_responses(**described: str) -> dict[int | str, dict[str, object]]:
    """OpenAPI responses with the real error body, e.g. `error_responses(_404="...")`."""
    return {
        int(status.lstrip("_")): {"model": ErrorBody, "description": text}
        for status, text in described.items()
    }


# Documented on every operation of the three services (a route may describe a status further).
ERROR_RESPONSES = error_responses(
    _401="No or invalid bearer token (`auth.required`, `auth.invalid_token`)",
    _403="Role or place not allowed (`auth.forbidden`, `auth.wrong_place`), or a record another "
    "place owns (`member.origin_owned`)",
    _404="Not found, e.g. `member.not_found`",
    _409="Wrong state (e.g. `member.wrong_state`) or a concurrent update "
    "(`conflict.concurrent_update`: retry)",
    _422="Invalid request (`request.invalid`, with every failing field in `details`) or a rule "
    "failed, e.g. `departure.future_date`",
)


def operation_id(route: APIRoute) -> str:
    """Readable operation ids: the endpoint's name (`record_departure`); tests keep them unique."""
    return route.name


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(DomainError)
    async def _refused(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=status_of(exc))

    @app.exception_handler(ValidationFailed)
    async def _rule(_: Request, exc: ValidationFailed) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}"
        return JSONResponse(error_body("request.invalid", message, details=errors), 422)

    @app.exception_handler(OverflowError)
    async def _out_of_range(_: Request, exc: OverflowError) -> JSONResponse:
        # Dates or numbers at the edge of what Python or the database can hold (a date in year 1
        # minus a deadline): the caller's value is out of range, not the server broken.
        return JSONResponse(
            error_body("request.out_of_range", f"a value is out of the supported range: {exc}"),
            422,
        )

    @app.exception_handler(RecordConflictError)
    async def _conflict(_: Request, exc: RecordConflictError) -> JSONResponse:
        return JSONResponse(
            error_body("conflict.concurrent_update", "the record changed meanwhile; retry"), 409
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "auth.required"}.get(
            exc.status_code, f"http.{exc.status_code}"
        )
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal", "internal error; it has been logged"), 500)
