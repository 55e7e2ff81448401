import re
from datetime import date, datetime, time, timezone
from uuid import uuid4

import pytest

from domain.appointments.values import Place, Slot
from domain.errors import RuleViolation
from domain.letters.appointment import Meeting, compose_appointment_letter
from domain.letters.kinds import (
    Letter,
    LetterKind,
    check_names_absent,
    compose_amendment_letter,
    compose_continuation_letter,
    compose_decision_letter,
    compose_hearing_letter,
    compose_lift_letter,
    compose_warning_letter,
)
from domain.letters.kinds import Recipient
from domain.contact_file.restriction_state import Hearing, HearingException
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Official

# 23 Nov 2026 00:00 and 24 May 2027 00:00 in Copenhagen (CET, then CEST), given in UTC.
VALID_FROM = datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
VALID_UNTIL = datetime(2027, 5, 23, 22, 0, tzinfo=timezone.utc)
ISSUED_ON = date(2026, 11, 23)
REVIEW = date(2027, 5, 1)
LEADER = Official(user_id="leader-1", name="Lone Hansen", title="Afdelingsleder")
HARASSED = "caseworker-7"
REFERENCE = "3f2b8c1e-0000-4000-8000-000000000001"
RECIPIENT = Recipient(name="Jens Hansen", address=("Vesterbrogade 1, 2. th.", "1620 København V"))
SKIPPED = Hearing(skipped=HearingException.URGENCY, skip_reason="Akut fare for medarbejderne")
TRIED = ["Advarselsbrev sendt den 2. oktober 2026"]
BEHAVIOUR = [
    "Den 2. november 2026 råbte du ad en medarbejder under et møde og sagde, at du ville skade medarbejderen.",
    "Den 9. november 2026 sendte du 14 sms'er på én aften med trusler til en medarbejders arbejdstelefon.",
]


def terms(**overrides) -> RestrictionTerms:
    values = {
        "in_person": {"rule": "by_appointment"},
        "phone": {"rule": "time_window", "windows": [{"days": ["thu", "mon"], "start": "09:00", "end": "11:00"}]},
        "written": {"rule": "single_point_of_contact", "contact": "Team Nord"},
        "open_channel": "written",
        "contact_point": "Team Nord, Jobcenter København, Kalvebod Brygge 45, 1560 København V",
        "scope": {"kind": "centre", "centre": "Jobcenter København – Indsats (JKI)"},
        "valid_from": VALID_FROM,
        "valid_until": VALID_UNTIL,
        "reasons": "Du har gentagne gange truet medarbejdere i jobcentret.",
    }
    values.update(overrides)
    return RestrictionTerms.model_validate(values)


def decision(**overrides) -> Letter:
    arguments = {
        "reference": REFERENCE,
        "recipient": RECIPIENT,
        "hearing": SKIPPED,
        "tried": TRIED,
        "review_date": REVIEW,
        "behaviour": BEHAVIOUR,
        "signed_by": LEADER,
        "affected_employee_ids": {HARASSED},
        "issued_on": ISSUED_ON,
    }
    the_terms = overrides.pop("terms", terms())
    return compose_decision_letter(the_terms, **{**arguments, **overrides})


