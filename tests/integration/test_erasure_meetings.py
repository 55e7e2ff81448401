"""A citizen's erasure covers their meetings, on SQLite and PostgreSQL: refused while a meeting with them is
pending; afterwards no text of their meetings can be read with any key the system holds, the meeting still
reads (as erased) and takes no further change, and the meeting figures still count it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.appointments import commands as on
from domain.appointments.values import Host, Outcome, Place, SafetyPlan, SafetyStep
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.values import Role
from projections.statistics_meeting_figures import meeting_tables
from tests.integration.conftest import bearer
from tests.integration.test_erasure_api import AUTHORISATION, _decoded_log
from tests.integration.test_statistics_meetings import DAY, PERIOD
from tests.support.cases import LEADER, close_incident, report_incident
from tests.support.meetings import clock_at, hold, slot

LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist", "Chefjurist")
LEADER_HTTP = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
ROOM, TEAM, NOTE, WHY = "Lokale Xenophontes", "Team Quillfeather", "Borgeren nævnte Yolanda Brix", "Aflyst af Zygmunt"


def facts_of(services, *ids: UUID) -> list[Any]:  # type: ignore[no-untyped-def]
    app = services.app
    stored = app.recorder.select_notifications(start=1, limit=10**6)
    return [app.mapper.to_domain_event(n) for n in stored if n.originator_id in ids]


def overdue(client, app, starts_at) -> list[str]:  # type: ignore[no-untyped-def]
    """The meetings listed as overdue for their post-meeting five days after this one."""
    with clock_at(app, starts_at + timedelta(days=5)):
        listed = client.get("/appointments/post-meetings/overdue", headers=LEADER_HTTP)
    assert listed.status_code == 200, listed.text
    return [o["appointment_id"] for o in listed.json()]


def held(services) -> int:  # type: ignore[no-untyped-def]
    services.wait_for(services.statistics.name, services.events.head())
    position = services.statistics.position(services.db)
    raw = meeting_tables(services.db, PERIOD.months(), PERIOD.start_at, PERIOD.end_at, position)
    return raw["meetings_under_safety_plan"][0].value


def test_erasing_a_citizen_erases_their_meetings_and_keeps_them_counted(client, services):
    app = services.app
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    grounds = report_incident(app, ref)
    meeting = app.book_appointment(on.BookAppointment(
        citizen_ref=ref, place=Place(centre="JKI", room=ROOM), slot=slot(DAY), host=Host(team=TEAM),
        kind="follow_up_meeting", arranged_with_citizen=True, case="Sag Wilhelmina", actor=LEADER,
    )).appointment_id
    plan = SafetyPlan(steps=(SafetyStep.GUARD_NEARBY, SafetyStep.POST_MEETING))
    app.attach_safety_plan(on.AttachSafetyPlan(appointment_id=meeting, plan=plan, incident_ids=[grounds], actor=LEADER))
    starts_at = app.get_appointment(meeting).slot.starts_at
    with clock_at(app, starts_at + timedelta(minutes=50)):
        app.record_meeting_outcome(on.RecordMeetingOutcome(appointment_id=meeting, outcome=Outcome.HELD, note=NOTE,
                                                           actor=LEADER))
    pending = hold(app, ref, Place(centre="JKA", room=ROOM), slot(DAY, "13:00", "14:00"))
    close_incident(app, grounds)
    assert held(services) == 1

    refused = client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "citizen_ref", refused.text
    assert str(pending.appointment_id) in refused.json()["errors"][0]["reason"]
    app.cancel_appointment(on.CancelAppointment(appointment_id=pending.appointment_id, reason=WHY, actor=LEADER))
    assert ROOM in _decoded_log(services) and NOTE in _decoded_log(services)
    assert overdue(client, app, starts_at) == [str(meeting)]
    erased = client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL)
    assert erased.status_code == 200, erased.text

    log = _decoded_log(services)
    assert not [text for text in (TEAM, NOTE, WHY, "Wilhelmina") if text in log]
    # The room's name stays on the room's day (the centre's booking of its room, no one's personal data), and
    # nowhere in the meetings' own facts.
    assert not [e for e in facts_of(services, meeting, pending.appointment_id) if ROOM in e.model_dump_json()]
    read = client.get(f"/appointments/{meeting}", headers=LEADER_HTTP)
    assert read.status_code == 200 and ROOM not in read.text and NOTE not in read.text, read.text
    with clock_at(app, starts_at + timedelta(hours=2)):
        step = client.post(f"/appointments/{meeting}/safety-plan/steps/post_meeting/done", json={}, headers=LEADER_HTTP)
    assert step.status_code == 422 and step.json()["errors"][0]["field"] == "citizen_ref", step.text
    assert overdue(client, app, starts_at) == [], "its post-meeting can no longer be held, so it is not listed"
    assert held(services) == 1
