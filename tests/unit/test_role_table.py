"""The role table: README shows exactly the code's table, and every route admits the roles of its row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from api import roles
from api.routers import (
    appointments,
    as_of,
    contact_files,
    erasures,
    evidence,
    health,
    incidents,
    letters,
    lookups,
    restrictions,
    statistics,
    telephony,
    timeline,
    watching,
)
from domain.values import Role

README = Path(__file__).resolve().parents[2] / "README.md"
ROUTERS = (
    appointments, as_of, contact_files, erasures, evidence, health, incidents, letters, lookups, restrictions, statistics,
    telephony, timeline,
    watching,
)
OPEN = {"/health": roles.HEALTH, "/metrics": roles.METRICS}  # rows no role is needed for
ROUTES = [r for module in ROUTERS for r in module.router.routes if isinstance(r, APIRoute)]


def row_of(route: APIRoute) -> roles.Operations | None:
    """The role-table row whose check the route's dependencies include."""
    found = {getattr(d.call, "operations", None) for d in route.dependant.dependencies} - {None}
    assert len(found) <= 1, f"{route.path} has {len(found)} role checks"
    return found.pop() if found else None


def matches(endpoint: str, method: str, path: str) -> bool:
    """Whether a table endpoint (`METHOD /path`, `…` standing for any part of a path) names this route."""
    wanted_method, _, pattern = endpoint.rpartition(" ")
    if wanted_method and wanted_method != method:
        return False
    shape = re.escape(re.sub(r"\{[^}]*\}", "{}", pattern)).replace("…", ".*")
    return re.fullmatch(shape, re.sub(r"\{[^}]*\}", "{}", path)) is not None


def test_readme_shows_the_role_table_the_routes_use():
    assert roles.markdown() in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{'/'.join(sorted(r.methods))} {r.path}")
def test_every_route_admits_the_roles_of_a_row_that_names_it(route):
    row = row_of(route)
    (method,) = route.methods
    if any(matches(e, method, route.path) for open_row in OPEN.values() for e in open_row.endpoints):
        assert row is None and all(open_row.roles == () for open_row in OPEN.values())
        return
    assert row is not None, f"{route.path} checks no role from the table"
    assert any(matches(e, method, route.path) for e in row.endpoints), f"{method} {route.path} is not in {row.endpoints}"


def test_every_row_is_used_by_a_route():
    used = {row_of(route) for route in ROUTES}
    assert [row.endpoints for row in roles.TABLE if row not in used and row not in OPEN.values()] == []


def test_police_report_data_is_only_for_leaders_and_legal_and_legal_reads_cases_not_work_lists():
    assert roles.POLICE_REPORT.roles == (Role.LEADER,)
    assert Role.LEGAL not in roles.OVERDUE.roles
    assert roles.CLOSE_INCIDENT.roles == (Role.LEADER,)
    assert {Role.GUARD, Role.TELEPHONY, Role.MANAGEMENT}.isdisjoint(roles.READ_INCIDENT.roles)


def test_admin_is_admitted_by_no_endpoint_and_only_by_the_operator_s_commands():
    assert all(Role.ADMIN not in row.roles for row in roles.TABLE)
    assert [row.roles for row in roles.OPERATOR_COMMANDS] == [(Role.ADMIN,)]
    used = {role for row in (*roles.TABLE, *roles.OPERATOR_COMMANDS) for role in row.roles}
    assert used == set(Role), "every role has a row saying what it may do"
