"""Writes the exchange's contract for other implementers: an AsyncAPI 3 document of the NATS
subjects and wire events (docs/contracts/asyncapi.json), and one JSON Schema per wire event
(docs/contracts/schemas/<name>.v<version>.json), generated from `shared/contracts` and the
subjects of `shared/messaging/topology.py`.

Which way a fact travels is read from the places' importers: a fact the host's service applies
goes origin → host (o2h), one the origin's service applies goes host → origin (h2o).

.venv/bin/python scripts/asyncapi.py          # rewrite docs/contracts/
.venv/bin/python scripts/asyncapi.py --check  # exit 1 if docs/contracts/ is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.inflow.adapters.imports import _HANDLERS as HOST_APPLIES  # noqa: E402
from services.outflow.adapters.imports import _HANDLERS as ORIGIN_APPLIES  # noqa: E402
from shared.contracts.envelope import H2O, O2H  # noqa: E402
from shared.contracts.registry import WireEvent, registered_types  # noqa: E402
from shared.messaging.topology import (  # noqa: E402
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    deadletter_subject,
    event_subject,
)

TARGET = REPO / "docs/contracts"
PLACE = {"type": "string", "pattern": "^[0-9]{6}$", "description": "6-digit county-level code"}


def direction_of(schema: type[WireEvent]) -> str:
    if schema in HOST_APPLIES and schema in ORIGIN_APPLIES:
        raise ValueError(f"{schema.name} is applied by both places")
    if schema in HOST_APPLIES:
        return O2H
    if schema in ORIGIN_APPLIES:
        return H2O
    raise ValueError(f"{schema.name} is applied by no place: every wire event must be")


def message_name(schema: type[WireEvent]) -> str:
    return f"{schema.name}.v{schema.version}"


def envelope_schema(schema: type[WireEvent], direction: str) -> dict[str, Any]:
    """The structured CloudEvent a message is (shared/contracts/envelope.py)."""
    return {
        "type": "object",
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "data",
            "liangdifrom",
            "liangdito",
            "liangdidir",
            "liangdistream",
            "liangdiseq",
            "liangdiprevseq",
        ],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "also the Nats-Msg-Id header"},
            "source": {"type": "string"},
            "type": {"const": schema.cloudevent_type()},
            "subject": {"type": "string", "description": "the member the fact is about"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "data": {"$ref": f"schemas/{message_name(schema)}.json"},
            "liangdifrom": PLACE,
            "liangdito": PLACE,
            "liangdidir": {"const": direction},
            "liangdistream": {
                "type": "string",
                "description": "the member: one ordered stream across all of the sender's "
                "aggregates about them",
            },
            "liangdiseq": {
                "type": "integer",
                "minimum": 1,
                "description": "the sender's notification id of the fact",
            },
            "liangdiprevseq": {
                "type": "integer",
                "minimum": 0,
                "description": "the previous fact's liangdiseq in this stream to this place, "
                "0 for the first: a receiver applies in this order",
            },
            "liangdikeyid": {"type": "string", "description": "signing key id"},
            "liangdisig": {"type": "string", "description": "Ed25519 signature (base64)"},
        },
    }


def render() -> dict[str, str]:
    """Every file of docs/contracts/, by path relative to it."""
    files: dict[str, str] = {}
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_direction: dict[str, list[str]] = {O2H: [], H2O: []}
    for name, schema in sorted(registered_types().items()):
        direction = direction_of(schema)
        key = message_name(schema).replace(".", "_")
        by_direction[direction].append(key)
        data_schema = schema.model_json_schema()
        data_schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **data_schema}
        files[f"schemas/{message_name(schema)}.json"] = _dump(data_schema)
        messages[key] = {
            "name": message_name(schema),
            "title": name,
            "summary": (schema.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {"Nats-Msg-Id": {"type": "string", "description": "= id"}},
            },
            "payload": envelope_schema(schema, direction),
        }
    parameters = {
        "from": {"description": "the sending place"},
        "to": {"description": "the receiving place"},
        "member": {"description": "the origin's member id"},
    }
    for direction, title in ((O2H, "origin → host"), (H2O, "host → origin")):
        channels[f"{direction}Facts"] = {
            "address": event_subject(direction, "{from}", "{to}", "{member}"),
            "title": f"Facts {title}",
            "description": f"Stored in the JetStream stream {EVENTS_STREAM}; a receiver consumes "
            f"liangdi.ev.{direction}.*.<its place>.> with explicit acks and applies each fact "
            "once, in each member's order.",
            "parameters": parameters,
            "messages": {
                key: {"$ref": f"#/components/messages/{key}"} for key in by_direction[direction]
            },
        }
    channels["deadLetters"] = {
        "address": deadletter_subject("{service}", "{place}"),
        "title": "Dead letters",
        "description": f"Stored in {DEADLETTER_STREAM}: the refused message as it arrived, with "
        "the Liangdi-Reason header (malformed, signature, schema, rejected, ...).",
        "parameters": {
            "service": {"enum": ["outflow", "inflow"]},
            "place": {"description": "the refusing place"},
        },
    }
    operations = {
        "originSendsFacts": _operation("send", "o2hFacts", "The origin's relay publishes"),
        "hostReceivesFacts": _operation("receive", "o2hFacts", "A host's receiver applies"),
        "hostSendsFacts": _operation("send", "h2oFacts", "A host's relay publishes"),
        "originReceivesFacts": _operation("receive", "h2oFacts", "The origin's receiver applies"),
    }
    document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "liangdi exchange (两地)",
            "version": "1",
            "description": "Facts an origin county and its host districts exchange over NATS "
            "JetStream. Generated by scripts/asyncapi.py; see docs/architecture.md.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "nats": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "user/password per place; TLS in production (docs/security.md)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    files["asyncapi.json"] = _dump(document)
    return files


def _operation(action: str, channel: str, summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
    }


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    files = render()
    present = {
        str(p.relative_to(TARGET)): p.read_text() for p in TARGET.rglob("*.json") if p.is_file()
    }
    if "--check" in argv:
        if present != files:
            stale = sorted(
                set(present) ^ set(files) | {k for k in files if present.get(k) != files[k]}
            )
            print("docs/contracts is out of date: run .venv/bin/python scripts/asyncapi.py")
            print("\n".join(stale[:20]))
            return 1
        return 0
    for stale in set(present) - set(files):
        (TARGET / stale).unlink()
    for path, text in files.items():
        (TARGET / path).parent.mkdir(parents=True, exist_ok=True)
        (TARGET / path).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