COMPOSERS = {
    LetterKind.DECISION: lambda signer: decision(signed_by=signer),
    LetterKind.HEARING: lambda signer: compose_hearing_letter(
        terms(), reference=REFERENCE, recipient=RECIPIENT, behaviour=BEHAVIOUR, comment_deadline=date(2026, 12, 7),
        signed_by=signer, affected_employee_ids={HARASSED}, issued_on=ISSUED_ON,
    ),
    LetterKind.WARNING: lambda signer: compose_warning_letter(
        reference=REFERENCE, recipient=RECIPIENT,
        behaviour_to_stop="at sende sms'er til medarbejderes arbejdstelefoner uden for åbningstiden",
        incidents=BEHAVIOUR[1:], contact_point="Team Nord, Jobcenter København", signed_by=signer,
        affected_employee_ids={HARASSED}, issued_on=ISSUED_ON,
    ),
    LetterKind.CONTINUATION: lambda signer: compose_continuation_letter(
        terms(), reference=REFERENCE, recipient=RECIPIENT, review_date=REVIEW, fresh_grounds=BEHAVIOUR[:1],
        hearing=SKIPPED, tried=TRIED, signed_by=signer, affected_employee_ids={HARASSED}, issued_on=ISSUED_ON,
    ),
    LetterKind.AMENDMENT: lambda signer: compose_amendment_letter(
        terms(in_person={"rule": "banned"}), terms(), reference=REFERENCE, recipient=RECIPIENT, review_date=REVIEW,
        reasons=["Du har overholdt aftalerne om møder siden september."], signed_by=signer,
        affected_employee_ids={HARASSED}, issued_on=ISSUED_ON,
    ),
    LetterKind.LIFT: lambda signer: compose_lift_letter(
        terms(), reference=REFERENCE, recipient=RECIPIENT, lifted_at=datetime(2027, 2, 1, 11, 0, tzinfo=timezone.utc),
        reason="Der har ikke været episoder siden november.", signed_by=signer,
        affected_employee_ids={HARASSED}, issued_on=date(2027, 2, 1),
    ),
    LetterKind.APPOINTMENT: lambda signer: compose_appointment_letter(
        Meeting(slot=Slot(date=date(2026, 12, 1), starts=time(10), ends=time(11)),
                place=Place(centre="JKI", room="Mødelokale 3"), host_shown_as="Team Nord", kind="job_interview",
                arranged_with_citizen=False),
        [terms()], reference=REFERENCE, recipient=RECIPIENT, signed_by=signer, affected_employee_ids={HARASSED},
        issued_on=ISSUED_ON,
    ),
}  # fmt: skip


