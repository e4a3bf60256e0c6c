"""The one rule for personal data in views (docs/security.md, "Personal data at rest and in
views"), applied by every route that shows a person:

- ID numbers, phones and addresses never reach a view in full: read models and histories keep
  them masked (`3713**********123X`, `138****5678`); full values only through the audited
  `/personal-data` routes;
- a person's name is shown in full only to those who may see personal data (the operators of the
  places holding the member, `Principal.sees_personal_data`); everyone else (auditors) sees
  `张**`. Branch, organisation and employer names are not people and stay.
"""

from __future__ import annotations

from typing import Any

from shared.security.tokens import Principal
from shared.validation import mask_name

# Keys that hold a person's name in records, events and their change sets.
NAME_FIELDS = frozenset({"name"})


def name_for(who: Principal, name: str) -> str:
    return name if who.sees_personal_data else mask_name(name)


def redact(who: Principal, value: Any) -> Any:
    """A JSON-like value (dicts, lists) with every person's name masked for `who` if needed."""
    if who.sees_personal_data:
        return value
    if isinstance(value, dict):
        return {
            k: mask_name(v) if k in NAME_FIELDS and isinstance(v, str) else redact(who, v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(who, item) for item in value]
    return value
