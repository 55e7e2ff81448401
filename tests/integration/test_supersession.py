"""Repairing a view stopped by an event: the operator supersedes the event, the view applies the
replacement and goes on; the log keeps the original, and the legal timeline shows both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.security import issue_token
from consumers.relay import Relay
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.identity import Cpr
from domain.records.supersession import SupersedeEvent
from domain.values import Actor, Official, Role
from infra.services import Services
from infra.settings import Settings
from projections.incident_index import history
from tests.integration.conftest import SECRET, bearer
from tests.integration.test_view_currency import (
    POISON, PoisonedFrontDesk, assert_cannot_tell, desk, poisoned, until,
)
from tests.support.cases import LEADER, decide
from tests.support.secrets import secret_env, server_settings

OPERATOR = Actor(user_id="ops1", name="Ole Drift", role=Role.ADMIN)
OFFICIAL = Official(user_id="ops1", name="Ole Drift", title="Driftsansvarlig")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
FIXED = {"terms": {"in_person": {"instructions": "Vagt til stede; ring til teamleder"}}}
REASON = "Teksten blev gemt ufuldstændig; genindtastet fra afgørelsesbrevet"
VAERN = str(Path(sys.executable).with_name("vaern"))


def stored(services: Services, position: int):
    """The event at `position` exactly as the log holds it."""
    (notification,) = services.app.recorder.select_notifications(start=position, limit=1)
    return services.app.mapper.to_domain_event(notification)


def test_a_view_stopped_at_an_event_goes_on_once_the_event_is_superseded(settings):
    services = Services.build(settings)
    poisoned(services, "front_desk", PoisonedFrontDesk)
    services.start_views()
    with TestClient(create_app(settings, services)) as http:
        ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
        bad = decide(services.app, ref, in_person={"rule": "guard_present", "instructions": POISON})
        until(lambda: services.status()["views"]["front_desk"]["stopped_at"] == bad.position)
        assert_cannot_tell(desk(http, "211062-5629"), "front_desk")

        (proposed,) = [p for p, e in history(services.app, ref) if isinstance(e, ContactFile.RestrictionProposed)]
        services.app.supersede_event(SupersedeEvent(position=bad.position, corrections=FIXED, reason=REASON, official=OFFICIAL, actor=OPERATOR))
        _, recorded = services.app.supersede_event(SupersedeEvent(position=proposed, corrections=FIXED, reason=REASON, official=OFFICIAL, actor=OPERATOR))
        services.wait_for("front_desk", recorded)

        answer = desk(http, "211062-5629")
        assert answer.status_code == 200, answer.text
        assert answer.json()["in_person"]["rule"] == "guard_present"
        assert answer.json()["in_person"]["instructions"] == "Vagt til stede; ring til teamleder"
        health = http.get("/health").json()
        state = health["views"]["front_desk"]
        assert state["state"] == "current" and state["error"] is None and state["stopped_at"] is None
        assert health["status"] == "ok", health["problems"]  # every view took the supersession events in its stride

        # The log holds the events as recorded; the domain decides on the replacements.
        assert stored(services, bad.position).terms.in_person.instructions == POISON
        assert stored(services, proposed).terms.in_person.instructions == POISON
        (restriction,) = services.app.get_contact_file(ref).restrictions.values()
        assert restriction.terms.in_person.instructions == "Vagt til stede; ring til teamleder"

        timeline = http.get(f"/contact-files/{ref}/timeline", headers=LEGAL).json()["entries"]
        decided = next(e for e in timeline if e["position"] == bad.position)
        assert decided["type"] == "ContactFile.RestrictionDecided"
        superseded = [e for e in timeline if e["type"] == "SupersessionRegister.EventSuperseded"]
        assert [e["summary"].split(" (")[0] for e in superseded] == [f"Registrering {bad.position}", f"Registrering {proposed}"]
        assert "terms.in_person.instructions" in superseded[0]["summary"] and "Ole Drift" in superseded[0]["summary"]
        assert superseded[0]["actor"]["user_id"] == "ops1" and superseded[0]["position"] > bad.position


def admin_token(role: Role = Role.ADMIN) -> str:
    return issue_token(SECRET, role, "ops1", "Ole Drift", "Driftsansvarlig")


def supersede(settings: Settings, *args: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")},
           "VAERN_DATABASE_URL": str(settings.database_url), **secret_env(settings),
           "VAERN_TOKEN_SECRET": SECRET, "VAERN_DATA_DIR": str(settings.data_dir), "VAERN_OPERATOR_TOKEN": token,
           "VAERN_LOG_LEVEL": "WARNING"}
    return subprocess.run([VAERN, "projections", "supersede", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_command_line_supersedes_for_an_admin_names_only_the_fields_and_refuses_others(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path, token_secret=SECRET)
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    bad = decide(services.app, ref, in_person={"rule": "guard_present", "instructions": POISON})
    services.runner("phone_routing").catch_up()  # it applied the event as recorded
    head = services.events.head()
    args = (str(bad.position), "--corrections", '{"terms": {"in_person": {"instructions": "Vagt til stede"}}}',
            "--reason", REASON)

    tried = supersede(settings, *args, "--dry-run", token=admin_token())
    assert tried.returncode == 0, tried.stderr
    assert "corrects terms.in_person.instructions" in tried.stdout and "nothing recorded" in tried.stdout
    assert services.events.head() == head

    refused = supersede(settings, *args, token=admin_token(Role.LEADER))
    assert refused.returncode == 2 and "admin token" in refused.stderr and services.events.head() == head
    wrong = supersede(settings, str(bad.position), "--corrections", '{"terms": {"in_person": {"rule": "x"}}}',
                      "--reason", REASON, token=admin_token())
    assert wrong.returncode == 2 and "corrections.terms.in_person.rule" in wrong.stderr

    done = supersede(settings, *args, token=admin_token())
    assert done.returncode == 0, done.stderr
    assert f"recorded at position {services.events.head()} by Ole Drift, Driftsansvarlig" in done.stdout
    assert "keep its effect until rebuilt" in done.stdout and "phone_routing" in done.stdout
    for text in (done.stdout, done.stderr, tried.stdout, wrong.stderr):
        assert "Vagt til stede" not in text and POISON not in text  # values are never printed
    assert services.events.read(after=bad.position - 1, limit=1)[0][1].terms.in_person.instructions == "Vagt til stede"
    services.close()


def contacts(relay: Relay, start: int) -> tuple[int, list[str | None]]:
    """The end of the relay's next batch after `start`, and the phone contact each of its messages routes to."""
    batch = relay._next_batch(start)
    assert batch is not None
    routed = [json.loads(m.value)["data"]["restrictions"] for m in batch.messages]
    return batch.end, [r[0]["contact"] if r else None for r in routed]