def refusal(call, *args, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        call(*args, **kwargs)
    return refused.value


def test_a_decision_letter_states_every_element_the_law_requires():
    text = decision().text()
    for required in (
        "Afgørelse om begrænsning af din adgang til at kontakte os",
        "Fremmøde: Du kan kun møde op efter forudgående aftale.",
        "Telefon: Du kan kun ringe mandag og torsdag kl. 9.00–11.00.",
        "Skriftlig henvendelse: Du skal sende alle skriftlige henvendelser til Team Nord.",
        "Begrænsningen gælder kun for Jobcenter København – Indsats (JKI).",
        "Du kan fortsat kontakte os ved skriftlig henvendelse",
        "Kalvebod Brygge 45, 1560 København V",
        "Begrænsningen gælder fra den 23. november 2026 til og med den 23. maj 2027.",
        "Vi genovervejer begrænsningen senest den 1. maj 2027.",
        "Du har gentagne gange truet medarbejdere i jobcentret.",
        *BEHAVIOUR,
        "ulovbestemte ordensbeføjelser",
        "Begrænsningen ophører automatisk med udgangen af den 23. maj 2027.",
        "Du kan til enhver tid bede os om at ophæve",
        "Københavns Kommunes Borgerrådgiver",
        "Folketingets Ombudsmand",
        "Lone Hansen",
        "Afdelingsleder",
    ):
        assert required in text, required


def test_a_letter_carries_its_kind_date_reference_and_signer():
    letter = decision()
    assert (letter.kind, letter.date, letter.reference, letter.signed_by) == (
        LetterKind.DECISION, ISSUED_ON, REFERENCE, LEADER,
    )  # fmt: skip
    assert [s.heading for s in letter.sections][-1] == "Klagevejledning"


@pytest.mark.parametrize("kind", list(LetterKind))
def test_a_letter_without_a_named_official_is_refused(kind):
    assert refusal(COMPOSERS[kind], None).field == "signed_by"


@pytest.mark.parametrize("blank", [{"name": " "}, {"title": ""}])
def test_a_signer_without_a_name_or_a_title_is_refused(blank):
    nameless = Official.model_construct(**{"user_id": "leader-1", "name": "Lone Hansen", "title": "Leder", **blank})
    assert refusal(decision, signed_by=nameless).field == "signed_by"


@pytest.mark.parametrize("kind", list(LetterKind))
def test_an_employee_affected_by_the_incidents_may_not_sign_a_leader_must(kind):
    harassed = Official(user_id=HARASSED, name="Mette Jensen", title="Jobkonsulent")
    refused = refusal(COMPOSERS[kind], harassed)
    assert refused.field == "signed_by"
    assert "leader or another official must sign" in refused.reason


@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_kind_of_letter_is_composed_when_an_unaffected_official_signs(kind):
    letter = COMPOSERS[kind](LEADER)
    assert letter.kind is kind and letter.signed_by == LEADER
    assert all(section.heading for section in letter.sections)


@pytest.mark.parametrize("behaviour", [[], ["", "   "]])
def test_a_decision_letter_that_describes_no_behaviour_is_refused(behaviour):
    assert refusal(decision, behaviour=behaviour).field == "behaviour"


def test_a_letter_never_contains_a_cpr_number():
    assert refusal(decision, behaviour=["Borgeren (010190-1234) råbte i receptionen."]).field == "behaviour"
    assert refusal(decision, terms=terms(reasons="Vedr. 0101901234: trusler")).field == "reasons"
    assert not re.search(r"\d{6}-?\d{4}", decision().text().replace(REFERENCE, ""))


def test_a_letter_never_names_or_identifies_the_harassed_employees():
    letter = decision()
    assert HARASSED not in letter.text()
    check_names_absent(letter, ["Mette Jensen"])
    named = decision(behaviour=["Du truede Mette Jensen ved mødet den 2. november 2026."])
    assert refusal(check_names_absent, named, ["Mette Jensen"]).field == "behaviour"


@pytest.mark.parametrize(
    ("phone", "sentence"),
    [
        ({"rule": "time_window", "windows": [{"days": ["mon", "thu"], "start": "09:00", "end": "11:00"}]},
         "Du kan kun ringe mandag og torsdag kl. 9.00–11.00."),
        ({"rule": "time_window", "windows": [
            {"days": ["fri", "mon", "tue", "wed", "thu"], "start": "08:30", "end": "10:00"},
            {"days": ["sat"], "start": "10:00", "end": "10:15"},
        ]},
         "Du kan kun ringe mandag til fredag kl. 8.30–10.00 og lørdag kl. 10.00–10.15."),
        ({"rule": "named_contact_only", "contact": "Team Nord"}, "Du kan kun ringe til Team Nord."),
        ({"rule": "banned"}, "Du kan ikke ringe til os."),
        ({"rule": "open"}, "Du kan ringe som hidtil."),
    ],
)  # fmt: skip
def test_phone_rules_read_in_plain_danish_with_weekdays_and_times(phone, sentence):
    assert f"Telefon: {sentence}" in decision(terms=terms(phone=phone)).text()


@pytest.mark.parametrize(
    ("in_person", "sentence"),
    [
        ("by_appointment", "Du kan kun møde op efter forudgående aftale."),
        ("guard_present", "Du kan møde op, men der vil være en vagt til stede under dit besøg."),
        ("banned", "Du kan ikke møde personligt op."),
        ("open", "Du kan møde op som hidtil."),
    ],
)
def test_attendance_rules_read_in_plain_danish(in_person, sentence):
    assert f"Fremmøde: {sentence}" in decision(terms=terms(in_person={"rule": in_person})).text()


def test_a_closed_topic_still_leaves_new_applications_and_the_case_open():
    text = decision(terms=terms(written={"rule": "no_reply_on_closed_topic"})).text()
    assert "Vi svarer ikke længere på henvendelser om spørgsmål, som vi allerede har afgjort" in text
    assert "Nye ansøgninger og henvendelser om din sag behandler vi som altid." in text


@pytest.mark.parametrize(
    ("scope", "sentence"),
    [
        ({"kind": "administration"}, "Begrænsningen gælder for hele Beskæftigelses- og Integrationsforvaltningen."),
        ({"kind": "centre", "centre": "JKU"}, "Begrænsningen gælder kun for JKU."),
        ({"kind": "case", "case": "2026-0412"}, "Begrænsningen gælder kun for sagen 2026-0412."),
    ],
)
def test_the_scope_is_stated(scope, sentence):
    assert sentence in decision(terms=terms(scope=scope)).text()


def test_times_of_day_are_shown_in_copenhagen_time_when_not_midnight():
    letter = decision(
        terms=terms(
            valid_from=datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc),
            valid_until=datetime(2027, 5, 24, 10, 30, tzinfo=timezone.utc),
        )
    )
    assert "fra den 23. november 2026 kl. 13.00 til den 24. maj 2027 kl. 12.30" in letter.text()
    assert "ophører automatisk den 24. maj 2027 kl. 12.30" in letter.text()


def test_a_review_moment_is_read_as_its_copenhagen_date():
    letter = decision(review_date=datetime(2027, 4, 30, 22, 30, tzinfo=timezone.utc))
    assert "senest den 1. maj 2027" in letter.text()


@pytest.mark.parametrize("review", [date(2026, 11, 22), date(2027, 5, 24)])
def test_a_review_date_outside_the_period_is_refused(review):
    assert refusal(decision, review_date=review).field == "review_date"


