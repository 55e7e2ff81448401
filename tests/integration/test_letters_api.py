"""Letters over HTTP, on SQLite and PostgreSQL: what is decided can be notified, with what the law asks for.

Each letter is read back as its reader gets it: the stored PDF's text, and its pages rendered by Poppler.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import add_months
from domain.letters.texts import long_date
from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import RECIPIENT, incident_facts, terms_body
from tests.support.pdfs import check_layout, ink, rendered, text_of

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
BYSTANDER = "Bent Tilskuersen"
COLLEAGUE = "Kirsten Kollegasen"
INTERNAL = f"Borgeren råbte i venteværelset, mens {BYSTANDER} så på; {COLLEAGUE} hentede vagten"


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), COPENHAGEN)


def today() -> date:
    return datetime.now(COPENHAGEN).date()


@pytest.fixture
def ref(client):
    return ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]


def report(client, ref, days_ago=3, **facts):
    moment = (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat()
    body = incident_facts(ref, occurred_at=moment, known_at=moment, description=INTERNAL, **facts)
    return ok(client.post("/incidents", json=body, headers=CASEWORKER), 201)["incident_id"]


def propose(client, ref, grounds, **terms):
    body = {"terms": terms_body(**terms), "grounds": grounds}
    proposed = ok(client.post(f"/contact-files/{ref}/restrictions", json=body, headers=LEADER), 201)["created_id"]
    return proposed, f"/contact-files/{ref}/restrictions/{proposed}"


def letter(client, ref, kind, subject_id, recipient=RECIPIENT):
    """Issues a letter and fetches it where `Location` points; the stored PDF's bytes."""
    body = {"kind": kind, "subject_id": subject_id, "recipient": recipient}
    issued = client.post(f"/contact-files/{ref}/letters", json=body, headers=LEADER)
    assert issued.status_code == 201, issued.text
    location = issued.headers["Location"]
    assert location == f"/contact-files/{ref}/letters/{issued.json()['created_id']}"
    fetched = client.get(location, headers=LEGAL)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/pdf"
    return fetched.content


def test_the_readme_restriction_six_months_with_the_default_review_is_decided_and_notified(client, ref):
    start = midnight(today() + timedelta(days=1))
    until = midnight(add_months(start, 6).date())
    grounds = {"incident_ids": [report(client, ref)], "milder_measures": ["Mundtlig advarsel"]}
    rid, one = propose(client, ref, grounds, valid_from=start.isoformat(), valid_until=until.isoformat())
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=LEADER))
    ok(client.post(f"{one}/decision", headers=LEADER))
    text = text_of(letter(client, ref, "decision", rid))
    last = long_date(until.date() - timedelta(days=1))
    assert f"til og med den {last}" in text and f"Vi genovervejer begrænsningen senest den {last}." in text


