"""No table holds a planted CPR number, name, phone number or sentence in clear: not the event store, not a view.

Known values are planted through the API as users would (a CPR number, a citizen's phone number,
an employee's name on every fact they record, sentences in a restriction's reasons and grounds, in
a skipped hearing's reason and in the reason it was lifted for, an incident's description, an
adjustment need, a meeting hosted by a named employee, and a letter to a named recipient), looked up at
the front desk and by telephony; a meeting is planned under a safety plan naming the employee, and the views
left to catch up (the worklists view then holds rows in each of its tables); management then takes out
figures (a statistics release is stored). Then every table of the database is searched for each value in clear
(tests/support/plaintext.py), on SQLite and on PostgreSQL: the events (sealed per data subject,
infra/sealed_events.py), the views, the documents, the access log, the keys.

The telephony consumer's own table is not in this database: it is the telephony side's.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import incident_facts, terms_body
from tests.support.plaintext import find_plaintext

CPR = "070761-4285"
NUMBER = "+4521436587"
REASONS = "Borgeren har gentagne gange truet med at opsøge sagsbehandlerens bopæl"
MILDER = "Skriftlig advarsel sendt efter episoden i venteværelset"
SKIPPED = "Sagsbehandleren frygter for sin sikkerhed ved næste møde"
DESCRIPTION = "Borgeren kastede en stol mod skranken og råbte trusler"
LIFTED = "Borgeren har deltaget i et forløb og undskyldt over for medarbejderne"
NEED = "Borgeren er ordblind og har brug for oplæsning"
EMPLOYEE = "Xenia Quistgaard"
RECIPIENT = "Yrsa Borgersen"
PLANTED = [CPR, NUMBER, REASONS, MILDER, SKIPPED, DESCRIPTION, LIFTED, NEED, EMPLOYEE, RECIPIENT]

LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", EMPLOYEE)
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")
MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Leder")

def _book(http, ref: str, room: str, days: int):
    """A meeting with the citizen `days` from now, hosted by the named employee; the booking's answer."""
    meeting = {"citizen_ref": ref, "place": {"centre": "JKI", "room": room}, "kind": "job_interview",
               "slot": {"date": (datetime.now(timezone.utc) + timedelta(days=days)).date().isoformat(), "starts": "10:00",
                        "ends": "11:00"}, "arranged_with_citizen": True,
               "host": {"team": "Team Nord", "employee": {"user_id": "c1", "name": EMPLOYEE}, "name_employee": True}}
    booked = http.post("/appointments", json=meeting, headers=CASEWORKER)
    assert booked.status_code == 201, booked.text
    return booked


def _plant(http) -> int:
    """A citizen with the values, lookups of them while restricted, then the restriction lifted; the last position."""
    ref = http.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    added = http.post(f"/contact-files/{ref}/phone-numbers", json={"number": "21 43 65 87"}, headers=CASEWORKER)
    assert added.status_code == 200, added.text
    need = {"description": NEED, "relies_on": ["written"]}
    assert http.post(f"/contact-files/{ref}/adjustment-needs", json=need, headers=CASEWORKER).status_code == 201
    reported = http.post("/incidents", json=incident_facts(ref, description=DESCRIPTION), headers=CASEWORKER)
    assert reported.status_code == 201, reported.text
    grounds = {"incident_ids": [reported.json()["incident_id"]], "milder_measures": [MILDER]}
    body = {"terms": terms_body(reasons=REASONS, phone={"rule": "banned"}), "grounds": grounds}
    proposed = http.post(f"/contact-files/{ref}/restrictions", json=body, headers=LEADER)
    assert proposed.status_code == 201, proposed.text
    one = f"/contact-files/{ref}/restrictions/{proposed.json()['created_id']}"
    skipped = http.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": SKIPPED}, headers=LEADER)
    assert skipped.status_code == 200, skipped.text
    decided = http.post(f"{one}/decision", headers=LEADER)
    assert decided.status_code == 200, decided.text
    booked = _book(http, ref, "Mødelokale 3", days=2)
    position = {"min_position": booked.json()["position"]}
    desk = http.post("/front-desk/lookup", params=position, json={"cpr": CPR}, headers=GUARD)
    routed = http.post("/phone-routing/lookup", params=position, json={"number": NUMBER}, headers=TELEPHONY)
    assert desk.json()["in_person"]["rule"] == "guard_present" and routed.json()["rule"] == "banned"
    # Cancelled, so the citizen can be erased (not while a meeting is pending); the view keeps the meeting's row.
    cancelled = http.post(f"/appointments/{booked.json()['appointment_id']}/cancel", json={"reason": "Aflyst"}, headers=CASEWORKER)
    assert cancelled.status_code == 200, cancelled.text
    letter = {"kind": "decision", "subject_id": proposed.json()["created_id"],
              "recipient": {"name": RECIPIENT, "address": ["Quillgade 77, 3. tv.", "2300 København S"]}}
    assert http.post(f"/contact-files/{ref}/letters", json=letter, headers=LEADER).status_code == 201
    lifted = http.post(f"{one}/lift", json={"reason": LIFTED}, headers=LEADER)
    assert lifted.status_code == 200, lifted.text
    return lifted.json()["position"]


def _plan_a_meeting(http) -> int:
    """A meeting hosted by the named employee under a safety plan naming them as the colleague present, left
    booked with its post-meeting to come, so the worklists view holds a row for it; the last position."""
    ref = http.post("/contact-files", json={"cpr": "180470-2931", "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    incident = http.post("/incidents", json=incident_facts(ref, description=DESCRIPTION), headers=CASEWORKER).json()
    booked = _book(http, ref, "Mødelokale 4", days=3)
    plan = {"plan": {"steps": ["colleague_present", "post_meeting"], "colleague": {"user_id": "c1", "name": EMPLOYEE}},
            "incident_ids": [incident["incident_id"]]}
    planned = http.post(f"/appointments/{booked.json()['appointment_id']}/safety-plan", json=plan, headers=LEADER)
    assert planned.status_code == 200, planned.text
    return planned.json()["position"]


def _months_till_now() -> dict[str, str]:
    """Whole months from the one before this one up to this one (the incident happened 3 days ago)."""
    this = datetime.now(timezone.utc).date().replace(day=1)
    before, after = (this - timedelta(days=1)).replace(day=1), (this + timedelta(days=31)).replace(day=1)
    return {"from": before.isoformat(), "to": after.isoformat()}


def test_no_table_holds_a_planted_value_in_clear(client, services, settings):
    head = max(_plant(client), _plan_a_meeting(client))
    for view in services.views:
        services.wait_for(view, head)
    assert all(services.db.read(f"SELECT count(*) FROM {table}")[0][0] for table in services.worklists.tables)
    assert client.get("/statistics", params=_months_till_now(), headers=MANAGEMENT).status_code == 200
    database = settings.database_url or settings.sqlite_path
    assert find_plaintext(database, PLANTED) == []