def test_a_given_legal_basis_replaces_the_default_text():
    text = decision(legal_basis="Ordensreglerne for Jobcenter København, punkt 4.").text()
    assert "Ordensreglerne for Jobcenter København, punkt 4." in text
    assert "ulovbestemte" not in text


def test_a_hearing_letter_states_the_intended_restriction_the_grounds_and_how_to_comment_by_when():
    text = COMPOSERS[LetterKind.HEARING](LEADER).text()
    assert "Vi har endnu ikke truffet en afgørelse." in text
    assert "partshøring efter forvaltningslovens § 19" in text
    assert "Fremmøde: Du kan kun møde op efter forudgående aftale." in text
    assert BEHAVIOUR[0] in text
    assert "Du kan sende dine bemærkninger til Team Nord, Jobcenter København" in text
    assert "senest den 7. december 2026" in text


def test_a_hearing_deadline_on_or_before_the_letters_date_is_refused():
    refused = refusal(
        compose_hearing_letter, terms(), reference=REFERENCE, recipient=RECIPIENT, behaviour=BEHAVIOUR,
        comment_deadline=ISSUED_ON,
        signed_by=LEADER, affected_employee_ids=set(), issued_on=ISSUED_ON,
    )  # fmt: skip
    assert refused.field == "comment_deadline"


def test_a_warning_letter_names_the_behaviour_to_stop_the_incidents_and_what_may_follow():
    text = COMPOSERS[LetterKind.WARNING](LEADER).text()
    assert "Vi beder dig om at stoppe følgende adfærd: at sende sms'er til medarbejderes arbejdstelefoner" in text
    assert BEHAVIOUR[1] in text
    assert "kan vi blive nødt til at begrænse din adgang til at kontakte os" in text
    assert "Dette brev er ikke en afgørelse." in text


def test_a_warning_letter_without_incidents_is_refused():
    refused = refusal(
        compose_warning_letter, reference=REFERENCE, recipient=RECIPIENT, behaviour_to_stop="at råbe", incidents=[],
        contact_point="Team Nord", signed_by=LEADER, affected_employee_ids=set(), issued_on=ISSUED_ON,
    )  # fmt: skip
    assert refused.field == "incidents"


def test_a_continuation_rests_on_fresh_grounds_and_gives_the_new_period_and_review():
    text = COMPOSERS[LetterKind.CONTINUATION](LEADER).text()
    assert "besluttet at forlænge den" in text and BEHAVIOUR[0] in text
    assert "til og med den 23. maj 2027" in text and "senest den 1. maj 2027" in text
    refused = refusal(
        compose_continuation_letter, terms(), reference=REFERENCE, recipient=RECIPIENT, review_date=REVIEW,
        fresh_grounds=[], hearing=SKIPPED, tried=TRIED, signed_by=LEADER, affected_employee_ids=set(),
        issued_on=ISSUED_ON,
    )  # fmt: skip
    assert refused.field == "fresh_grounds"


def test_an_amendment_states_what_changes_and_only_that():
    letter = COMPOSERS[LetterKind.AMENDMENT](LEADER)
    changed = next(s for s in letter.sections if s.heading == "Hvad der ændres")
    assert changed.items == (
        "Fremmøde – hidtil: Du kan ikke møde personligt op. Fremover: Du kan kun møde op efter forudgående aftale.",
    )
    assert "Ændringerne gælder fra den 23. november 2026." in letter.text()
    assert "Folketingets Ombudsmand" in letter.text()


def test_an_amendment_that_changes_nothing_is_refused():
    refused = refusal(
        compose_amendment_letter, terms(), terms(), reference=REFERENCE, recipient=RECIPIENT, review_date=REVIEW,
        reasons=["x"],
        signed_by=LEADER, affected_employee_ids=set(), issued_on=ISSUED_ON,
    )  # fmt: skip
    assert refused.field == "after"


def test_a_lift_letter_says_from_when_the_restriction_no_longer_applies_and_that_contact_is_normal():
    text = COMPOSERS[LetterKind.LIFT](LEADER).text()
    assert "Begrænsningen gælder ikke længere fra den 1. februar 2027 kl. 12.00." in text
    assert "Du kan igen møde op, ringe og skrive til os på samme måde som andre borgere." in text
    assert "Der har ikke været episoder siden november." in text


# What a decision must show: the hearing or its exception, proportionality, the recipient, a readable reference


