"""Every role (and wrong-place, no, expired, forged tokens) against every endpoint of the three
services, discovered from the running apps: zero unexpected allows, zero unexpected denies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.config import DEV_SECRET
from shared.http.auth import declared_roles
from shared.security.matrix import MATRIX, READ, WRITE, decide, roles_for
from shared.security.tokens import Role, issue_token
from tests.security.routes import (
    PRINCIPALS,
    SERVED,
    UNAUTHENTICATED,
    bearer,
    denied_by_auth,
    effective_routes,
    operations,
)

SERVICES = ("outflow", "inflow", "sync")


def _call(client: TestClient, method: str, url: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    kwargs = {"json": {}} if method in WRITE else {}
    response = client.request(method, url, headers=headers, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, body


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_closed_without_a_valid_token(
    services: dict[str, TestClient], service: str
) -> None:
    client = services[service]
    ops = operations(client.app)
    assert ops, f"{service} documents no operations"
    leaks = []
    for op in ops:
        url = op.url()
        for name, headers in UNAUTHENTICATED.items():
            status, body = _call(client, op.method, url, headers)
            if status != 401 or not denied_by_auth(status, body):
                leaks.append(f"{name}: {op.method} {op.path} -> {status} {body}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("service", SERVICES)
def test_every_role_and_place_gets_exactly_what_the_matrix_says(
    services: dict[str, TestClient], service: str
) -> None:
    client = services[service]
    unexpected_allows, unexpected_denies, checked = [], [], 0
    for op in operations(client.app):
        url = op.url()
        for name, principal in PRINCIPALS.items():
            token = issue_token(
                DEV_SECRET, role=principal.role, place=principal.place, subject="walk"
            )
            status, body = _call(client, op.method, url, bearer(token))
            allowed = not denied_by_auth(status, body)
            expected = decide(service, op.method, op.path, principal, SERVED[service]).allowed
            checked += 1
            if allowed and not expected:
                unexpected_allows.append(
                    f"{name}: {op.method} {op.path} -> {status} {str(body)[:160]}"
                )
            elif expected and not allowed:
                unexpected_denies.append(
                    f"{name}: {op.method} {op.path} -> {status} {str(body)[:160]}"
                )
    assert checked >= len(PRINCIPALS)
    assert not unexpected_allows, "UNEXPECTED ALLOWS:\n" + "\n".join(unexpected_allows)
    assert not unexpected_denies, "unexpected denies:\n" + "\n".join(unexpected_denies)


@pytest.mark.parametrize("service", SERVICES)
def test_the_matrix_keeps_the_brief_rules_on_every_route(
    services: dict[str, TestClient], service: str
) -> None:
    """Independent of the table: what the brief says may never happen, on each real route."""
    problems = []
    for op in operations(services[service].app):
        roles = roles_for(service, op.method, op.path) or frozenset()
        where = f"{service} {op.method} {op.path}: {sorted(roles)}"
        if service != "outflow" and Role.ORIGIN_OPERATOR in roles:
            problems.append(f"an origin operator reaches another service's data: {where}")
        if service != "inflow" and Role.HOST_OPERATOR in roles:
            problems.append(f"a host operator reaches another service's data: {where}")
        if op.method in WRITE and Role.AUDITOR in roles:
            problems.append(f"the auditor may write: {where}")
        if "personal-data" in op.path and roles - {Role.ORIGIN_OPERATOR, Role.HOST_OPERATOR}:
            problems.append(f"a non-operator role reads full personal data: {where}")
        admin_write = op.method in WRITE and Role.SYNC_ADMIN in roles
        if admin_write and service != "sync" and not op.path.startswith("/admin/"):
            problems.append(f"the exchange's admin writes a place's records: {where}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("service", SERVICES)
def test_routes_declare_what_the_matrix_says(services: dict[str, TestClient], service: str) -> None:
    """One truth: a route's `allow(...)` may not disagree with the matrix."""
    disagreements, declared_count = [], 0
    for route in effective_routes(services[service].app):
        declared = declared_roles(route)
        if declared is None:
            continue
        declared_count += 1
        for method in route.methods - {"HEAD", "OPTIONS"}:
            matrix = roles_for(service, method, route.path_format)
            if matrix != declared:
                disagreements.append(
                    f"{method} {route.path_format}: allow{sorted(declared)} "
                    f"but matrix {sorted(matrix or [])}"
                )
    assert declared_count, f"no route of {service} declares allow(...)"
    assert not disagreements, "\n".join(disagreements)


def test_a_route_outside_every_rule_is_denied_to_everyone() -> None:
    for service in MATRIX:
        for principal in PRINCIPALS.values():
            assert not decide(service, "GET", "/elsewhere", principal, SERVED[service]).allowed
            assert not decide(service, "TRACE", "/api/v1/members", principal, None).allowed
    assert READ.isdisjoint(WRITE)
