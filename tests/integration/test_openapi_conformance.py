"""Schemathesis over every operation of the API on PostgreSQL: no server error, no undocumented answer.

Each generated request is sent with a token of every role and with none, once as generated and once
with its path naming things that exist (a citizen's file, an incident, a restriction, a letter, an
evidence file), so the requests reach the domain's rules and not only the 404s. Every answer must
have a documented status, content type, headers and body schema.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from api import roles
from api.app import create_app
from domain.contact_file.commands import IssueLetter, OpenContactFile
from domain.identity import Cpr
from domain.incident.commands import AttachEvidence
from domain.letters.kinds import LetterKind, Recipient
from domain.values import Role
from infra.keys import incident_subject
from infra.services import Services
from tests.integration.conftest import SECRET, bearer
from tests.support.cases import LEADER, OFFICIAL, RECIPIENT, decide, report_incident
from tests.support.secrets import server_settings

# Per operation; each is sent as each caller below, with generated and with existing ids. Fifteen make
# some seven thousand calls over the eighty-odd operations, every role the operation admits and one it
# refuses on each case; twenty-five took three and a half minutes, a ninth of the whole suite.
EXAMPLES = 15
CALLERS = {role.value: bearer(role, f"{role.value}-1", f"Test {role.value.title()}", None) for role in Role}
CALLERS["no token"] = {}


def callers(method: str, path: str) -> dict[str, dict[str, str]]:
    """Who sends a case: every role the operation's row admits, one role it refuses, and no token.

    Every role's refusal by every operation is the role matrix's test (test_role_matrix.py); sending each
    generated case as every refused role too would test the same refusal several times over."""
    row = roles.row_for(method, path)
    admitted = list(Role) if row is None or not row.roles else list(row.roles)
    refused = [role for role in Role if role not in admitted][:1]
    return {**{r.value: CALLERS[r.value] for r in (*admitted, *refused)}, "no token": CALLERS["no token"]}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def existing(services: Services) -> dict[str, str]:
    """Things the paths may name: a decided restriction on a file, its incident, a letter, an evidence file."""
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    decided = decide(services.app, ref)
    incident_id = report_incident(services.app, ref)
    letter = services.letters.issue(
        IssueLetter(
            citizen_ref=ref, kind=LetterKind.DECISION, subject_id=decided.created_id,
            recipient=Recipient.model_validate(RECIPIENT), official=OFFICIAL, actor=LEADER,
        )
    )
    text = b"Borgeren skrev: jeg ved hvor du bor\n"
    sha256 = services.blobs.put(text, "text/plain", subject=incident_subject(incident_id))
    services.app.attach_evidence(AttachEvidence(
        incident_id=incident_id, sha256=sha256, media_type="text/plain", size=len(text), description="SMS", actor=LEADER
    ))
    assert sha256 == hashlib.sha256(text).hexdigest()
    return {
        "citizen_ref": str(ref), "restriction_id": str(decided.created_id), "incident_id": str(incident_id),
        "letter_id": str(letter.created_id), "sha256": sha256,
    }


def test_every_operation_answers_every_caller_without_server_errors_and_only_as_documented(database_url, tmp_path):
    settings = server_settings(
        data_dir=tmp_path, database_url=database_url, token_secret=SECRET,
        read_wait_timeout=0.5,
    )
    services = Services.build(settings)
    services.start_views()
    known = existing(services)
    app = create_app(settings, services)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: dict[tuple[str, str], str] = {}
    started = time.monotonic()

    def send(case: Any) -> None:
        for caller, headers in callers(case.operation.method.upper(), case.operation.path).items():
            counts["calls"] += 1
            try:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                statuses[response.status_code] += 1
            except (Failure, FailureGroup, AssertionError) as error:
                for failure in getattr(error, "exceptions", [error]):
                    key = (case.operation.label, getattr(failure, "title", type(failure).__name__))
                    failures.setdefault(key, f"as {caller}: {failure}"[:600])

    for result in schema.get_all_operations():
        operation = result.ok()
        counts["operations"] += 1

        @hypothesis_settings(
            max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            counts["cases"] += 1
            send(case)
            named = {name: known[name] for name in case.path_parameters or {} if name in known}
            if named:
                case.path_parameters = {**case.path_parameters, **named}
                send(case)

        fuzz()
    services.close()
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {counts['operations']} operations, {counts['cases']} cases, {counts['calls']} calls,"
          f" {len(failures)} failures, {elapsed:.0f} s; answers by status: {dict(sorted(statuses.items()))}")
    assert counts["operations"] == len(app.openapi()["paths"]) or counts["operations"] > 60
    assert not failures, "\n\n".join(f"{label}: {title}\n{text}" for (label, title), text in sorted(failures.items()))
