"""Least privilege over the whole API: every operation the OpenAPI document describes, called by every role and
by no one, is let in or refused exactly as its row of the role table (api/roles.py) says.

Admitted means any answer but 401 and 403: the calls carry made-up ids and empty bodies, so an
admitted caller mostly gets 404 or 422. A refused caller gets its 401 or 403 whatever the input,
malformed JSON included: input is judged only for a caller the route lets in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from api import roles
from domain.values import Role
from tests.integration.conftest import bearer

CALLERS: tuple[Role | None, ...] = (None, *Role)
REFUSALS = (401, 403)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every operation in the OpenAPI document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _dummy(parameter: dict[str, Any]) -> str:
    schema = parameter["schema"]
    if schema.get("format") == "uuid":
        return str(uuid4())
    return "0" * 64 if parameter["name"] == "sha256" else "x"


def call(client: Any, method: str, path: str, operation: dict[str, Any], caller: Role | None, body: str = "{}") -> Any:
    """The operation called with made-up path values, no query and `body`, as `caller` (None: no token)."""
    values = {p["name"]: _dummy(p) for p in operation.get("parameters", ()) if p["in"] == "path"}
    media = next(iter(operation.get("requestBody", {}).get("content", {})), None)
    headers = {**(bearer(caller, f"u-{caller.value}") if caller else {}), **({"Content-Type": media} if media else {})}
    return client.request(method, path.format(**values), headers=headers, content=body if media else None)


def admitted(row: roles.Operations, caller: Role | None) -> bool:
    """What the table says: a row with no roles is open to anyone; any other lets in only its roles."""
    return not row.roles or caller in row.roles


Answers = dict[tuple[str, str], dict[Role | None, int]]


@pytest.fixture(scope="module")
def answers_by_store() -> dict[str, Answers]:
    return {}


@pytest.fixture
def answers(request, settings, answers_by_store) -> Answers:
    """The status every caller gets from every operation, asked once per store for the tests that judge it:
    some five hundred calls, each test reading the part it judges from the same answers."""
    store = "postgres" if settings.database_url else "sqlite"
    if store not in answers_by_store:
        client = request.getfixturevalue("client")
        answers_by_store[store] = {
            (method, path): {caller: call(client, method, path, operation, caller).status_code for caller in CALLERS}
            for method, path, operation in operations(client.app.openapi())
        }
    return answers_by_store[store]


def reached(answers: Answers, role: Role) -> set[tuple[str, str]]:
    return {operation for operation, statuses in answers.items() if statuses[role] not in REFUSALS}


def test_every_operation_lets_in_exactly_the_roles_of_its_row_and_nobody_without_a_token(answers):
    assert len(answers) > 60
    wrong = []
    for (method, path), statuses in answers.items():
        row = roles.row_for(method, path)
        assert row is not None, f"{method} {path} has no row in the role table (api/roles.py)"
        for caller, status in statuses.items():
            expected = admitted(row, caller)
            refused_as = 401 if caller is None else 403
            if (status not in REFUSALS) != expected or (not expected and status != refused_as):
                wrong.append((method, path, caller and caller.value, status))
    assert wrong == []


def operational(answers) -> set[tuple[str, str]]:
    """The operations every caller reaches, with a token or without: health and metrics, no personal data."""
    return {(m, p) for m, p in answers if m == "GET" and (p == "/metrics" or p == "/health" or p.startswith("/health/"))}


def test_guards_and_telephony_reach_only_their_lookups(answers):
    assert reached(answers, Role.GUARD) == {("POST", "/front-desk/lookup"), *operational(answers)}
    assert reached(answers, Role.TELEPHONY) == {
        ("POST", "/phone-routing/lookup"), ("GET", "/phone-routing/snapshot"), *operational(answers),
    }


def test_management_reaches_statistics_only_never_personal_data(answers):
    others = {(m, p) for m, p in reached(answers, Role.MANAGEMENT) if not p.startswith("/statistics")}
    assert others == operational(answers)
    assert ("GET", "/statistics/releases/{release_id}") in reached(answers, Role.MANAGEMENT)


def test_police_report_data_is_recorded_by_leaders_only_and_read_by_leaders_and_legal_only(answers):
    police = {(m, p) for m, p in answers if "/police-report/" in p}
    assert len(police) == 8
    for operation in police:
        assert {r for r in Role if answers[operation][r] not in REFUSALS} == {Role.LEADER}, operation
    # The only reads showing police-report data: the incident (its section only for leaders and legal,
    # test_incidents_api.py) and legal's timelines.
    for operation in (("GET", "/incidents/{incident_id}/timeline"), ("GET", "/incidents/{incident_id}/timeline.pdf")):
        assert {r for r in Role if answers[operation][r] not in REFUSALS} == {Role.LEGAL}


def test_without_a_token_only_health_and_metrics_answer(answers):
    open_to_all = {operation for operation, statuses in answers.items() if statuses[None] != 401}
    assert open_to_all == operational(answers) and ("GET", "/health") in open_to_all


def _json_operations(client) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (m, p, o) for m, p, o in operations(client.app.openapi())
        if "application/json" in o.get("requestBody", {}).get("content", {})
    ]


def test_malformed_json_is_refused_as_the_caller_would_be_before_it_is_judged(client):
    checked = 0
    for method, path, operation in _json_operations(client):
        row = roles.row_for(method, path)
        outsider = next(r for r in Role if r not in row.roles)
        insider = row.roles[0]
        assert call(client, method, path, operation, None, "{not json").status_code == 401, path
        assert call(client, method, path, operation, outsider, "{not json").status_code == 403, path
        judged = call(client, method, path, operation, insider, "{not json")
        assert judged.status_code == 422 and judged.json()["errors"] == [{"field": "body", "reason": "not valid JSON"}]
        checked += 1
    assert checked > 40


def test_a_refused_caller_is_refused_before_any_wait_for_a_view(client):
    waiting = [(m, p, o) for m, p, o in operations(client.app.openapi())
               if any(q["name"] == "min_position" for q in o.get("parameters", ()))]
    assert len(waiting) == 3
    for method, path, operation in waiting:
        outsider = next(r for r in Role if r not in roles.row_for(method, path).roles)
        started = time.monotonic()
        headers = {**bearer(outsider), "Content-Type": "application/json"}
        refused = client.request(method, path, params={"min_position": 10**12}, headers=headers, content="{}")
        assert refused.status_code == 403 and time.monotonic() - started < 2, path