def test_the_decision_letter_states_everything_the_law_asks_for_and_reads_as_printed(client, ref):
    first = report(client, ref, days_ago=40)
    warned = ok(client.post(f"/contact-files/{ref}/warnings", headers=LEADER, json={
        "behaviour": "at true vores medarbejdere", "contact_point": "Team Nord, 33 17 33 17", "incident_ids": [first],
    }), 201)["created_id"]  # fmt: skip
    second = report(client, ref, days_ago=3, kinds=["threat", "sexualised_remarks"],
                    threat={"targets": ["employee", "family"], "death_threat": True})
    grounds = {"incident_ids": [first, second], "warning_ids": [warned], "milder_measures": ["Samtale med teamleder"],
               "described_to_citizen": "Du sagde, at du ville finde medarbejderen og hendes børn."}
    until = midnight(today() + timedelta(days=120))
    rid, one = propose(client, ref, grounds, valid_until=until.isoformat())
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Truslen gjaldt de kommende dage"},
                   headers=LEADER))  # fmt: skip
    ok(client.post(f"{one}/decision", headers=LEADER))
    pdf = letter(client, ref, "decision", rid)
    text = text_of(pdf)
    second_day = long_date((datetime.now(COPENHAGEN) - timedelta(days=3)).date())
    for required in (
        "Lone Hansen", "Afdelingsleder",  # the signer, by name and title
        "Jens Hansen", "Vesterbrogade 1, 2. th.", "1620 København V",  # the recipient block
        f"Vores reference: {rid[:8]}",  # a case reference a person can read and quote
        "Fremmøde: Du kan møde op, men der vil være en vagt til stede under dit besøg.",
        "Telefon: Du kan kun ringe til Team Nord.", "Skriftlig henvendelse: Du kan skrive til os som hidtil.",
        "Du kan fortsat kontakte os ved skriftlig henvendelse (brev, e-mail eller Digital Post): Team Nord, 33 17 33 17.",
        f"til og med den {long_date(until.date() - timedelta(days=1))}",  # the period, by its last day
        "Vi genovervejer begrænsningen senest den",
        f"Den {second_day} truede du en medarbejder og en medarbejders familie på livet og kom med seksualiserede "
        "bemærkninger til eller om en medarbejder under et møde.",  # the behaviour relied on, with its date
        "Om din adfærd: Du sagde, at du ville finde medarbejderen og hendes børn.",
        "Mindre indgribende løsninger", "Samtale med teamleder", "bad vi dig skriftligt om at stoppe: at true vores medarbejdere.",
        "uden først at høre dig (partshøring), fordi det hastede", "forvaltningslovens § 19, stk. 2",
        "Vores begrundelse: Truslen gjaldt de kommende dage.",  # the recorded exception's reason
        "Retsgrundlag", "ulovbestemte ordensbeføjelser",
        "Klagevejledning", "Københavns Kommunes Borgerrådgiver", "Folketingets Ombudsmand",
    ):
        assert required in text, required
    assert rid not in text  # never the bare id
    assert BYSTANDER not in text and COLLEAGUE not in text and "venteværelset" not in text

    pages = rendered(pdf)
    check_layout(pages, margin_mm=20)
    assert ink(pages[0], 25, 38, 110, 62) > 200  # the address block, where a window envelope shows it
    assert ink(pages[0], 110, 38, 190, 50) > 100  # the date and reference, right


def test_no_letter_of_any_kind_prints_the_internal_description_or_the_people_it_names(client, ref, services):
    first = report(client, ref, days_ago=30)
    warned = ok(client.post(f"/contact-files/{ref}/warnings", headers=LEADER, json={
        "behaviour": "at råbe ad vores medarbejdere", "contact_point": "Team Nord", "incident_ids": [first],
    }), 201)["created_id"]  # fmt: skip
    pdfs = {"warning": letter(client, ref, "warning", warned)}
    until = midnight(today() + timedelta(days=60))
    rid, one = propose(client, ref, {"incident_ids": [first], "warning_ids": [warned]}, valid_until=until.isoformat())
    deadline = (datetime.now(timezone.utc) + timedelta(days=10)).isoformat()
    ok(client.post(f"{one}/hearing", json={"deadline": deadline}, headers=LEADER))
    pdfs["hearing"] = letter(client, ref, "hearing", rid)
    ok(client.post(f"{one}/hearing/answer", json={"answer": "Jeg er uenig"}, headers=CASEWORKER))
    ok(client.post(f"{one}/decision", headers=LEADER))
    pdfs["decision"] = letter(client, ref, "decision", rid)
    terms = {**client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"][0]["terms"],
             "in_person": {"rule": "by_appointment"}, "review_at": None}
    ok(client.post(f"{one}/amendments", json={"terms": terms, "reasons": "Roligere adfærd siden afgørelsen"}, headers=LEADER))
    pdfs["amendment"] = letter(client, ref, "amendment", rid)
    fresh = report(client, ref, days_ago=1)
    follow_on = {"incident_ids": [first, fresh], "continues": rid, "milder_measures": ["Advarsel"]}
    later, again = propose(client, ref, follow_on, valid_from=until.isoformat(),
                           valid_until=(until + timedelta(days=60)).isoformat())  # fmt: skip
    ok(client.post(f"{again}/hearing/skip", json={"exception": "party_already_aware", "reason": "Drøftet på mødet"},
                   headers=LEADER))  # fmt: skip
    ok(client.post(f"{again}/decision", headers=LEADER))
    pdfs["continuation"] = letter(client, ref, "continuation", later)
    ok(client.post(f"{one}/lift", json={"reason": "Afløst af den nye afgørelse"}, headers=LEADER))
    pdfs["lift"] = letter(client, ref, "lift", rid)

    assert sorted(pdfs) == ["amendment", "continuation", "decision", "hearing", "lift", "warning"]
    for kind, pdf in pdfs.items():
        text = text_of(pdf)
        for internal in (BYSTANDER, COLLEAGUE, "venteværelset", "Carl Berg"):  # Carl Berg: the affected employee
            assert internal not in text, (kind, internal)
        assert "Jens Hansen" in text and "1620 København V" in text, kind
        check_layout(rendered(pdf), margin_mm=20)
    hearing, decision = text_of(pdfs["hearing"]), text_of(pdfs["decision"])
    assert "truede du en medarbejder under et møde." in hearing
    assert "Vi modtog dine bemærkninger den" in decision and "partshøring efter forvaltningslovens § 19" in decision
    assert "fordi du allerede kendte de oplysninger" in text_of(pdfs["continuation"])


