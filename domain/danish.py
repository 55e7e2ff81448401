"""Danish names for what people read: every stored fact type and every value of the model's vocabularies.

Legal staff and managers get Danish documents; the machine keys (stored event types, enum values)
stay in the JSON beside these names. One table per vocabulary, so a new event type or value
without a Danish name is caught by a unit test, not discovered in a court bundle.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from domain.appointments.aggregate import Appointment
from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import (
    ExposureForm, IncidentChannel, IncidentKind, PerpetratorKind, SupportKind, TakedownAddressee, ThreatTarget,
)
from domain.incident.police_report import ConsentAnswer, PoliceConclusion, PoliceOutcome
from domain.contact_file.restriction_state import ComplaintOutcome, HearingException, ReviewOutcome, Status
from domain.records.supersession import SupersessionRegister
from domain.values import Channel, InPersonRule, PhoneRule, Role, ScopeKind, Weekday, WrittenRule

FACT_NAMES: dict[type, str] = {
    ContactFile.Opened: "Kontaktsag oprettet",
    ContactFile.CprRecorded: "CPR-nummer gemt på sagen",
    ContactFile.PhoneNumberRegistered: "Telefonnummer registreret",
    ContactFile.AdjustmentNeedRecorded: "Særligt behov registreret",
    ContactFile.WarningIssued: "Advarsel givet",
    ContactFile.RestrictionProposed: "Restriktion foreslået",
    ContactFile.HearingSent: "Partshøring sendt",
    ContactFile.HearingAnswered: "Partshøring besvaret",
    ContactFile.HearingSkipped: "Partshøring undladt",
    ContactFile.RestrictionDecided: "Restriktion besluttet",
    ContactFile.RestrictionReviewed: "Restriktion revurderet",
    ContactFile.RestrictionAmended: "Restriktion ændret",
    ContactFile.ComplaintReceived: "Klage modtaget",
    ContactFile.ComplaintDecided: "Klage afgjort",
    ContactFile.RestrictionLifted: "Restriktion ophævet",
    ContactFile.RestrictionExpired: "Restriktion udløbet",
    ContactFile.LetterIssued: "Brev udstedt",
    ContactFile.LetterDispatched: "Brev afsendt",
    ContactFile.LetterDelivered: "Brev leveret",
    ContactFile.AccessGranted: "Adgang til sagen givet",
    ContactFile.AccessRevoked: "Adgang til sagen tilbagekaldt",
    ContactFile.Erased: "Borgerens personoplysninger slettet",
    Incident.Reported: "Hændelse indberettet",
    Incident.LeaderInformed: "Leder orienteret",
    Incident.SupportOffered: "Støtte tilbudt",
    Incident.SupportAccepted: "Støtte taget imod",
    Incident.SupportDeclined: "Støtte afslået",
    Incident.DebriefingHeld: "Debriefing holdt",
    Incident.NoteAdded: "Notat tilføjet",
    Incident.EvidenceAttached: "Dokumentation vedhæftet",
    Incident.TakedownRequested: "Anmodning om fjernelse sendt",
    Incident.PostRemoved: "Opslag fjernet",
    Incident.TakedownRefused: "Fjernelse afvist",
    Incident.AbsenceRecorded: "Fravær registreret",
    Incident.Corrected: "Oplysninger rettet",
    Incident.Closed: "Hændelse afsluttet",
    Incident.Reopened: "Hændelse genåbnet",
    Incident.PoliceReportConsentGiven: "Samtykke til politianmeldelse givet",
    Incident.PoliceReportConsentDeclined: "Samtykke til politianmeldelse nægtet",
    Incident.PoliceReportConsentWithdrawn: "Samtykke til politianmeldelse trukket tilbage",
    Incident.PoliceReportAdviceGiven: "Rådgivning om politianmeldelse givet",
    Incident.PoliceReportFiled: "Politianmeldt af forvaltningen",
    Incident.PrivatePoliceReportFiled: "Politianmeldt privat af medarbejderen",
    Incident.PoliceReportNotFiled: "Ikke politianmeldt",
    Incident.PoliceCaseConcluded: "Politisagen afsluttet",
    Incident.Erased: "Hændelsens personoplysninger slettet",
    SupersessionRegister.EventSuperseded: "Registrering erstattet for følgerne",
    Appointment.IncidentReported: "Hændelse anmeldt fra et møde",
}

# Keyed by vocabulary, then value: str enums with equal values ("citizen", "lift") must not share a name.
WORDS: dict[type[Enum], dict[str, str]] = {
    Role: {"guard": "vagt", "caseworker": "sagsbehandler", "leader": "leder", "legal": "jurist",
           "telephony": "telefonsystem", "management": "ledelse", "admin": "administrator"},
    Channel: {"in_person": "fremmøde", "phone": "telefon", "written": "skriftlig henvendelse"},
    InPersonRule: {"open": "åben", "by_appointment": "kun efter aftale", "guard_present": "kun med vagt til stede",
                   "banned": "ingen adgang"},
    PhoneRule: {"open": "åben", "named_contact_only": "kun til navngiven kontakt", "time_window": "kun i faste tidsrum",
                "banned": "ingen opkald"},
    WrittenRule: {"open": "åben", "single_point_of_contact": "kun til ét kontaktpunkt",
                  "no_reply_on_closed_topic": "intet svar om afsluttede emner"},
    ScopeKind: {"administration": "hele forvaltningen", "centre": "center", "case": "sag"},
    Weekday: {"mon": "man", "tue": "tir", "wed": "ons", "thu": "tor", "fri": "fre", "sat": "lør", "sun": "søn"},
    Status: {"proposed": "foreslået", "decided": "besluttet", "lifted": "ophævet", "expired": "udløbet"},
    HearingException: {"urgency": "hastende", "party_already_aware": "parten kender allerede oplysningerne",
                       "overriding_interests": "afgørende hensyn", "only_in_favour_of_party": "kun til gunst for parten"},
    ReviewOutcome: {"continue": "fortsættes", "amend": "ændres", "lift": "ophæves"},
    ComplaintOutcome: {"upheld": "medhold", "partly_upheld": "delvist medhold", "rejected": "afvist"},
    IncidentKind: {"frequent_or_aggressive_contact": "hyppig eller aggressiv kontakt", "threat": "trusler",
                   "sexualised_remarks": "seksualiserede udtalelser",
                   "turned_up_at_private_address": "opsøgning på privatadresse",
                   "social_media_exposure": "udstilling på sociale medier", "other": "andet"},
    ThreatTarget: {"employee": "medarbejderen", "family": "familien", "others": "andre"},
    ExposureForm: {"name": "navn", "photo": "foto", "recording": "optagelse", "profile_link": "link til profil",
                   "accusations_of_unlawful_decisions": "beskyldninger om ulovlige afgørelser"},
    IncidentChannel: {"meeting": "møde", "at_the_centre": "i centret", "phone": "telefon", "sms": "sms",
                      "email": "e-mail", "letter": "brev", "social_media": "sociale medier",
                      "private_address": "privatadresse"},
    PerpetratorKind: {"citizen": "borger", "party_representative": "partsrepræsentant", "unknown": "ukendt"},
    SupportKind: {"crisis_help": "krisehjælp", "occupational_health": "arbejdsmedicinsk hjælp",
                  "debriefing": "debriefing", "colleague": "kollegastøtte"},
    TakedownAddressee: {"platform": "platformen", "citizen": "borgeren"},
    ConsentAnswer: {"given": "givet", "declined": "nægtet", "withdrawn": "trukket tilbage"},
    PoliceOutcome: {"reported_by_administration": "anmeldt af forvaltningen", "reported_privately": "anmeldt privat",
                    "not_reported": "ikke anmeldt"},
    PoliceConclusion: {"dropped": "henlagt eller påtaleopgivet", "fined": "bødeforelæg vedtaget", "convicted": "dom",
                       "acquitted": "frifindelse"},
}
LETTER_KINDS = {
    "warning": "advarsel", "hearing": "partshøring", "decision": "afgørelse", "continuation": "fortsættelse",
    "amendment": "ændring", "lift": "ophævelse", "appointment": "mødeindkaldelse",
}
DISPATCH_CHANNELS = {"digital_post": "Digital Post", "post": "almindelig post", "hand_delivered": "personlig aflevering"}
# The incident facts a correction can change, as a reader knows them.
FACT_FIELDS = {
    "kinds": "art", "threat": "trussel", "exposure": "udstilling", "other_description": "anden beskrivelse",
    "channel": "kanal", "platform": "platform", "link": "link", "occurred_at": "tidspunkt",
    "occurred_until": "sluttidspunkt", "known_at": "kendt fra", "centre": "center", "affected": "berørte",
    "perpetrator": "udøver", "outside_working_hours": "uden for arbejdstid",
    "breach_of_restriction": "brud på restriktion", "description": "beskrivelse",
}


def fact_name(event_class: type) -> str | None:
    """The Danish name of a stored fact type, or None when it has none (a unit test keeps that from happening)."""
    return FACT_NAMES.get(event_class)


def word(value: Any) -> str:
    """The Danish word for a vocabulary value; a value without one reads as its key, with spaces."""
    if isinstance(value, Enum):
        return WORDS.get(type(value), {}).get(str(value.value), str(value.value).replace("_", " "))
    return str(value).replace("_", " ")
