"""Legal review over HTTP, on SQLite and PostgreSQL: timelines, as-of answers, PDF export, access logging."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_commands import ExpireRestriction
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.incident.facts import COPENHAGEN
from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.pdfs import check_layout, rendered, text_of
from api.routers.timeline import WITHHELD
from tests.support.cases import LEADER as ACTOR
from tests.support.cases import OFFICIAL, RECIPIENT, decide_over_http, incident_facts, report_incident, terms_body

CPR = "211062-5629"
OTHER_CPR = "010190-1235"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
DESK = ("in_person", "also_in_force", "appointments_today", "appointment_note")  # what the desk answered


def legal_reads(services, ref):
    rows = services.db.read(
        "SELECT user_id, purpose, what FROM vaern_access_log WHERE subject_ref = %s AND role = 'legal' ORDER BY id",
        (str(ref),),
    )
    return [tuple(r) for r in rows]


@pytest.fixture
def ref(client):
    ref = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    assert client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER).status_code == 200
    return ref


@pytest.fixture
def decided(client, ref):
    """A decided restriction with its decision letter issued and dispatched."""
    decision = decide_over_http(client, ref, LEADER, CASEWORKER)
    body = {"kind": "decision", "subject_id": decision["restriction_id"], "recipient": RECIPIENT}
    letter = client.post(f"/contact-files/{ref}/letters", json=body, headers=LEADER)
    assert letter.status_code == 201, letter.text
    letter_id = letter.json()["created_id"]
    sent = client.post(f"/contact-files/{ref}/letters/{letter_id}/dispatch", json={"channel": "digital_post"}, headers=LEADER)
    assert sent.status_code == 200, sent.text
    sha256 = client.get(f"/contact-files/{ref}", headers=LEGAL).json()["letters"][0]["sha256"]
    return {**decision, "letter_id": letter_id, "sha256": sha256, "position": sent.json()["position"]}


def test_the_citizen_timeline_lists_every_fact_in_log_order_with_times_actor_summary_and_letters(client, services, ref, decided):
    client.get(f"/contact-files/{ref}", headers=CASEWORKER)  # a caseworker looked
    answer = client.get(f"/contact-files/{ref}/timeline", headers=LEGAL)
    assert answer.status_code == 200, answer.text
    timeline = answer.json()
    entries = timeline["entries"]
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert timeline["position"] >= positions[-1] >= decided["position"]
    assert [e["type"] for e in entries] == [
        "ContactFile.Opened", "ContactFile.PhoneNumberRegistered", "Incident.Reported", "ContactFile.RestrictionProposed",
        "ContactFile.HearingSkipped", "ContactFile.RestrictionDecided", "ContactFile.LetterIssued",
        "ContactFile.LetterDispatched",
    ]
    decision = entries[5]
    assert decision["actor"] == {"user_id": "l1", "name": "Lone Hansen", "role": "leader"}
    assert decision["summary"].startswith(f"Restriktion {decided['restriction_id'][:8]} besluttet af Lone Hansen")
    assert decision["letters"] == [{"letter_id": decided["letter_id"], "kind": "decision", "sha256": decided["sha256"]}]
    assert datetime.fromisoformat(decision["recorded_at"]) >= datetime.fromisoformat(entries[0]["recorded_at"])
    assert entries[2]["actor"]["role"] == "caseworker" and entries[2]["summary"].startswith("Hændelse indberettet: trusler")
    assert [i["until_position"] for i in timeline["incidents"]] == [None]
    # Who looked, with staff identities (unlike the citizen's own report); this read included.
    looked = [(a["user_id"], a["role"], a["what"]) for a in timeline["accesses"]]
    assert ("c1", "caseworker", "contact_file") in looked and looked[-1] == ("j1", "legal", "legal_timeline")


def correct_perpetrator(client, incident_id, citizen_ref, reason="Forkert borger angivet"):
    body = {"changes": {"perpetrator": {"kind": "citizen", "citizen_ref": citizen_ref}}, "reason": reason}
    corrected = client.post(f"/incidents/{incident_id}/corrections", json=body, headers=CASEWORKER)
    assert corrected.status_code == 200, corrected.text
    return corrected.json()["position"]


def add_note(client, incident_id, text):
    noted = client.post(f"/incidents/{incident_id}/notes", json={"text": text}, headers=CASEWORKER)
    assert noted.status_code == 200, noted.text
    return noted.json()["position"]


def test_an_incident_corrected_to_another_citizen_stays_on_the_timeline_up_to_the_correction(client, services, ref):
    other = client.post("/contact-files", json={"cpr": OTHER_CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    reported = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()
    corrected = correct_perpetrator(client, reported["incident_id"], other)
    add_note(client, reported["incident_id"], "Den rette borger ringede igen")  # about the other citizen only
    mine = client.get(f"/contact-files/{ref}/timeline", headers=LEGAL).json()
    theirs = client.get(f"/contact-files/{other}/timeline", headers=LEGAL).json()
    assert mine["incidents"] == [
        {"incident_id": reported["incident_id"], "since_position": reported["position"], "until_position": corrected}
    ]
    assert theirs["incidents"] == [
        {"incident_id": reported["incident_id"], "since_position": corrected, "until_position": None}
    ]
    assert [e["type"] for e in mine["entries"]][-2:] == ["Incident.Reported", "Incident.Corrected"]
    assert not any(e["type"] == "Incident.NoteAdded" for e in mine["entries"])
    assert [e["type"] for e in theirs["entries"]][-3:] == ["Incident.Reported", "Incident.Corrected", "Incident.NoteAdded"]
    incident = client.get(f"/incidents/{reported['incident_id']}/timeline", headers=LEGAL).json()
    assert incident["perpetrator_refs"] == [ref, other]
    assert [e["type"] for e in incident["entries"]] == ["Incident.Reported", "Incident.Corrected", "Incident.NoteAdded"]
    assert incident["entries"][1]["summary"] == f"Oplysninger rettet (udøver nu borger {other[:8]}): Forkert borger angivet"
    # The first citizen's timeline shows the correction naming the other: both reads are logged, for each.
    assert ("j1", "legal_review", "legal_timeline") in legal_reads(services, ref)
    assert [w for _, _, w in legal_reads(services, other)].count("legal_timeline") == 2
    for citizen in (ref, other):  # the incident timeline shows both citizens' data: both reads are logged
        assert ("j1", "legal_review", "incident_timeline") in legal_reads(services, citizen)


def test_facts_recorded_while_an_incident_named_another_citizen_are_withheld_from_this_citizens_timeline(
    client, services, ref
):
    other = client.post("/contact-files", json={"cpr": OTHER_CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    reported = client.post("/incidents", json=incident_facts(other), headers=CASEWORKER).json()
    incident_id = reported["incident_id"]
    about_them = add_note(client, incident_id, "Den anden borger fortalte om sin diagnose")
    to_me = correct_perpetrator(client, incident_id, ref)
    about_me = add_note(client, incident_id, "Den rette borger ringede igen")
    before = {r[2] for r in legal_reads(services, other)}
    mine = client.get(f"/contact-files/{ref}/timeline", headers=LEGAL).json()
    lines = {e["position"]: e for e in mine["entries"] if e["originator_id"] == incident_id}
    assert list(lines) == [reported["position"], about_them, to_me, about_me]
    assert [lines[p]["summary"] for p in (reported["position"], about_them)] == [WITHHELD, WITHHELD]
    assert lines[about_them]["type"] == "Incident.NoteAdded" and lines[about_them]["letters"] == []
    assert "diagnose" not in str(mine) and other[:8] not in str(mine["entries"])
    assert "Den rette borger ringede igen" in lines[about_me]["summary"]
    assert {r[2] for r in legal_reads(services, other)} == before  # nothing of theirs was shown
    pdf = client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL)
    assert "diagnose" not in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)


def test_an_incident_named_corrected_away_and_named_again_keeps_both_spells(client, services, ref):
    other = client.post("/contact-files", json={"cpr": OTHER_CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    reported = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()
    incident_id = reported["incident_id"]
    away = correct_perpetrator(client, incident_id, other)
    about_them = add_note(client, incident_id, "Noteret om den anden borger")
    back = correct_perpetrator(client, incident_id, ref, "Alligevel den første borger")
    about_me = add_note(client, incident_id, "Noteret om den første borger")
    mine = client.get(f"/contact-files/{ref}/timeline", headers=LEGAL).json()
    assert mine["incidents"] == [
        {"incident_id": incident_id, "since_position": reported["position"], "until_position": away},
        {"incident_id": incident_id, "since_position": back, "until_position": None},
    ]
    lines = {e["position"]: e["summary"] for e in mine["entries"] if e["originator_id"] == incident_id}
    assert list(lines) == [reported["position"], away, about_them, back, about_me]
    assert lines[about_them] == WITHHELD and "Noteret om den første borger" in lines[about_me]
    theirs = client.get(f"/contact-files/{other}/timeline", headers=LEGAL).json()
    assert theirs["incidents"] == [{"incident_id": incident_id, "since_position": away, "until_position": back}]
    lines = {e["position"]: e["summary"] for e in theirs["entries"] if e["originator_id"] == incident_id}
    assert list(lines) == [reported["position"], away, about_them, back]
    assert lines[reported["position"]] == WITHHELD and "Noteret om den anden borger" in lines[about_them]
    pdf = client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert f"angivet fra logposition {reported['position']} til en rettelse på position {away}" in text
    assert f"angivet fra logposition {back} (stadig angivet)" in text


def test_the_reconstructed_front_desk_and_phone_answers_equal_what_the_live_lookups_said(client, services, ref, decided):
    # Two scopes with equal in-person rules, a shared number, an amendment before and after, an expiry.
    centre = decide_over_http(
        client, ref, LEADER, CASEWORKER, scope={"kind": "centre", "centre": "JKI"}, phone={"rule": "open"},
        valid_until=(datetime.now(timezone.utc) + timedelta(days=60)).isoformat(),
    )
    short = decide_over_http(
        client, ref, LEADER, CASEWORKER, scope={"kind": "case", "case": "S-1"}, phone={"rule": "open"},
        in_person={"rule": "by_appointment"},
        valid_until=(datetime.now(timezone.utc) + timedelta(seconds=4)).replace(microsecond=0).isoformat(),
    )
    other = client.post("/contact-files", json={"cpr": OTHER_CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    shared = client.post(f"/contact-files/{other}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER)
    assert shared.status_code == 200, shared.text
    banned_phone = decide_over_http(client, other, LEADER, CASEWORKER, phone={"rule": "banned"})
    amend(client, ref, centre["restriction_id"], in_person={"rule": "guard_present", "instructions": "Mød i receptionen"})
    time.sleep(max(0.0, (datetime.fromisoformat(current_terms(client, ref, short["restriction_id"])["valid_until"])
                         - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    expired = services.app.expire_restriction(
        ExpireRestriction(citizen_ref=UUID(ref), restriction_id=UUID(short["restriction_id"]))
    )

    desk_headers = {"params": {"min_position": expired.position}, "json": {"cpr": CPR}, "headers": GUARD}
    live_desk = client.post("/front-desk/lookup", **desk_headers).json()
    live_phone = client.post("/phone-routing/lookup", params={"min_position": expired.position},
                             json={"number": "20304050"}, headers=TELEPHONY).json()
    assert [t["scope"]["kind"] for t in (live_desk["in_person"], *live_desk["also_in_force"])] == ["centre", "administration"]
    assert live_phone["rule"] == "banned"

    amended = amend(client, ref, decided["restriction_id"], in_person={"rule": "banned"}, phone={"rule": "banned"})
    lifted = client.post(f"/contact-files/{ref}/restrictions/{centre['restriction_id']}/lift",
                         json={"reason": "Forholdene er normaliseret"}, headers=LEADER)
    assert lifted.status_code == 200, lifted.text
    incident_id = client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"][0]["grounds"]["incident_ids"][0]
    corrected = client.post(f"/incidents/{incident_id}/corrections", headers=CASEWORKER,
                            json={"changes": {"description": "Borgeren slog i bordet"}, "reason": "Præciseret"})
    assert corrected.status_code == 200, corrected.text
    now_desk = client.post("/front-desk/lookup", params={"min_position": lifted.json()["position"]}, json={"cpr": CPR},
                           headers=GUARD).json()
    assert now_desk["in_person"]["rule"] == "banned" and now_desk["also_in_force"] == []  # the live answer moved on

    desk_at = datetime.fromisoformat(live_desk["checked_at"])
    answer = client.get(f"/contact-files/{ref}/as-of", params={"at": desk_at.isoformat()}, headers=LEGAL)
    assert answer.status_code == 200, answer.text
    then = answer.json()
    assert then["front_desk"] == {k: live_desk[k] for k in DESK}
    phone_at = datetime.fromisoformat(live_phone["checked_at"])
    (phone,) = client.get(f"/contact-files/{ref}/as-of", params={"at": phone_at.isoformat()}, headers=LEGAL).json()["phone_routing"]
    assert phone["number"] == "+4520304050" and phone["restriction_id"] == banned_phone["restriction_id"]
    assert sorted(phone["holders"]) == sorted([ref, other])
    assert {k: phone[k] for k in ("rule", "contact", "windows", "valid_until", "known_number")} == {
        k: live_phone[k] for k in ("rule", "contact", "windows", "valid_until", "known_number")
    }
    assert [r["status"] for r in then["known_then"]["restrictions"]] == ["decided", "decided", "expired"]
    assert [l["sha256"] for l in then["known_then"]["letters"]] == [decided["sha256"]]
    in_force = {r["restriction_id"]: r for r in then["in_force_known_now"]}
    assert set(in_force) == {decided["restriction_id"], centre["restriction_id"]}
    assert in_force[decided["restriction_id"]]["terms"]["in_person"]["rule"] == "guard_present"  # amended only later
    assert then["learned_later"] == [] and amended["position"] > then["position_then"]
    relied = {i["incident_id"]: i for i in then["incidents_known_then"]}
    assert relied[incident_id]["facts"]["description"] == "Borgeren truede sagsbehandleren under et møde"
    assert relied[incident_id]["corrected_fields"] == []
    assert ("j1", "legal_review", f"legal_as_of {desk_at.isoformat()}") in legal_reads(services, ref)
    assert ("j1", "legal_review", f"legal_as_of {desk_at.isoformat()}") in legal_reads(services, other)  # its file was read


def test_a_lookup_from_a_view_that_was_behind_is_reconstructed_as_it_was_shown_not_as_the_facts_stood(
    client, services, ref
):
    opened = services.events.head()
    for view in ("front_desk", "phone_routing"):
        services.wait_for(view, opened)
        services.runners[view].stop()  # the views fall behind: stopped, as after a poison event or a crash
    decided = decide_over_http(client, ref, LEADER, CASEWORKER, phone={"rule": "banned"})
    desk = client.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD).json()
    phone = client.post("/phone-routing/lookup", json={"number": "20304050"}, headers=TELEPHONY).json()
    assert (desk["in_person"]["rule"], phone["rule"]) == ("open", "open")  # the views had not seen the decision
    assert desk["position"] < decided["position"] and phone["position"] < decided["position"]
    for view in ("front_desk", "phone_routing"):  # and catch up again before legal asks
        del services.runners[view]
        services.runner(view).start()

    def as_of(at):
        answer = client.get(f"/contact-files/{ref}/as-of", params={"at": at}, headers=LEGAL)
        assert answer.status_code == 200, answer.text
        return answer.json()

    then = as_of(desk["checked_at"])
    assert then["answered_from"]["front_desk_position"] == desk["position"]
    assert then["front_desk"] == {k: desk[k] for k in DESK}
    assert [r["restriction_id"] for r in then["in_force_known_now"]] == [decided["restriction_id"]]  # though in force
    (number,) = as_of(phone["checked_at"])["phone_routing"]
    assert (number["rule"], number["restriction_id"]) == ("open", None)
    # A moment without a logged lookup: what a current view would have said, and the answer says so.
    unlogged_at = datetime.fromisoformat(phone["checked_at"]) + timedelta(seconds=1)
    while datetime.now(timezone.utc) <= unlogged_at:  # an as-of moment may not lie in the future
        time.sleep(0.05)
    unlogged = as_of(unlogged_at.isoformat())
    assert unlogged["answered_from"] == {"front_desk_position": None, "phone_routing_position": None,
                                         "front_desk_centre": None, "front_desk_centre_not_recorded": False}
    assert unlogged["front_desk"]["in_person"]["rule"] == "guard_present" and unlogged["phone_routing"][0]["rule"] == "banned"
    timeline = client.get(f"/contact-files/{ref}/timeline", headers=LEGAL).json()
    lookups = [(a["what"], a["view_position"]) for a in timeline["accesses"] if a["what"].endswith("_lookup")]
    assert lookups == [("front_desk_lookup", desk["position"]), ("phone_routing_lookup", phone["position"])]


def test_full_ties_are_broken_by_restriction_id_alike_in_the_live_lookups_and_the_as_of_answer(client, services, ref):
    # Equally strict, ending at the same moment: only the id can order them, and every reader must agree.
    until = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0).isoformat()
    desk = [
        decide_over_http(client, ref, LEADER, CASEWORKER, scope={"kind": "centre", "centre": centre}, valid_until=until,
                         phone={"rule": "named_contact_only", "contact": f"Team {centre}"})
        for centre in ("JKI", "JKN")
    ]
    other = client.post("/contact-files", json={"cpr": OTHER_CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    assert client.post(f"/contact-files/{other}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER).status_code == 200
    phone = decide_over_http(client, other, LEADER, CASEWORKER, valid_until=until,
                             phone={"rule": "named_contact_only", "contact": "Team Syd"})
    position = phone["position"]

    first_desk = min((d["restriction_id"] for d in desk), key=str)
    first_phone = min((d["restriction_id"] for d in (*desk, phone)), key=str)
    contact = {d["restriction_id"]: c for d, c in zip((*desk, phone), ("Team JKI", "Team JKN", "Team Syd"))}

    live_desk = client.post("/front-desk/lookup", params={"min_position": position}, json={"cpr": CPR}, headers=GUARD).json()
    live_phone = client.post("/phone-routing/lookup", params={"min_position": position},
                             json={"number": "20304050"}, headers=TELEPHONY).json()
    scope_of = {d["restriction_id"]: c for d, c in zip(desk, ("JKI", "JKN"))}
    assert live_desk["in_person"]["scope"]["centre"] == scope_of[first_desk]
    assert live_desk["also_in_force"][0]["scope"]["centre"] == scope_of[max((d["restriction_id"] for d in desk), key=str)]
    assert live_phone["contact"] == contact[first_phone]

    at = max(datetime.fromisoformat(live_desk["checked_at"]), datetime.fromisoformat(live_phone["checked_at"]))
    then = client.get(f"/contact-files/{ref}/as-of", params={"at": at.isoformat()}, headers=LEGAL).json()
    assert then["front_desk"] == {k: live_desk[k] for k in DESK}
    (number,) = then["phone_routing"]
    assert number["restriction_id"] == first_phone and number["contact"] == live_phone["contact"]


OPEN = {"rule": "open", "instructions": None, "contact_point": None, "valid_until": None, "scope": None}


def current_terms(client, ref, restriction_id):
    restrictions = client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"]
    return next(r for r in restrictions if r["restriction_id"] == restriction_id)["terms"]


def amend(client, ref, restriction_id, **changes):
    terms = {**current_terms(client, ref, restriction_id), "review_at": None, **changes}
    amended = client.post(f"/contact-files/{ref}/restrictions/{restriction_id}/amendments",
                          json={"terms": terms, "reasons": "Ny vurdering"}, headers=LEADER)
    assert amended.status_code == 200, amended.text
    return amended.json()


def decide_reaching_back(services, ref, valid_from: str) -> dict:
    """A proposal and decision as they were stored before a decision started no earlier than itself (and a
    proposal no earlier than its day): the decided period begins before the decision. Today's commands
    refuse or move such a start, so the events are recorded as they stood in the log."""
    app, rid = services.app, uuid4()
    file = app.get_contact_file(UUID(ref))
    terms = RestrictionTerms.model_validate(terms_body(valid_from=valid_from))
    grounds = Grounds(incident_ids=(report_incident(app, UUID(ref)),), milder_measures=("Mundtlig advarsel",))
    now = app.clock()
    file.trigger_event(ContactFile.RestrictionProposed, restriction_id=rid, terms=terms, grounds=grounds,
                       proposed_by=OFFICIAL, actor=ACTOR, effective_at=now)
    file.trigger_event(ContactFile.HearingSkipped, restriction_id=rid, exception=HearingException.URGENCY,
                       reason="Akut fare", actor=ACTOR, effective_at=now)
    file.trigger_event(ContactFile.RestrictionDecided, restriction_id=rid, terms=terms, decided_by=OFFICIAL,
                       actor=ACTOR, effective_at=now)
    app.save(file)
    return {"restriction_id": str(rid)}


def test_a_decision_reaching_back_was_not_in_force_before_it_was_made_and_is_shown_apart(client, services, ref):
    asked = datetime.now(timezone.utc)
    decision = decide_reaching_back(services, ref, (asked - timedelta(days=1)).isoformat())
    # decided after `asked`, its period from the day before
    then = client.get(f"/contact-files/{ref}/as-of", params={"at": asked.isoformat()}, headers=LEGAL).json()
    assert then["in_force_known_now"] == [] and then["in_force_known_then"] == [] and then["learned_later"] == []
    (reach,) = then["reaches_back"]
    assert reach["restriction_id"] == decision["restriction_id"] and reach["covers_at"]
    assert datetime.fromisoformat(reach["valid_from"]) < asked.replace(microsecond=0) <= datetime.fromisoformat(reach["decided_at"])
    assert then["known_then"]["restrictions"] == []
    assert then["front_desk"] == {"in_person": OPEN, "also_in_force": [], "appointments_today": None, "appointment_note": None}  # on file, which the desk never says
    after = client.get(f"/contact-files/{ref}/as-of", params={"at": reach["decided_at"]}, headers=LEGAL).json()
    assert [r["restriction_id"] for r in after["in_force_known_now"]] == [decision["restriction_id"]]
    assert not after["reaches_back"][0]["covers_at"]
    before_the_file = client.get(f"/contact-files/{ref}/as-of", params={"at": "2020-01-01T00:00:00+00:00"}, headers=LEGAL).json()
    assert before_the_file["known_then"] is None and before_the_file["front_desk"] == then["front_desk"]


def test_the_as_of_pdf_states_an_end_at_midnight_as_the_last_day_in_force_as_the_letter_does(client, ref):
    copenhagen = ZoneInfo("Europe/Copenhagen")
    until = datetime.combine(datetime.now(copenhagen).date() + timedelta(days=60), datetime.min.time(), copenhagen)
    decide_over_http(client, ref, LEADER, CASEWORKER, valid_until=until.isoformat())
    asked = datetime.now(timezone.utc).isoformat()
    answer = client.get(f"/contact-files/{ref}/as-of.pdf", params={"at": asked}, headers=LEGAL)
    text = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages).split())
    last = f"{until.date() - timedelta(days=1):%d.%m.%Y}"
    assert f"til og med {last}" in text and f"Fremmøde: kun med vagt til stede til og med {last}" in text
    assert f"{until.date():%d.%m.%Y}" not in text  # the exclusive end is never printed as if it were a day in force
    check_layout(rendered(answer.content), margin_mm=18)
    timeline = client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL)
    assert f"til og med {last}" in text_of(timeline.content)
    check_layout(rendered(timeline.content), margin_mm=18)


def test_the_as_of_answer_exports_as_pdf(client, services, ref, decided):
    asked = datetime.now(timezone.utc).isoformat()
    answer = client.get(f"/contact-files/{ref}/as-of.pdf", params={"at": asked}, headers=LEGAL)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert f"Borgerreference {ref}" in text and "Tidspunkt: " in text and "Eksporteret af: Jens Jurist (j1, jurist)" in text
    assert f"Restriktion {decided['restriction_id']} (besluttet)" in text and "Fremmøde: kun med vagt til stede" in text
    assert "Nummer, der slutter på 4050: kun til navngiven kontakt (Team Nord)" in text and "20304050" not in text
    assert decided["sha256"] in text and "Hvad vi vidste: hændelserne" in text
    same = client.get(f"/contact-files/{ref}/as-of", params={"at": asked, "format": "pdf"}, headers=LEGAL)
    assert same.content.startswith(b"%PDF")
    assert [w for _, _, w in legal_reads(services, ref)][-2:] == [f"legal_as_of_pdf {asked}"] * 2


def test_the_pdf_export_states_subject_time_user_position_and_each_fact(client, services, ref, decided):
    answer = client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    head = services.events.head()
    assert f"Borgerreference {ref}" in text
    assert "Eksporteret af: Jens Jurist (j1, jurist)" in text and "Eksporteret: " in text
    assert f"Afspejler hændelsesloggen til og med position: {head}" in text
    assert f"Restriktion {decided['restriction_id'][:8]} besluttet af Lone Hansen" in text
    assert decided["sha256"] in text and "Lone Hansen (l1, leder)" in text
    assert "Hændelser, der angiver borgeren som udøver" in text and "j1 (jurist)" in text
    same = client.get(f"/contact-files/{ref}/timeline", params={"format": "pdf"}, headers=LEGAL)
    assert same.content.startswith(b"%PDF")
    assert [w for _, _, w in legal_reads(services, ref)][-2:] == ["legal_timeline_pdf", "legal_timeline_pdf"]


def test_the_incident_timeline_exports_as_pdf_and_logs_the_read_for_the_perpetrator(client, services, ref):
    reported = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()
    answer = client.get(f"/incidents/{reported['incident_id']}/timeline.pdf", headers=LEGAL)
    assert answer.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert f"Hændelse {reported['incident_id']}" in text and "Hændelse indberettet: trusler" in text
    assert f"Borgerreference {ref}" in text
    assert legal_reads(services, ref) == [("j1", "legal_review", "incident_timeline_pdf")]


def test_only_legal_reads_timelines_and_unknown_subjects_or_bad_moments_are_problems(client, services, ref):
    reported = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()
    paths = [f"/contact-files/{ref}/timeline", f"/contact-files/{ref}/timeline.pdf",
             f"/incidents/{reported['incident_id']}/timeline", f"/contact-files/{ref}/as-of?at=2026-01-01T00:00:00Z",
             f"/contact-files/{ref}/as-of.pdf?at=2026-01-01T00:00:00Z"]
    for path in paths:
        for role in (LEADER, CASEWORKER, GUARD, TELEPHONY):
            assert client.get(path, headers=role).status_code == 403
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (f"/contact-files/{unknown}/timeline", f"/incidents/{unknown}/timeline", f"/incidents/{ref}/timeline",
                 f"/contact-files/{unknown}/as-of?at=2026-01-01T00:00:00Z"):
        missing = client.get(path, headers=LEGAL)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    for bad in ("yesterday", "2026-01-01T00:00:00"):  # not a time; a time without its offset
        refused = client.get(f"/contact-files/{ref}/as-of", params={"at": bad}, headers=LEGAL)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "at"
    assert client.get(f"/contact-files/{ref}/as-of", headers=LEGAL).json()["errors"][0]["field"] == "at"
    assert legal_reads(services, ref) == []  # refusals read nothing and record nothing


PRINTED = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2}) \(([+-]\d{2}:\d{2})\)")
ENGLISH = ("Legal timeline", "Legal review", "Citizen reference", "Exported", "Reflects", "Facts (", "Effective",
           "recorded", "Who read", "Incidents naming", "In force at", "What we knew", "ContactFile.", "Incident.")


def test_the_legal_pdfs_are_danish_with_each_moment_printed_one_way(client, services, ref, decided):
    client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER)
    documents = {
        "timeline": client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL).content,
        "as-of": client.get(f"/contact-files/{ref}/as-of.pdf", params={"at": datetime.now(timezone.utc).isoformat()},
                            headers=LEGAL).content,
    }
    for name, pdf in documents.items():
        reader = PdfReader(io.BytesIO(pdf))
        pages = rendered(pdf)
        assert len(pages) == len(reader.pages), name
        check_layout(pages, margin_mm=18)
        text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
        assert [word for word in ENGLISH if word in text] == [], name
        assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text), name  # no other spelling of a moment
        printed = PRINTED.findall(text)
        assert len(printed) >= 5, name
        for day, month, year, hour, minute, second, offset in printed:
            local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
            assert offset == local.replace(tzinfo=COPENHAGEN).strftime("%z")[:3] + ":00", (name, offset)
    timeline = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(documents["timeline"])).pages).split())
    for heading in ("Juridisk tidslinje: borger", "Eksporteret af: Jens Jurist (j1, jurist)", "Registreringer (",
                    "Hvem har læst oplysningerne", "Hændelser, der angiver borgeren som udøver"):
        assert heading in timeline, heading
    for fact in ("Kontaktsag oprettet", "Telefonnummer registreret", "Hændelse indberettet", "Restriktion foreslået",
                 "Partshøring undladt", "Restriktion besluttet", "Brev udstedt", "Brev afsendt"):
        assert fact in timeline, fact
    as_of = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(documents["as-of"])).pages).split())
    for heading in ("Juridisk gennemgang: status på et tidspunkt", "Tidspunkt: ", "Gældende på tidspunktet, som vi ved nu",
                    "Hvad telefonstyringen svarede", "Hvad vi vidste: kontaktsagen", "Hvad vi vidste: hændelserne"):
        assert heading in as_of, heading
