"""Versioned wire-event schemas, and upcasting of older versions still in flight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

TYPE_PREFIX = "cn.liangdi."


class WireEvent(BaseModel):
    """Base of every schema that crosses between places."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str]
    version: ClassVar[int]

    @classmethod
    def cloudevent_type(cls) -> str:
        return f"{TYPE_PREFIX}{cls.name}.v{cls.version}"


class UnknownEventType(ValueError):
    pass


class SchemaViolation(ValueError):
    pass


_schemas: dict[str, type[WireEvent]] = {}  # name -> current schema
_upcasters: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def wire_event(name: str, version: int = 1) -> Callable[[type[WireEvent]], type[WireEvent]]:
    """Registers a schema as the current version of `name`."""

    def register(cls: type[WireEvent]) -> type[WireEvent]:
        cls.name, cls.version = name, version
        _schemas[name] = cls
        return cls

    return register


def upcaster(name: str, from_version: int):  # type: ignore[no-untyped-def]
    """Registers a function turning version `from_version` of `name` into the next version."""

    def register(fn: Callable[[dict[str, Any]], dict[str, Any]]):  # type: ignore[no-untyped-def]
        _upcasters[(name, from_version)] = fn
        return fn

    return register


def split_type(event_type: str) -> tuple[str, int]:
    if not event_type.startswith(TYPE_PREFIX) or ".v" not in event_type:
        raise UnknownEventType(f"event type {event_type!r} is not a liangdi type")
    name, _, version = event_type[len(TYPE_PREFIX) :].rpartition(".v")
    if not version.isdigit():
        raise UnknownEventType(f"event type {event_type!r} has no version")
    return name, int(version)


def parse_wire_event(event_type: str, data: Any) -> WireEvent:
    """Validates `data` as `event_type`, upcasting an older version to the current schema."""
    name, version = split_type(event_type)
    schema = _schemas.get(name)
    if schema is None:
        raise UnknownEventType(f"no schema for event type {name!r}")
    if version > schema.version:
        raise UnknownEventType(f"{name} v{version} is newer than this receiver's v{schema.version}")
    if not isinstance(data, dict):
        raise SchemaViolation(f"{name} v{version}: data must be a JSON object")
    while version < schema.version:
        step = _upcasters.get((name, version))
        if step is None:
            raise UnknownEventType(f"no upcaster for {name} v{version}")
        data, version = step(dict(data)), version + 1
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SchemaViolation(f"{name} v{version}: {where}: {first['msg']}") from None


def schema_for(name: str) -> type[WireEvent]:
    return _schemas[name]


def registered_types() -> dict[str, type[WireEvent]]:
    return dict(_schemas)


def schema_modules() -> list[str]:
    """The modules that registered this process's schemas and upcasters: what another process
    imports to read the same contract (shared/messaging/checks_apart.py)."""
    owners = {cls.__module__ for cls in _schemas.values()}
    owners |= {fn.__module__ for fn in _upcasters.values()}
    return sorted(owners)
