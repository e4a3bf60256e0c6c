"""The role matrix: the one place that says which role may call which route of which service.

Every route of the three services is checked against this table before its handler runs
(`shared.http.auth.guard`, installed by `shared.http.app.service_app`). Rules are matched in order
by HTTP method and route template (fnmatch); the first match decides. A route no rule matches is
denied to everyone, so a new route is either covered by its prefix's rule or closed until a rule
is added here. The `allow(...)` a route declares must agree with this table (a test checks it);
at run time both apply, so a disagreement can only deny, never admit.

Place binding: an origin or host operator acts only on the service instance of its own place;
an auditor or sync admin holds place `*` (everywhere) or one place code (that place only).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from shared.security.tokens import ANY_PLACE, PLACE_BOUND, Principal, Role

READ = frozenset({"GET", "HEAD"})
WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The operators' dashboard page and its script and style carry no data: they read the admin
# endpoints with the operator's own token.
DASHBOARD_PATHS = frozenset({"/dashboard", "/dashboard/dashboard.js", "/dashboard/dashboard.css"})
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"}) | DASHBOARD_PATHS
PERSONAL_DATA = "*/personal-data*"

ORIGIN, HOST = Role.ORIGIN_OPERATOR, Role.HOST_OPERATOR
ADMIN, AUDITOR = Role.SYNC_ADMIN, Role.AUDITOR


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    pattern: str  # fnmatch pattern over the route template, e.g. /api/v1/members/{member_id}
    roles: frozenset[Role]

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and fnmatchcase(path, self.pattern)


def rule(methods: frozenset[str], pattern: str, *roles: Role) -> Rule:
    return Rule(methods, pattern, frozenset(roles))


def _place_service(operator: Role) -> tuple[Rule, ...]:
    return (
        # Full ID numbers, phones and addresses: only the operator of the place holding the member.
        rule(READ, PERSONAL_DATA, operator),
        rule(WRITE, PERSONAL_DATA),
        # Who did what here: the auditor, and the place's own operator (the data controller).
        rule(READ, "/api/v1/audit*", AUDITOR, operator),
        rule(WRITE, "/api/v1/audit*"),
        rule(READ, "/api/v1/*", operator, AUDITOR),
        rule(WRITE, "/api/v1/*", operator),
        # The place's own read models (docs/operations.md): its operator and the exchange's
        # operators may resume one that halted; the auditor may look.
        rule(READ, "/admin/read-models*", operator, ADMIN, AUDITOR),
        rule(WRITE, "/admin/read-models*", operator, ADMIN),
        # Link steering on a place service (pause, replay) belongs to the exchange's operators.
        rule(READ, "/admin/*", ADMIN, AUDITOR),
        rule(WRITE, "/admin/*", ADMIN),
    )


MATRIX: dict[str, tuple[Rule, ...]] = {
    "outflow": _place_service(ORIGIN),
    "inflow": _place_service(HOST),
    "sync": (
        rule(READ | WRITE, PERSONAL_DATA),
        rule(READ, "/api/v1/audit*", AUDITOR, ADMIN),
        rule(WRITE, "/api/v1/audit*"),
        rule(READ, "/admin/*", ADMIN, AUDITOR),
        rule(WRITE, "/admin/*", ADMIN),
        rule(READ, "/api/v1/*", ADMIN, AUDITOR),
        rule(WRITE, "/api/v1/*", ADMIN),
    ),
}


def roles_for(service: str, method: str, path: str) -> frozenset[Role] | None:
    """The roles admitted to a route; None when no rule covers it (denied to all)."""
    for candidate in MATRIX.get(service, ()):
        if candidate.matches(method.upper(), path):
            return candidate.roles
    return None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str = ""
    message: str = ""


def decide(
    service: str, method: str, path: str, principal: Principal, served_place: str | None
) -> Decision:
    """Whether `principal` may call `method path` on this instance of `service`."""
    roles = roles_for(service, method, path)
    if roles is None:
        return Decision(False, "auth.not_in_matrix", f"{method} {path} is in no rule of {service}")
    if principal.role not in roles:
        return Decision(False, "auth.forbidden", f"role {principal.role} may not do this")
    if principal.role in PLACE_BOUND:
        if served_place is None or principal.place != served_place:
            return Decision(
                False,
                "auth.wrong_place",
                f"token is for place {principal.place}, not {served_place or 'the exchange'}",
            )
    elif principal.place != ANY_PLACE and principal.place != served_place:
        return Decision(False, "auth.wrong_place", f"token is limited to place {principal.place}")
    return Decision(True)


def is_personal_data(path: str) -> bool:
    return fnmatchcase(path, PERSONAL_DATA)
