"""One hierarchy of domain refusals for the three services, one mapping to HTTP at the edge."""

from __future__ import annotations

from types import ModuleType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.inflow.domain import errors as inflow
from services.outflow.application import MemberAlreadyRegistered, MemberNotFound
from services.outflow.domain import errors as outflow
from services.sync.domain import errors as sync
from shared import domain_errors as domain
from shared.http.errors import install_error_handlers, status_of

SERVICES = (inflow, outflow, sync)


@pytest.mark.parametrize("module", SERVICES, ids=lambda m: m.__name__.split(".")[1])
def test_each_service_names_the_shared_kinds_without_any_http(module: ModuleType) -> None:
    exported = [getattr(module, name) for name in module.__all__]
    kinds = [e for e in exported if isinstance(e, type)]
    assert module.DomainError is domain.DomainError
    assert all(issubclass(kind, domain.DomainError) for kind in kinds)
    assert not [kind.__name__ for kind in kinds if hasattr(kind, "status")]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (inflow.WrongState("expected only"), 409),
        (outflow.WrongState("departed only"), 409),
        (sync.WrongState("not divergent"), 409),
        (inflow.RuleViolation("future"), 422),
        (outflow.RuleViolation("future"), 422),
        (sync.RuleViolation("not a grade"), 422),
        (inflow.NotFound("no branch", "branch.not_found"), 404),
        (outflow.Missing("no letter", "transfer.letter_unknown"), 404),
        (MemberNotFound("m1"), 404),
        (inflow.OriginOwned("the origin owns the name"), 403),
        (MemberAlreadyRegistered("m1"), 409),
        (inflow.IdempotencyKeyReused("other values"), 422),
        (domain.DomainError("a rule of no named kind"), 422),
    ],
)
def test_each_kind_has_one_status(error: domain.DomainError, status: int) -> None:
    assert status_of(error) == status


def test_a_refusal_reaches_the_client_as_its_code_and_message() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/owned")
    def owned() -> None:
        raise inflow.OriginOwned("姓名 is kept by the origin county")

    @app.get("/registered")
    def registered() -> None:
        raise MemberAlreadyRegistered("0b0e")

    with TestClient(app) as client:
        refused = client.get("/owned")
        duplicate = client.get("/registered")
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"code": "member.origin_owned", "message": "姓名 is kept by the origin county"}
    }
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == {
        "code": "member.already_registered",
        "message": "member 0b0e is already registered",
    }
