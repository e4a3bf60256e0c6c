"""What each group of operations is for, as the OpenAPI documents of the three services show it
(a test checks that every tag in use is described here)."""

from __future__ import annotations

_DESCRIBED = {
    # the origin county (流出地)
    "members": "The information base of mobile members (流动党员信息库): register, correct, read.",
    "departures": "Departure with an activity certificate (流动党员活动证), moves between hosts, "
    "return home, unannounced arrivals reported by hosts.",
    "verification": "The quarterly verification (查档案、查地址、查联系方式).",
    "lost contact": "Lost contact (失联), suspension (停止党籍), restoration and removal.",
    "transfers": "Transfer of membership by introduction letter (组织关系转接) and its receipt.",
    "assessments": "The annual assessment (民主评议): both evaluations, joint review, conclusion.",
    "assistance fund": "The hardship assistance fund (困难帮扶): applications, notice, payouts.",
    "personal data": "Reading a member's personal data in full: each read is audited.",
    "certificates": "The activity certificate as a printable document: reissue and cancellation.",
    "reports": "Reports for the county leadership and exports (CSV, XLSX): roster (花名册), "
    "fund ledger, evaluations.",
    # a host district (流入地)
    "arrivals": "Members expected from their origin, reporting (报到), unannounced arrivals.",
    "reporting": "The reporting deadline and overdue flags.",
    "branches": "Mobile-member branches (流动党员党支部): formation, membership, merges.",
    "activities": "Activities and attendance (organisational life at the host).",
    "evaluations": "The host's annual evaluation of its members (双向互评).",
    "assistance": "Hardship assistance requests raised by the host for its members.",
    "pioneer card": "The pioneer card (区域共管先锋卡): issue, revoke, reissue, check-in by card.",
    "host organisations": "Party organisations registered in the district, where cards check in.",
    "fixed days": "Fixed days of the branches (固定党日, 党员服务日, 议事会) and who attended.",
    "organisation tree": "The host office's organisations: branches, general branch (总支), "
    "committee (党委), as they grow.",
    "commitments and service": "Public commitments (党员承诺) and service hours in host teams.",
    # the exchange
    "admin": "Operating the exchange: links, dead letters, pause, replay, anti-entropy.",
    "reconciliation": "What both places say, compared: joint assessments and mismatches.",
    "dashboard": "The operators' dashboard (a page and its assets).",
    # every service
    "read models": "The service's read models: position, lag, halts; retry, skip, rebuild.",
    "audit": "The audit trail of writes and personal-data reads.",
    "health": "Liveness, readiness and metrics (public, no personal data).",
}

TAGS = [{"name": name, "description": text} for name, text in _DESCRIBED.items()]
DESCRIBED = frozenset(_DESCRIBED)
