"""One logging setup per process: every line on stderr, as JSON (or readable in development).

The services log through the standard library (`logging.getLogger(__name__)`); uvicorn, the
NATS client and the event store do too. All of it goes through one `structlog`
ProcessorFormatter, so an operator's log shipper reads one format (docs/operations.md, "Logs"):

- every line says which service and place it comes from; a request's lines (uvicorn's access
  line included) carry its `request_id` (shared/http/middleware.py); the link agent's lines
  carry `link` (shared/messaging/agent.py);
- no personal data: resident ID numbers and phone numbers are masked wherever they appear in
  a line, names and addresses under the keys that hold them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from shared.config import LogSettings
from shared.security.masking import NAME_FIELDS
from shared.validation import mask_name, mask_phone, mask_resident_id

# GB 11643: 17 digits and a check character; not part of a longer run of letters or digits.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
# Mainland mobiles, and landlines written with their area code (0539-1234567).
_PHONE = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8})(?![0-9])")

# Keys whose value is a person's name or address, whatever it looks like.
_NAME_KEYS = NAME_FIELDS | {"member_name", "full_name"}
_ADDRESS_KEYS = frozenset({"address", "household_address", "host_address"})

# uvicorn's loggers: their own handlers are replaced by the root's, so their lines are ours.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")

# Service and place of this process, for lines logged outside a request or a task that bound
# its own (uvicorn's start-up lines, library warnings).
_process: dict[str, Any] = {}


def mask_text(text: str) -> str:
    """`text` with every resident ID number and phone number masked."""
    text = _RESIDENT_ID.sub(lambda m: mask_resident_id(m[0]), text)
    return _PHONE.sub(lambda m: mask_phone(m[0]), text)


def _masked(key: str | None, value: Any) -> Any:
    if isinstance(value, str):
        if key in _NAME_KEYS:
            return mask_name(value)
        if key in _ADDRESS_KEYS:
            return "*" * len(value)
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _masked(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(None, item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask_text(str(value))  # rendered anyway: mask what it would show


def mask_personal_data(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The last step before rendering, so tracebacks and access lines are masked too."""
    return {key: _masked(key, value) for key, value in event_dict.items()}


def _add_process(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key, value in _process.items():
        event_dict.setdefault(key, value)
    return event_dict


def _foreign_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A standard-library record's fields: uvicorn's access line as `request` with method,
    path, status and client; not what another formatter left on the record (`message`) nor the
    terminal colours uvicorn passes along (`color_message`)."""
    args = event_dict.pop("positional_args", ())
    for leftover in ("message", "asctime", "color_message"):
        event_dict.pop(leftover, None)
    record = event_dict.get("_record")
    if record is not None and record.name == "uvicorn.access" and len(args) == 5:
        client, method, path, http_version, status = args
        event_dict.update(
            event="request",
            method=method,
            path=path,
            status=status,
            client=client,
            http_version=http_version,
        )
    return event_dict


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _renderer(settings: LogSettings) -> Processor:
    console = settings.log_format == "console" or (
        settings.log_format == "auto"
        and settings.environment == "development"
        and sys.stderr.isatty()
    )
    if console:
        return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def configure_logging(
    service: str, place: str | None = None, settings: LogSettings | None = None
) -> None:
    """Sets up logging for this process; calling it again (another app in a test process)
    replaces the setup rather than adding to it."""
    settings = settings or LogSettings()
    _process.clear()
    _process.update(service=service, place=place or settings.place)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_process,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        # `extra={...}` of a standard-library call becomes fields, masked like any other.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _foreign_fields],
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            mask_personal_data,
            _renderer(settings),
        ],
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _Stderr()
    handler.setFormatter(formatter)
    handler.set_name("liangdi")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "liangdi"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Python's warnings too: no line in another format. Off then on, so that a configuration
    # made again (another service in the same process) routes them even if something replaced
    # warnings.showwarning meanwhile.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    for name in _UVICORN:
        logger = logging.getLogger(name)
        # `--no-access-log` leaves uvicorn.access without handlers and not propagating: keep it.
        silenced = name == "uvicorn.access" and not logger.handlers and not logger.propagate
        if not silenced:
            logger.handlers.clear()
            logger.propagate = True
        logger.setLevel(logging.NOTSET)  # LIANGDI_LOG_LEVEL decides for every logger


def bind_service(service: str, place: str | None) -> None:
    """At a service's start: the lines of this process, and (taking precedence) of the tasks
    started from the caller's context, say which service and place they come from. Several
    services may share one process (tests); each one's tasks keep their own."""
    _process.update(service=service, place=place)
    structlog.contextvars.bind_contextvars(service=service, place=place)
