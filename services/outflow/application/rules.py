"""The configurable numbers of the regulations on mobile members (reporting, verification,
lost contact, transfer letters) and on the assistance fund, as the application sees them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutflowRules:
    mobile_after_months: int = 6
    transfer_letter_validity_days: int = 90
    receipt_due_days: int = 30
    verification_interval_days: int = 92
    lost_contact_after_days: int = 183
    removal_after_suspension_days: int = 730
    public_notice_working_days: int = 5
    ineligible_after_inactive_days: int = 183
    ineligible_grade_years: int = 3
    #: ceiling per transaction in fen (LIANGDI_MAX_AMOUNT_FEN), 1,000,000 yuan by default
    max_amount_fen: int = 100_000_000

    @classmethod
    def from_settings(cls, settings: object) -> OutflowRules:
        names = cls.__dataclass_fields__
        return cls(**{n: getattr(settings, n) for n in names if hasattr(settings, n)})
