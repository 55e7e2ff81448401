"""An incident reported from a meeting names the meeting from its own side, on SQLite and PostgreSQL: in its
read and in its legal timeline (JSON and PDF), where the meeting's fact of the link is an entry of its own."""

from __future__ import annotations

from domain.appointments.values import Outcome, Place
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.values import Role
from tests.integration.conftest import bearer
from tests.integration.test_statistics_meetings import DAY
from tests.support.cases import LEADER, report_incident
from tests.support.meetings import hold, slot

LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist", "Chefjurist")
LEADER_HTTP = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")


def test_the_incident_shows_the_meeting_it_was_reported_from(client, services):
    app = services.app
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    earlier = report_incident(app, ref)
    meeting = hold(app, ref, Place(centre="JKI", room="Lokale 1"), slot(DAY), outcome=Outcome.INTERRUPTED, report=True)
    incident = meeting.incident_id

    read = client.get(f"/incidents/{incident}", headers=LEADER_HTTP)
    assert read.status_code == 200 and read.json()["appointment_id"] == str(meeting.appointment_id), read.text
    assert client.get(f"/incidents/{earlier}", headers=LEADER_HTTP).json()["appointment_id"] is None

    timeline = client.get(f"/incidents/{incident}/timeline", headers=LEGAL)
    assert timeline.status_code == 200, timeline.text
    body = timeline.json()
    assert body["appointment_id"] == str(meeting.appointment_id) and body["perpetrator_refs"] == [str(ref)]
    link = [e for e in body["entries"] if e["type"] == "Appointment.IncidentReported"]
    assert [(e["originator_id"], e["name"]) for e in link] == [(str(meeting.appointment_id), "Hændelse anmeldt fra et møde")]
    # saved with the report, in one save: the two are the incident's first facts
    assert str(incident) in link[0]["summary"] and {e["type"] for e in body["entries"][:2]} == {
        "Incident.Reported", "Appointment.IncidentReported",
    }
    assert client.get(f"/incidents/{earlier}/timeline", headers=LEGAL).json()["appointment_id"] is None
    pdf = client.get(f"/incidents/{incident}/timeline.pdf", headers=LEGAL)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
