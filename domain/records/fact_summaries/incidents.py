"""The timeline's line for each fact of an incident, and for a supersession of any fact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.utils import resolve_topic

from domain.danish import FACT_FIELDS, fact_name, word
from domain.records.fact_summaries.words import MAX_VALUE, authorisation, cut, day, short, text
from domain.appointments.aggregate import Appointment
from domain.incident.aggregate import Incident
from domain.incident.facts import Perpetrator, Person, Threat
from domain.moments import printed
from domain.records.supersession import SupersessionRegister

# The verb of each fact that an employee, or the administration for them, did or was offered.
_SUPPORT = {
    Incident.SupportOffered: "tilbudt", Incident.SupportAccepted: "taget imod af", Incident.SupportDeclined: "afslået af",
}
_CONSENT = {
    Incident.PoliceReportConsentGiven: "gav samtykke til", Incident.PoliceReportConsentDeclined: "nægtede samtykke til",
    Incident.PoliceReportConsentWithdrawn: "trak sit samtykke tilbage til",
}


def _reported(e: Incident.Reported) -> str:
    f = e.facts
    kinds = ", ".join(word(k) for k in f.kinds)
    death = "; trussel på livet" if f.threat and f.threat.death_threat else ""
    return (
        f"Hændelse indberettet: {kinds}{death}; kanal: {word(f.channel)}; center {f.centre.value}; skete"
        f" {printed(f.occurred_at)}; {len(f.affected)} medarbejder(e) berørt; udøver: {word(f.perpetrator.kind)}:"
        f" {text(f.description)}"
    )


def _corrected(e: Incident.Corrected) -> str:
    changed = "; ".join(f"{FACT_FIELDS.get(f, word(f))} nu {_fact(getattr(e.facts, f, None))}" for f in e.fields)
    return f"Oplysninger rettet ({changed or 'intet felt ændret'}): {text(e.reason)}"


def _fact(value: Any) -> str:
    """A corrected fact's new value in a few words; a citizen appears by the start of their reference only."""
    if value is None:
        return "ingen"
    if isinstance(value, Perpetrator):
        return word(value.kind) + (f" {short(value.citizen_ref)}" if value.citizen_ref else "")
    if isinstance(value, Threat):
        return ", ".join(word(t) for t in value.targets) + ("; trussel på livet" if value.death_threat else "")
    if isinstance(value, Person):
        return value.name
    if isinstance(value, datetime):
        return printed(value)
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, (tuple, list)):
        return ", ".join(_fact(v) for v in value) or "ingen"
    return cut(word(value), MAX_VALUE)


def _superseded(e: SupersessionRegister.EventSuperseded) -> str:
    kind = _fact_name_of_topic(e.topic)
    return (
        f"Registrering {e.position} ({kind}, version {e.event_version}) erstattet: følgerne læser en rettet udgave"
        f" ({', '.join(e.corrected)}); {e.official.name}, {e.official.title}: {text(e.reason)}"
    )


def _fact_name_of_topic(topic: str) -> str:
    """The Danish name of the fact type stored under `topic`, else the stored type itself."""
    try:
        return fact_name(resolve_topic(topic)) or topic.removeprefix("vaern:")
    except Exception:  # a topic no class answers to any more: name it as stored
        return topic.removeprefix("vaern:")


def _support(e: Any) -> str:
    return f"Støtte ({word(e.kind)}) {_SUPPORT[type(e)]} medarbejder {e.employee_id}"


def _consent(e: Any) -> str:
    return f"Medarbejder {e.employee_id} {_CONSENT[type(e)]} forvaltningens politianmeldelse"


def _private(e: Incident.PrivatePoliceReportFiled) -> str:
    reference = f" (politiets journalnummer {e.police_reference})" if e.police_reference else ""
    return f"Medarbejder {e.employee_id} politianmeldte privat{reference}"


LINES: dict[type, Callable[[Any], str]] = {
    Incident.Reported: _reported,
    Incident.Corrected: _corrected,
    Incident.PrivatePoliceReportFiled: _private,
    SupersessionRegister.EventSuperseded: _superseded,
    # facts that share one line, its verb by the fact
    **dict.fromkeys(_SUPPORT, _support),
    **dict.fromkeys(_CONSENT, _consent),
    # the one-liners
    Incident.LeaderInformed: lambda e: f"Leder {e.leader.name} orienteret",
    Incident.DebriefingHeld: lambda e: f"Debriefing holdt med {', '.join(e.employee_ids)}: {text(e.summary)}",
    Incident.NoteAdded: lambda e: f"Notat: {text(e.text)}",
    Incident.EvidenceAttached: lambda e: (
        f"Dokumentation vedhæftet ({e.media_type}, {e.size} bytes, sha256 {e.sha256[:12]}…): {text(e.description)}"
    ),
    Incident.TakedownRequested:
        lambda e: f"Anmodning {short(e.takedown_id)} om fjernelse sendt til {word(e.addressee)} på {text(e.platform)}",
    Incident.PostRemoved: lambda e: f"Opslag fjernet (anmodning {short(e.takedown_id)})",
    Incident.TakedownRefused: lambda e: (
        f"Anmodning {short(e.takedown_id)} om fjernelse afvist" + (f": {text(e.reason)}" if e.reason else "")
    ),
    Incident.AbsenceRecorded:
        lambda e: f"Fravær for medarbejder {e.employee_id} registreret: {e.days} dag(e) fra {day(e.first_day)}",
    Incident.Closed: lambda e: f"Hændelse afsluttet{': ' + text(e.reason) if e.reason else ''}",
    Incident.Reopened: lambda e: f"Hændelse genåbnet: {text(e.reason)}",
    Incident.PoliceReportAdviceGiven: lambda e: f"Rådgivning om politianmeldelse: {text(e.text)}",
    Incident.PoliceReportFiled: lambda e: (
        f"Politianmeldt af forvaltningen for {', '.join(e.employee_ids)} (politiets journalnummer {e.police_reference})"
    ),
    Incident.PoliceReportNotFiled: lambda e: f"Ikke politianmeldt for {', '.join(e.employee_ids)}: {text(e.reason)}",
    Incident.PoliceCaseConcluded: lambda e: f"Politisagen afsluttet: {word(e.conclusion)}",
    Incident.Erased: lambda e: (
        f"Hændelsens personoplysninger slettet med borgerens efter {authorisation(e.authorisation)},"
        f" besluttet af {e.erased_by.name}"
    ),
    # The meeting's own fact, shown on the incident's timeline: the link as the meeting recorded it.
    Appointment.IncidentReported: lambda e: f"Hændelse {e.incident_id} anmeldt fra mødet {e.originator_id}",
}