def test_the_recipient_is_kept_only_in_the_stored_pdf(client, ref, services):
    grounds = {"incident_ids": [report(client, ref)], "milder_measures": ["Mundtlig advarsel"]}
    rid, one = propose(client, ref, grounds)
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=LEADER))
    ok(client.post(f"{one}/decision", headers=LEADER))
    recipient = {"name": "Xerxes Adressatsen", "address": ["Quillgade 77, 3. tv.", "2300 København S"]}
    assert "Xerxes Adressatsen" in text_of(letter(client, ref, "decision", rid, recipient))
    stored = [n.state for n in services.app.recorder.select_notifications(start=1, limit=10_000)]
    assert stored and not any(b"Xerxes" in state or b"Quillgade" in state for state in stored)
    assert "Xerxes" not in str(services.db.read("SELECT * FROM vaern_access_log"))
    assert "Xerxes" not in client.get(f"/contact-files/{ref}", headers=LEGAL).text


@pytest.mark.parametrize(
    ("recipient", "field"),
    [(None, "recipient"), ({"name": "Jens Hansen", "address": []}, "recipient.address"),
     ({"name": "Jens Hansen", "address": ["Vesterbrogade 1", "CPR 211062-5629"]}, "recipient")],
)  # fmt: skip
def test_a_letter_without_a_proper_recipient_is_refused_and_nothing_is_recorded(client, ref, recipient, field):
    grounds = {"incident_ids": [report(client, ref)], "milder_measures": ["Mundtlig advarsel"]}
    rid, one = propose(client, ref, grounds)
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=LEADER))
    ok(client.post(f"{one}/decision", headers=LEADER))
    body = {"kind": "decision", "subject_id": rid, **({"recipient": recipient} if recipient is not None else {})}
    refused = client.post(f"/contact-files/{ref}/letters", json=body, headers=LEADER)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == field
    assert "211062" not in refused.text
    assert client.get(f"/contact-files/{ref}", headers=LEGAL).json()["letters"] == []


def test_a_proposal_whose_start_has_passed_is_decided_from_the_decision_and_its_letter_says_so(client, ref):
    grounds = {"incident_ids": [report(client, ref)], "milder_measures": ["Mundtlig advarsel"]}
    start_of_today = midnight(today())
    rid, one = propose(client, ref, grounds, valid_from=start_of_today.isoformat())
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=LEADER))
    decided = ok(client.post(f"{one}/decision", headers=LEADER))
    (restriction,) = client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"]
    decided_from = datetime.fromisoformat(restriction["terms"]["valid_from"])
    assert decided_from == datetime.fromisoformat(restriction["decided_at"]) > start_of_today
    assert f"fra {_starts(decided_from)}" in text_of(letter(client, ref, "decision", rid))
    yesterday = (start_of_today - timedelta(minutes=1)).isoformat()
    refused = client.post(f"/contact-files/{ref}/restrictions", headers=LEADER, json={
        "terms": terms_body(valid_from=yesterday, scope={"kind": "centre", "centre": "JKA"}), "grounds": grounds})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "terms.valid_from"
    assert "cannot start before today" in refused.json()["errors"][0]["reason"]
    assert decided["position"] and len(client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"]) == 1


def _starts(moment: datetime) -> str:
    at = moment.astimezone(COPENHAGEN)
    return f"den {long_date(at.date())} kl. {at.hour}.{at.minute:02d}"
