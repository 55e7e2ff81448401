"""The behaviour a letter relies on, in plain Danish to the citizen, written from an incident's facts.

One sentence per incident: when, what the citizen did (each kind of behaviour), and where or how,
e.g. "Den 20. november 2026 truede du en medarbejder under et møde." It is made only from the
incident's structured facts (`Conduct`), so it names no employee, bystander or colleague.
"""

from __future__ import annotations

from domain.letters.conduct import Conduct
from domain.incident.facts import ExposureForm, IncidentChannel, IncidentKind, ThreatTarget
from domain.letters.texts import join_words, long_date
from domain.contact_file.restriction_dates import local

CHANNELS = {
    IncidentChannel.MEETING: "under et møde",
    IncidentChannel.AT_THE_CENTRE: "på jobcentret",
    IncidentChannel.PHONE: "i telefonen",
    IncidentChannel.SMS: "i sms'er",
    IncidentChannel.EMAIL: "i e-mails",
    IncidentChannel.LETTER: "i et brev",
    IncidentChannel.PRIVATE_ADDRESS: "ved en medarbejders private adresse",
}
EXPOSURE = {
    ExposureForm.NAME: "navn",
    ExposureForm.PHOTO: "billeder",
    ExposureForm.RECORDING: "optagelser",
    ExposureForm.PROFILE_LINK: "links til profiler",
    ExposureForm.ACCUSATIONS_OF_UNLAWFUL_DECISIONS: "beskyldninger om ulovlige afgørelser",
}
BREACH = "Det var i strid med den begrænsning af din adgang til at kontakte os, som gjaldt dengang."


def episode(conduct: Conduct) -> str:
    """One sentence to the citizen: when, what they did, and where; plus a breach of a restriction, if it was one."""
    acts = [_act(kind, conduct) for kind in conduct.kinds]
    (verb, rest), others = acts[0], acts[1:]
    what = " og ".join([f"{verb} du {rest}", *(f"{v} {r}" for v, r in others)])
    where = _where(conduct)
    sentence = f"{_when(conduct)} {what}{f' {where}' if where else ''}."
    return f"{sentence} {BREACH}" if conduct.breach_of_restriction else sentence


def _when(conduct: Conduct) -> str:
    start = long_date(local(conduct.occurred_at).date())
    if conduct.occurred_until is None or local(conduct.occurred_until).date() == local(conduct.occurred_at).date():
        return f"Den {start}"
    return f"I perioden fra den {start} til den {long_date(local(conduct.occurred_until).date())}"


def _employee(conduct: Conduct) -> str:
    return "en medarbejder" if conduct.employees == 1 else "flere medarbejdere"


def _act(kind: IncidentKind, conduct: Conduct) -> tuple[str, str]:
    """The verb (placed before 'du') and the rest of what the citizen did."""
    one = conduct.employees == 1
    who = _employee(conduct)
    if kind is IncidentKind.THREAT:
        targets = {
            ThreatTarget.EMPLOYEE: who,
            ThreatTarget.FAMILY: "en medarbejders familie" if one else "medarbejderes familier",
            ThreatTarget.OTHERS: "andre",
        }
        aimed = join_words([targets[t] for t in conduct.threat_targets] or [who])
        return "truede", f"{aimed} på livet" if conduct.death_threat else aimed
    if kind is IncidentKind.FREQUENT_OR_AGGRESSIVE_CONTACT:
        return "kontaktede", "os gentagne gange eller på en aggressiv måde"
    if kind is IncidentKind.SEXUALISED_REMARKS:
        return "kom", f"med seksualiserede bemærkninger til eller om {who}"
    if kind is IncidentKind.TURNED_UP_AT_PRIVATE_ADDRESS:
        return "opsøgte", f"{who} på {'medarbejderens private adresse' if one else 'deres private adresser'}"
    if kind is IncidentKind.SOCIAL_MEDIA_EXPOSURE:
        forms = join_words([EXPOSURE[f] for f in conduct.exposure]) if conduct.exposure else ""
        return "offentliggjorde", f"oplysninger om {who}" + (f" ({forms})" if forms else "")
    return "optrådte", f"over for {who} på en måde, som vi ikke kan acceptere"


def _where(conduct: Conduct) -> str:
    if conduct.channel is IncidentChannel.SOCIAL_MEDIA:
        return f"på {conduct.platform}" if conduct.platform else "på sociale medier"
    if conduct.channel is IncidentChannel.PRIVATE_ADDRESS and IncidentKind.TURNED_UP_AT_PRIVATE_ADDRESS in conduct.kinds:
        return ""  # the act already says where
    return CHANNELS[conduct.channel]
