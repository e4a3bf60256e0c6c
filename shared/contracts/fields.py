"""The field types of the wire contract (`events.py`): each bounded to what the receiving place's
stores and read models hold (lengths are those of services/*/adapters/tables.py), so a fact out of
range is a schema violation, never a stored event."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

from shared.validation import ValidationFailed, validate_phone, validate_resident_id
from shared.validation.bounds import Code, Name, Text

MemberId = Code(36)
CertificateNo = Code(40)
LetterNo = Code(60)
RecordId = Code(100)
Reference = Code(200)
Org = Text(200)
Reason = Text(200)
Note = Text(500, min_len=0, multiline=True)
Comments = Text(2000, min_len=0, multiline=True)


def _resident_id(value: str) -> str:
    try:
        return validate_resident_id(value)
    except ValidationFailed as exc:
        raise ValueError(f"{exc.message} [{exc.code}]") from None


def _phone(value: str) -> str:
    try:
        return validate_phone(value)
    except ValidationFailed as exc:
        raise ValueError(f"{exc.message} [{exc.code}]") from None


# Personal fields travel sealed for the receiving place ("sealed:v1:<keys>:<base64>", see
# shared/security/sealing.py). A place opens them before it validates the fact; a reader without
# the keys (the exchange's reconciler, which keeps no personal data) sees the sealed form, which
# is bounded here in its own right.
SEALED_PREFIX = "sealed:v1:"
_SEALED = re.compile(r"sealed:v1:[0-9a-f]{12}\.[0-9a-f]{12}:[A-Za-z0-9_=-]{1,4000}")


def _clear_or_sealed(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, str) and value.startswith(SEALED_PREFIX):
        if not _SEALED.fullmatch(value):
            raise PydanticCustomError("sealed.malformed", "is not a well-formed sealed value")
        return value
    return handler(value)


Personal = WrapValidator(_clear_or_sealed)
# Both sides validate these before storing them (GB 11643, phone formats): the wire does too.
ResidentId = Annotated[str, Field(max_length=18), AfterValidator(_resident_id), Personal]
Phone = Annotated[str, Field(max_length=20), AfterValidator(_phone), Personal]
PersonName = Annotated[Name, Personal]
Address = Annotated[Text(300), Personal]
