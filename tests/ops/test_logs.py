"""Logs (docs/operations.md, "Logs"): one JSON line per event, naming the service, its place and
the request, and never a person's ID number, phone or name."""

from __future__ import annotations

import json
import logging
import random
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from shared.config import LogSettings
from shared.logging import configure_logging
from shared.validation import make_resident_id
from tests.support.backends import free_port
from tests.support.factories import member_body
from tests.support.harness import ServiceProcess, auth

ORIGIN = "371326"
RESIDENT_ID = make_resident_id(ORIGIN, date(1990, 1, 1), 123)
PHONE = "13812345678"
FORGED = '{"level": "error", "event": "forged"}'


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line, parsed: a line that is not JSON fails the test."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_lines_are_json_with_service_and_place_and_personal_data_masked(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("outflow", ORIGIN, LogSettings(log_format="json", log_level="INFO"))
    stdlib = logging.getLogger("tests.ops")
    stdlib.info("registered %s, phone %s", RESIDENT_ID, PHONE)
    stdlib.warning("contact", extra={"member_name": "张三丰", "household_address": "平邑镇1号"})
    structlog.get_logger("tests.ops").info(
        "imported", member={"name": "李四", "phone": PHONE}, ids=[RESIDENT_ID.lower()]
    )
    try:
        raise ValueError(f"no member with ID number {RESIDENT_ID}")
    except ValueError:
        stdlib.exception("lookup failed")
    stdlib.debug("below the level: %s", "dropped")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a library warning", UserWarning, stacklevel=1)

    out = capsys.readouterr().err
    lines = json_lines(out)
    assert [line["event"] for line in lines][:4] == [
        f"registered {RESIDENT_ID[:4]}{'*' * 10}{RESIDENT_ID[-4:]}, phone 138****5678",
        "contact",
        "imported",
        "lookup failed",
    ]
    assert all(line["service"] == "outflow" and line["place"] == ORIGIN for line in lines)
    assert lines[1]["member_name"] == "张**" and lines[1]["household_address"] == "*****"
    assert lines[2]["member"] == {"name": "李*", "phone": "138****5678"}
    assert "ValueError" in lines[3]["exception"]
    assert any("a library warning" in line["event"] for line in lines)  # warnings as JSON too
    assert "dropped" not in out
    for personal in (RESIDENT_ID, RESIDENT_ID.lower(), PHONE, "张三丰", "李四", "平邑镇1号"):
        assert personal not in out


def test_the_level_comes_from_the_settings(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("sync", settings=LogSettings(log_format="json", log_level="warning"))
    logging.getLogger("tests.ops").info("not shown")
    logging.getLogger("uvicorn.access").info("not shown either")
    logging.getLogger("tests.ops").warning("shown")
    lines = json_lines(capsys.readouterr().err)
    assert [(line["event"], line["service"], line["place"]) for line in lines] == [
        ("shown", "sync", None)
    ]


def test_a_running_service_logs_json_lines_that_name_the_request_and_no_person(
    pg_database_url: str, tmp_path: Path
) -> None:
    """The real process (uvicorn imports services/outflow/main.py): its start-up lines, its
    access lines, a member registered and a member looked up by mistake by ID number."""
    port = free_port()
    env = {
        "LIANGDI_PLACE": ORIGIN,
        "LIANGDI_DATABASE_URL": pg_database_url,
        "LIANGDI_SYNC_ENABLED": "false",
        "LIANGDI_LOG_LEVEL": "INFO",
    }
    service = ServiceProcess("outflow", port, env, tmp_path).start()
    member = member_body(random.Random(13), ORIGIN)
    writer = auth("origin_operator", ORIGIN)
    try:
        registered = httpx.post(
            f"{service.url}/api/v1/members",
            json=member,
            headers=writer | {"X-Request-ID": "ops-register-1"},
        )
        assert registered.status_code == 201, registered.text
        assert registered.headers["x-request-id"] == "ops-register-1"
        # An ID number where the member id belongs, a phone as a filter: both in the URL.
        mistaken = httpx.get(
            f"{service.url}/api/v1/members/{member['resident_id']}",
            params={"phone": member["phone"]},
            headers=writer | {"X-Request-ID": FORGED},
        )
        generated = mistaken.headers["x-request-id"]
        assert generated != FORGED and len(generated) == 32  # a new one: not a plain token
    finally:
        service.stop()

    text = (tmp_path / f"outflow-{port}.log").read_text()
    lines = json_lines(text)
    assert lines, text
    assert all(line["service"] == "outflow" and line["place"] == ORIGIN for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"] == "uvicorn.access"}
    assert access["ops-register-1"]["method"] == "POST"
    assert access["ops-register-1"]["path"] == "/api/v1/members"
    assert access["ops-register-1"]["status"] == 201
    assert access[generated]["path"].startswith(f"/api/v1/members/{member['resident_id'][:4]}*")
    phone = member["phone"]
    assert f"phone={phone[:3]}****{phone[-4:]}" in access[generated]["path"]
    for personal in (member["resident_id"], member["phone"], member["name"]):
        assert personal not in text


@pytest.mark.parametrize(("kind", "place"), [("inflow", "310115"), ("sync", None)])
def test_every_service_logs_json_lines_with_its_bound_fields(
    kind: str, place: str | None, pg_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    """The host's and the exchange's processes too: start-up and access lines are JSON objects
    naming the service, its place (none for the exchange) and each request."""
    port = free_port()
    env = {
        "LIANGDI_DATABASE_URL": pg_database_url,
        "LIANGDI_LOG_LEVEL": "INFO",
        "LIANGDI_NATS_URL": nats_url,  # the exchange is ready only with its broker
    }
    if place:
        env |= {"LIANGDI_PLACE": place, "LIANGDI_SYNC_ENABLED": "false"}
    service = ServiceProcess(kind, port, env, tmp_path).start()
    path = "/api/v1/members" if kind == "inflow" else "/admin/links"
    headers = auth("host_operator", place) if place else auth("sync_admin")
    try:
        answered = httpx.get(
            f"{service.url}{path}", headers=headers | {"X-Request-ID": f"ops-{kind}-1"}
        )
        assert answered.status_code in (200, 503), answered.text
    finally:
        service.stop()
    text = (tmp_path / f"{kind}-{port}.log").read_text()
    lines = json_lines(text)
    assert lines, text
    assert all(line["service"] == kind and line.get("place") == place for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(line["request_id"] == f"ops-{kind}-1" and line["path"] == path for line in access)
