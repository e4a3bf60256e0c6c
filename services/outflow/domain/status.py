"""The vocabularies of a member's record: status, lost-contact reasons, kinds of contact."""

from __future__ import annotations

from enum import StrEnum


class MemberStatus(StrEnum):
    AT_HOME = "at_home"
    DEPARTED = "departed"
    RETURNED = "returned"
    LOST = "lost"  # 失联
    SUSPENDED = "suspended"  # 停止党籍 by decision after losing contact
    REMOVED = "removed"  # still unreachable 2 years after suspension
    TRANSFERRED = "transferred"  # 组织关系转出: the host has received the member


#: Statuses in which the member is away and the origin still answers for them.
AWAY = (MemberStatus.DEPARTED, MemberStatus.LOST, MemberStatus.SUSPENDED)
#: Statuses after which the origin's record is closed (history stays readable).
CLOSED = (MemberStatus.REMOVED, MemberStatus.TRANSFERRED)


class LostReason(StrEnum):
    """Reason codes for 失联 from the regulations."""

    LEFT_TO_WORK_OR_BUSINESS = "left_to_work_or_business"  # 外出务工经商
    UNIT_RESTRUCTURED_OR_BANKRUPT = "unit_restructured_or_bankrupt"  # 单位改制、破产
    UNKNOWN_AFTER_GRADUATION = "unknown_after_graduation"  # 毕业后去向不明
    WORK_UNIT_CHANGED = "work_unit_changed"  # 工作单位变动
    WENT_ABROAD = "went_abroad"  # 出国（境）
    RESIDENCE_CHANGED = "residence_changed"  # 居住地变更
    OTHER = "other"


class ContactKind(StrEnum):
    """What counts as contact for the lost-contact clock (either side)."""

    ACTIVITY = "activity"  # attended an activity (活动)
    REPORT = "report"  # reported to the host or to the origin (报到/汇报)
    VERIFICATION = "verification"  # the quarterly check reached them
    DUES = "dues"  # paid membership dues (党费)
    OTHER = "other"


#: Contacts that count as taking part (for assistance eligibility): activity or dues.
PARTICIPATION = (ContactKind.ACTIVITY, ContactKind.DUES)
