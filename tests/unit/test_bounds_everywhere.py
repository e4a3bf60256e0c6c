"""Every request body, wire fact and query/path parameter of the place services, field by field:
none forgets its bound (NUL, 10,001 characters, 2^63 and year 9999 are refused in each), and a
property test that whatever a field accepts can be stored in PostgreSQL (text, varchar(n), BIGINT,
date) in the `test` database."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from services.inflow.entrypoints import schemas as inflow_schemas
from services.outflow.entrypoints import schemas, transfer_assessment_fund_schemas
from shared.contracts.registry import registered_types
from shared.validation.bounds import MAX_EXACT_FEN

# --- every field of every body and every fact -------------------------------------------------


def _request_models() -> list[type[BaseModel]]:
    found = []
    for module in (schemas, transfer_assessment_fund_schemas, inflow_schemas):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            strict = issubclass(cls, BaseModel) and cls.model_config.get("extra") == "forbid"
            if strict and cls.__module__ == module.__name__ and cls.model_fields:
                found.append(cls)
    return found


# The contract's own facts (tests may register example schemas of their own).
WIRE = [c for c in registered_types().values() if c.__module__.startswith("shared.contracts.")]
MODELS = sorted({*_request_models(), *WIRE}, key=lambda c: f"{c.__module__}{c.__name__}")
FIELDS = [(model, name) for model in MODELS for name in model.model_fields]


def field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """The field validated as the model validates it (its type, constraints and validators)."""
    info = model.model_fields[name]
    if not info.metadata:
        return TypeAdapter(info.annotation)
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)])  # type: ignore[misc]


def test_the_models_are_found() -> None:
    names = {m.__name__ for m in MODELS}
    assert {"Contribution", "RegisterMember", "ReportUnannounced", "MemberDeparted"} <= names
    assert len(FIELDS) > 150


@pytest.mark.parametrize(("model", "name"), FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_no_field_forgets_its_bound(model: type[BaseModel], name: str) -> None:
    adapter = field_adapter(model, name)
    kinds = _kinds(adapter.json_schema())
    if "string" in kinds:
        for value in ("x\u0000", "x" * 10_001):
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
    if "integer" in kinds:
        for value in (2**63, -(2**63) - 1):
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
    if "date" in kinds:
        for value in ("1800-01-01", "9999-12-31"):
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
    if "array" in kinds:
        assert "maxItems" in str(adapter.json_schema()), f"{model.__name__}.{name} has no maxItems"


def _kinds(schema: dict[str, Any]) -> set[str]:
    branches = schema.get("anyOf", [schema])
    kinds = set()
    for branch in branches:
        if "enum" in branch or "const" in branch:
            continue
        if branch.get("format") == "date":
            kinds.add("date")
        elif branch.get("format") in ("uuid", "date-time"):
            continue
        elif "type" in branch:
            kinds.add(branch["type"])
    return kinds


# --- property: what a field accepts, PostgreSQL holds -----------------------------------------

STRANGE_CHARS = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from(
        [
            "\u0000",
            "\ud800",
            "\u001b",
            "\u007f",
            "\u2028",
            "\u0301",
            "\ufb2c",
            "\n",
            "李",
            "A",
            "1",
            "-",
        ]
    ),
)
STRANGE_TEXT = st.one_of(
    st.text(STRANGE_CHARS, max_size=60),
    st.text(STRANGE_CHARS, min_size=95, max_size=2100),
    st.text(st.sampled_from("371326-0abcX李四."), max_size=40),
)
STRANGE_INT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2**31, 2**53, 2**63 - 1, 2**63, MAX_EXACT_FEN + 1]),
    st.integers(min_value=-10, max_value=3000),
)
STRANGE_DATE = st.one_of(
    st.dates().map(date.isoformat),
    st.dates(min_value=date(1890, 1, 1), max_value=date.today() + timedelta(days=800)),
)
BY_KIND = {"string": STRANGE_TEXT, "integer": STRANGE_INT, "date": STRANGE_DATE}


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[sa.Engine]:
    plain = postgres_url.split("?")[0].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(plain)
    yield engine
    engine.dispose()


def _store(conn: sa.Connection, value: object, max_length: int | None) -> None:
    if isinstance(value, str):
        conn.execute(sa.text("INSERT INTO held (t) VALUES (:v)"), {"v": value})
        if max_length is not None:
            table = f"v{max_length}"
            conn.execute(
                sa.text(f"CREATE TEMP TABLE IF NOT EXISTS {table} (v varchar({max_length}))")
            )
            conn.execute(sa.text(f"INSERT INTO {table} (v) VALUES (:v)"), {"v": value})
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        assert abs(value) <= MAX_EXACT_FEN
        conn.execute(sa.text("INSERT INTO held (n) VALUES (:v)"), {"v": value})
    elif isinstance(value, date):
        assert date(1900, 1, 1) <= value <= date(2199, 12, 31)
        value + timedelta(days=3 * 366), value - timedelta(days=3 * 366)  # deadline arithmetic
        conn.execute(sa.text("INSERT INTO held (d) VALUES (:v)"), {"v": value})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_a_field_accepts_postgresql_holds(pg: sa.Engine, data: st.DataObject) -> None:
    model, name = data.draw(st.sampled_from(FIELDS))
    adapter = field_adapter(model, name)
    kinds = _kinds(adapter.json_schema()) & set(BY_KIND)
    value = data.draw(st.one_of(*(BY_KIND[k] for k in sorted(kinds))) if kinds else STRANGE_TEXT)
    try:
        accepted = adapter.validate_python(value)
    except ValidationError:
        event("refused")
        return
    event(f"accepted {type(accepted).__name__}")
    max_length = _max_length(adapter.json_schema())
    with pg.connect() as conn:  # temporary tables, rolled back: nothing is left behind
        conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS held (t text, n bigint, d date)"))
        _store(conn, accepted, max_length)
        conn.rollback()


def _max_length(schema: dict[str, Any]) -> int | None:
    lengths = [b["maxLength"] for b in schema.get("anyOf", [schema]) if "maxLength" in b]
    return max(lengths) if lengths else None


# --- query and path parameters ----------------------------------------------------------------


def _parameters() -> list[tuple[str, str, Any]]:
    """Every query and path parameter of the place services' own routes."""
    found = []
    for kind in ("outflow", "inflow"):
        app = __import__(f"services.{kind}.main", fromlist=["create_app"]).create_app(lambda: None)
        for route in _api_routes(app.routes):
            if not route.endpoint.__module__.startswith(f"services.{kind}.entrypoints"):
                continue
            for param in _query_and_path(route.dependant):
                found.append((f"{kind} {route.path}", param.name, param.field_info))
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI resolves lazily)
            yield from _api_routes(route.original_router.routes)


def _query_and_path(dependant: Any) -> Iterator[Any]:
    yield from (*dependant.query_params, *dependant.path_params)
    for sub in dependant.dependencies:
        yield from _query_and_path(sub)


PARAMETERS = _parameters()


def test_the_parameters_are_found() -> None:
    names = {name for _, name, _ in PARAMETERS}
    assert {"as_of", "status", "letter_no", "employer", "origin_place", "offset"} <= names


@pytest.mark.parametrize(("route", "name", "info"), PARAMETERS, ids=lambda x: str(x)[:60])
def test_no_parameter_forgets_its_bound(route: str, name: str, info: Any) -> None:
    metadata = tuple(info.metadata)
    adapter = TypeAdapter(Annotated[(info.annotation, *metadata)] if metadata else info.annotation)
    kinds = _kinds(adapter.json_schema())
    values = {
        "string": ("x\u0000", "x" * 10_001),
        "integer": (2**63, -(2**63) - 1),
        "date": ("1800-01-01", "9999-12-31"),
    }
    for kind in kinds & set(values):
        for value in values[kind]:
            with pytest.raises(ValidationError):
                adapter.validate_python(value)