def test_the_relay_reads_a_superseded_event_as_its_replacement_and_forgets_what_rested_on_the_original(settings):
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    services.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number="+4520304050", actor=LEADER))
    decide(services.app, ref, phone={"rule": "named_contact_only", "contact": "Team Nrod"})
    (proposed,) = [p for p, e in history(services.app, ref) if isinstance(e, ContactFile.RestrictionProposed)]
    (decided,) = [p for p, e in history(services.app, ref) if isinstance(e, ContactFile.RestrictionDecided)]
    relay = Relay(services.app, services.events, services.db, "127.0.0.1:9", "t-supersession")  # never connects
    end, published = contacts(relay, 0)
    assert published[-1] == "Team Nrod"  # as recorded: the relay had passed it

    # The terms stand in the proposal and, as decided, in the decision: both are corrected.
    for position in (proposed, decided):
        corrections = {"terms": {"phone": {"contact": "Team Nord"}}}
        services.app.supersede_event(SupersedeEvent(position=position, corrections=corrections, reason=REASON, official=OFFICIAL, actor=OPERATOR))
    services.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number="+4520304051", actor=LEADER))
    _, published = contacts(relay, end)
    assert published == ["Team Nord"]  # the citizen's next message carries the routing as corrected
    _, replayed = contacts(Relay(services.app, services.events, services.db, "127.0.0.1:9", "t-again"), 0)
    assert "Team Nrod" not in replayed and replayed[-1] == "Team Nord"  # read from the start: the replacement
    relay.close()
    services.close()
