"""Who may call which endpoint: every view declares it, and anything undeclared is refused.

    @bp.get("/dashboard")
    @allow(*SITE_STAFF)          # these roles (street roles then only see their own street)
    def index(): ...

    @public                      # no login (the login page itself)
    @allow(ANY_USER)             # any logged-in user

`gis_app.http.auth` checks the policy of the matched endpoint before the view runs: no policy
means 403 for everyone (default deny), so a blueprint merged later without policies is closed
until it declares them, and tests/integration/test_access_matrix.py fails on it. The policy says
which roles may enter; the services then decide what each may see and change (street scope),
and row-level security in PostgreSQL is the second wall behind them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from flask import Flask

from gis_app.core.actor import DISTRICT_ROLES, ROLES, STREET_ROLES

F = TypeVar("F", bound=Callable[..., Any])

ANY_USER: Final = "*"
DISTRICT: Final = DISTRICT_ROLES
STREET: Final = STREET_ROLES
SITE_STAFF: Final = (*DISTRICT_ROLES, *STREET_ROLES)
OPEN_DATA: Final = ("bureau_media", "agency")
#: roles that never change anything: every unsafe method is refused to them, whatever the view
#: (公安 answers support requests and records outcomes, 民政 records relief, the media centre
#: records its coverage: they write)
READ_ONLY_ROLES: Final = ("agency",)
#: endpoints Flask itself adds (static files)
PUBLIC_ENDPOINTS: Final = frozenset({"static"})
ATTRIBUTE: Final = "access_policy"


@dataclass(frozen=True)
class Policy:
    public: bool = False
    roles: tuple[str, ...] = ()

    def admits(self, role: str) -> bool:
        return self.public or ANY_USER in self.roles or role in self.roles

    def describe(self) -> str:
        if self.public:
            return "public"
        if ANY_USER in self.roles:
            return "any user"
        return ", ".join(self.roles)


def public(view: F) -> F:
    """No login needed (declared on purpose: the login page, health checks)."""
    setattr(view, ATTRIBUTE, Policy(public=True))
    return view


def allow(*roles: str) -> Callable[[F], F]:
    """Only these roles (or ANY_USER) may call the view."""
    unknown = [r for r in roles if r != ANY_USER and r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown roles in an access policy: {unknown or 'none given'}")

    def decorate(view: F) -> F:
        setattr(view, ATTRIBUTE, Policy(roles=tuple(roles)))
        return view

    return decorate


def policy_of(app: Flask, endpoint: str | None) -> Policy | None:
    """The declared policy of an endpoint (None: undeclared, so refused)."""
    if endpoint is None:
        return None
    if endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(".static"):
        return Policy(public=True)
    view = app.view_functions.get(endpoint)
    return getattr(view, ATTRIBUTE, None) if view is not None else None


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints of the URL map without a policy (the test walks this)."""
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if policy_of(app, rule.endpoint) is None
        }
    )


#: who reads the JSON API: site staff, and the open-data roles (no personal data for them)
API_READERS: Final = (*SITE_STAFF, *OPEN_DATA)
#: who sees 一张图 (the map pages and popups carry no personal data): site staff, the media centre
MAP_VIEWERS: Final = (*SITE_STAFF, "bureau_media")
#: who downloads the exports and reads the OGC API: as the JSON API (agencies with tokens)
EXPORT_READERS: Final = API_READERS
