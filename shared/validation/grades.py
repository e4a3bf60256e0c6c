"""The four evaluation grades (优秀 / 合格 / 基本合格 / 不合格)."""

from __future__ import annotations

from enum import StrEnum

_LABELS_ZH = {
    "excellent": "优秀",
    "competent": "合格",
    "basically_competent": "基本合格",
    "not_competent": "不合格",
}


class Grade(StrEnum):
    """An evaluation grade; members are declared best first."""

    EXCELLENT = "excellent"
    COMPETENT = "competent"
    BASICALLY_COMPETENT = "basically_competent"
    NOT_COMPETENT = "not_competent"

    @property
    def label_zh(self) -> str:
        """The Chinese label, e.g. ``"基本合格"``."""
        return _LABELS_ZH[self.value]

    @property
    def rank(self) -> int:
        """0 for excellent up to 3 for not competent."""
        return list(Grade).index(self)

    @classmethod
    def from_label_zh(cls, label: str) -> Grade:
        """The grade whose Chinese label is ``label``; ``ValueError`` if none."""
        for grade in cls:
            if grade.label_zh == label:
                return grade
        raise ValueError(f"not an evaluation grade label: {label!r}")


def steps_apart(a: Grade | str, b: Grade | str) -> int:
    """How many grades separate ``a`` and ``b`` (0..3, order does not matter).

    Accepts members or their string values; ``ValueError`` for anything else.
    """
    return abs(Grade(a).rank - Grade(b).rank)


def grade_code(value: object) -> object:
    """A grade as users write it: the code or its Chinese label (优秀 → ``excellent``).

    Anything else passes through unchanged, for the field's own rule to refuse by name."""
    if isinstance(value, str):
        label = value.strip()
        for grade in Grade:
            if label == grade.label_zh:
                return grade.value
    return value


def grade_label(code: str | None) -> str | None:
    """The Chinese label of a grade code, or None where there is no grade (yet)."""
    return _LABELS_ZH.get(code) if code else None