def test_a_decision_made_without_a_hearing_states_the_exception_and_the_recorded_reason():
    text = decision(hearing=Hearing(skipped=HearingException.OVERRIDING_INTERESTS, skip_reason="Truslen var konkret")).text()
    assert "Vi har truffet afgørelsen uden først at høre dig (partshøring), fordi hensynet til vores medarbejderes" in text
    assert "Det giver forvaltningslovens § 19, stk. 2, mulighed for." in text
    assert "Vores begrundelse: Truslen var konkret." in text
    assert "Du er stadig velkommen til at komme med bemærkninger." in text


@pytest.mark.parametrize(("answered", "sentence"), [
    (datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc), "Vi modtog dine bemærkninger den 20. november 2026"),
    (None, "Vi har ikke modtaget bemærkninger fra dig inden fristen."),
])  # fmt: skip
def test_a_decision_after_a_hearing_says_when_the_citizen_was_heard_and_whether_they_answered(answered, sentence):
    heard = Hearing(sent_at=datetime(2026, 11, 9, 9, 0, tzinfo=timezone.utc),
                    deadline=datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc), answered_at=answered, answer="Uenig")
    text = decision(hearing=heard).text()
    assert "Den 9. november 2026 skrev vi til dig om den begrænsning, vi overvejede" in text
    assert "senest den 23. november 2026 (partshøring efter forvaltningslovens § 19)" in text and sentence in text
    assert "Uenig" not in text  # the answer itself is on the file, not quoted back


@pytest.mark.parametrize("hearing", [None, Hearing(), Hearing(skipped=HearingException.URGENCY)])
def test_a_decision_letter_that_cannot_say_how_the_citizen_was_heard_is_refused(hearing):
    assert refusal(decision, hearing=hearing).field == "hearing"


def test_a_decision_shows_the_milder_measures_tried_or_why_none_were():
    tried = decision(tried=["Advarselsbrev sendt den 2. oktober 2026", "Samtale med teamleder"]).text()
    assert "Mindre indgribende løsninger" in tried and "En begrænsning må ikke gå videre end nødvendigt." in tried
    assert "Advarselsbrev sendt den 2. oktober 2026" in tried and "Samtale med teamleder" in tried
    none = decision(tried=[], why_none_tried="Truslen var så alvorlig, at en advarsel ikke var nok").text()
    assert "Vi har ikke først forsøgt mindre indgribende løsninger, fordi: Truslen var så alvorlig" in none
    assert refusal(decision, tried=[], why_none_tried=None).field == "milder_measures"


@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_letter_is_addressed_to_the_citizen_by_name_and_postal_address(kind):
    letter = COMPOSERS[kind](LEADER)
    assert letter.recipient == RECIPIENT
    assert letter.text().splitlines()[1:4] == ["Jens Hansen", "Vesterbrogade 1, 2. th.", "1620 København V"]


def test_a_letter_without_a_recipient_or_with_a_cpr_number_in_the_address_is_refused():
    assert refusal(decision, recipient=None).field == "recipient"
    with_cpr = Recipient(name="Jens Hansen", address=("211062-5629", "1620 København V"))
    assert refusal(decision, recipient=with_cpr).field == "recipient"


def test_a_letter_refers_to_its_restriction_by_a_short_case_reference_not_a_bare_uuid():
    rid = uuid4()
    letter = decision(reference=rid)
    assert letter.reference == str(rid)[:8] and str(rid) not in letter.text()
    assert f"Vores reference: {str(rid)[:8]}" in letter.text()


def test_the_leaders_own_account_of_the_behaviour_is_printed_with_the_episodes():
    text = decision(described="Du sagde, at du ville vente på medarbejderen efter arbejde").text()
    assert "Om din adfærd: Du sagde, at du ville vente på medarbejderen efter arbejde." in text


def test_a_hearing_letter_whose_start_has_passed_says_it_would_apply_from_the_decision():
    text = compose_hearing_letter(
        terms(), reference=REFERENCE, recipient=RECIPIENT, behaviour=BEHAVIOUR, comment_deadline=date(2026, 12, 7),
        signed_by=LEADER, affected_employee_ids=set(), issued_on=date(2026, 11, 25),
    ).text()  # fmt: skip
    assert "skal gælde fra den dag, vi træffer afgørelsen, til og med den 23. maj 2027." in text


def test_a_short_name_inside_other_words_is_not_taken_for_naming_the_employee():
    check_names_absent(decision(), ["Bo", "Ib"])  # "borgere", "Borgerrådgiveren": no one is named
    assert refusal(check_names_absent, decision(described="Du råbte ad Bo i skranken"), ["Bo"]).field == "behaviour"
