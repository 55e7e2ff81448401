"""The Danish words of letters: dates and times, channel rules, scope, and the standing paragraphs.

Every fixed sentence a citizen reads lives here, so legal can review the wording in one place.
Dates and times are shown in Copenhagen time; the tone is courteous and plain.
"""

from __future__ import annotations

from datetime import date, datetime, time

from domain.appointments.values import AppointmentKind
from domain.contact_file.restriction_dates import last_day, local
from domain.values import (
    Channel, InPersonRule, InPersonTerms, PhoneRule, PhoneTerms, Scope, ScopeKind, TimeWindow, Weekday, WrittenRule,
    WrittenTerms,
)

SENDER = "Københavns Kommune — Beskæftigelses- og Integrationsforvaltningen"
CLOSING = "Med venlig hilsen"
ACCESS = "din adgang til at kontakte Beskæftigelses- og Integrationsforvaltningen"

MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip
WEEKDAYS = {
    Weekday.MON: "mandag",
    Weekday.TUE: "tirsdag",
    Weekday.WED: "onsdag",
    Weekday.THU: "torsdag",
    Weekday.FRI: "fredag",
    Weekday.SAT: "lørdag",
    Weekday.SUN: "søndag",
}
CHANNEL_NAMES = {
    Channel.IN_PERSON: "personligt fremmøde",
    Channel.PHONE: "telefon",
    Channel.WRITTEN: "skriftlig henvendelse (brev, e-mail eller Digital Post)",
}
CHANNEL_HEADINGS = {Channel.IN_PERSON: "Fremmøde", Channel.PHONE: "Telefon", Channel.WRITTEN: "Skriftlig henvendelse"}

DEFAULT_LEGAL_BASIS = (
    "Der findes ikke regler i lovgivningen om, hvornår en myndighed kan begrænse en borgers kontakt. "
    "Afgørelsen bygger derfor på de ulovbestemte ordensbeføjelser, som en offentlig myndighed har for at "
    "sikre ro og orden og beskytte sine medarbejdere, og på almindelige forvaltningsretlige principper: "
    "begrænsningen skal have et sagligt formål, må ikke gå videre end nødvendigt og skal være tidsbegrænset. "
    "Du kan fortsat søge om hjælp og få behandlet din sag."
)
WARNING_CONSEQUENCE = (
    "Hvis adfærden fortsætter, kan vi blive nødt til at begrænse din adgang til at kontakte os, fx så du kun "
    "kan møde op efter forudgående aftale eller kun kan ringe til en bestemt medarbejder eller et bestemt team. "
    "I så fald vil vi først høre dig, før vi træffer en afgørelse."
)
# No-break spaces keep a postcode and its town on one line.
BORGERRAADGIVER = (
    "Københavns Kommunes Borgerrådgiver (Borgerrådgiveren), Vester Voldgade 2A, 1552\u00a0København\u00a0V"
)
OMBUDSMAND = "Folketingets Ombudsmand, Gammeltorv 22, 1457\u00a0København\u00a0K, www.ombudsmanden.dk"


# Why the citizen was not heard before the decision, by the exception recorded (Forvaltningsloven § 19, stk. 2).
HEARING_SKIPPED = {
    "urgency": "det hastede: vi måtte handle straks for at beskytte vores medarbejdere og kunne ikke vente på dine "
    "bemærkninger",
    "party_already_aware": "du allerede kendte de oplysninger, vi har lagt vægt på, og havde haft lejlighed til at "
    "udtale dig om dem",
    "overriding_interests": "hensynet til vores medarbejderes sikkerhed vejede tungere end din interesse i at udtale "
    "dig, før vi traf afgørelsen",
    "only_in_favour_of_party": "afgørelsen alene er til din fordel",
}
PROPORTIONALITY = (
    "En begrænsning må ikke gå videre end nødvendigt. Vi har begrænset din adgang så lidt, som vi vurderer er "
    "muligt, og du kan fortsat kontakte os som beskrevet ovenfor."
)


# The appointment letter. Centres are named as the administration's own documents name them; a centre
# whose full name is not in those documents is named by its code, as the booking gives it.
CENTRE_NAMES = {
    "JKA": "Jobcenter København – Arbejdsfastholdelse (JKA)",
    "JKU": "Jobcenter København Ungecentret (JKU)",
    "CF": "Centralforvaltningen (CF)",
}
MEETING_KINDS = {
    AppointmentKind.JOB_INTERVIEW: "Mødet er en jobsamtale.",
    AppointmentKind.REHABILITATION_MEETING: "Mødet er et rehabiliteringsmøde.",
    AppointmentKind.FOLLOW_UP_MEETING: "Mødet er et opfølgningsmøde.",
}
MEETING_ARRANGED = "Vi bekræfter hermed det møde, vi har aftalt med dig."
MEETING_CALLED = "Vi indkalder dig hermed til et møde."
MEETING_ARRIVAL = "Henvend dig i receptionen, når du kommer."
ATTENDING_TERMS = f"Der gælder en begrænsning af {ACCESS}. For dette møde betyder den følgende:"
THIS_IS_THE_APPOINTMENT = "Dette møde er en sådan aftale."


def long_date(day: date) -> str:
    """A date as Danish letters write it: 3. marts 2027."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def clock(moment: time) -> str:
    """A time of day the Danish way: 9.00, 13.30."""
    return f"{moment.hour}.{moment.minute:02d}"


def starts(moment: datetime) -> str:
    """When something starts: 'den 3. marts 2027', with the time unless it is midnight."""
    at = local(moment)
    text = f"den {long_date(at.date())}"
    return text if at.time() == time(0) else f"{text} kl. {clock(at.time())}"


def day_or_moment(value: date | datetime) -> str:
    """'den 3. marts 2027' for a date; a datetime as `starts` renders it."""
    return starts(value) if isinstance(value, datetime) else f"den {long_date(value)}"


def ends(until: datetime) -> str:
    """When something in force up to `until` (exclusive) ends, in words."""
    at = local(until)
    if at.time() == time(0):
        return f"med udgangen af den {long_date(last_day(until))}"
    return f"den {long_date(at.date())} kl. {clock(at.time())}"


def period(valid_from: datetime, valid_until: datetime) -> str:
    """'fra den 3. marts 2027 til og med den 2. september 2027', or to a time of day when the end has one."""
    return f"fra {starts(valid_from)} {period_end(valid_until)}"


def period_end(valid_until: datetime) -> str:
    """'til og med den 2. september 2027' for an end at midnight (its last day), else 'til den … kl. …'."""
    at = local(valid_until)
    if at.time() == time(0):
        return f"til og med den {long_date(last_day(valid_until))}"
    return f"til den {long_date(at.date())} kl. {clock(at.time())}"


def meeting_time(day: date, starts: time, ends: time) -> str:
    """'mandag den 29. marts 2027 kl. 10.00–11.00': the meeting's local wall time as it was booked."""
    weekday = WEEKDAYS[list(Weekday)[day.weekday()]]
    return f"{weekday} den {long_date(day)} kl. {clock(starts)}–{clock(ends)}"


def cannot_come(host: str, open_channel_text: str | None) -> tuple[str, ...]:
    """Whom to tell if the citizen cannot come: the open channel a restriction names, else the host."""
    if open_channel_text is None:
        return (f"Kan du ikke komme, eller har du spørgsmål til mødet, så kontakt {host} så hurtigt som muligt.",)
    return ("Kan du ikke komme, eller har du spørgsmål til mødet, så giv os besked så hurtigt som muligt.", open_channel_text)


def sentence(text: str) -> str:
    """The text ending as a sentence does."""
    return text if text.endswith((".", "!", "?")) else f"{text}."


def join_words(words: list[str]) -> str:
    """'a', 'a og b', 'a, b og c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} og {words[-1]}"


def day_list(days: tuple[Weekday, ...]) -> str:
    """Weekdays in week order; three or more in a row read 'mandag til fredag'."""
    order = list(Weekday)
    indices = sorted({order.index(day) for day in days})
    if len(indices) >= 3 and indices[-1] - indices[0] == len(indices) - 1:
        return f"{WEEKDAYS[order[indices[0]]]} til {WEEKDAYS[order[indices[-1]]]}"
    return join_words([WEEKDAYS[order[i]] for i in indices])


def window(span: TimeWindow) -> str:
    return f"{day_list(span.days)} kl. {clock(span.start)}–{clock(span.end)}"


def in_person_rule(terms: InPersonTerms) -> str:
    return {
        InPersonRule.OPEN: "Du kan møde op som hidtil.",
        InPersonRule.BY_APPOINTMENT: "Du kan kun møde op efter forudgående aftale.",
        InPersonRule.GUARD_PRESENT: "Du kan møde op, men der vil være en vagt til stede under dit besøg.",
        InPersonRule.BANNED: "Du kan ikke møde personligt op.",
    }[terms.rule]


def phone_rule(terms: PhoneTerms) -> str:
    if terms.rule is PhoneRule.NAMED_CONTACT_ONLY:
        return f"Du kan kun ringe til {terms.contact}."
    if terms.rule is PhoneRule.TIME_WINDOW:
        return f"Du kan kun ringe {join_words([window(span) for span in terms.windows])}."
    if terms.rule is PhoneRule.BANNED:
        return "Du kan ikke ringe til os."
    return "Du kan ringe som hidtil."


def written_rule(terms: WrittenTerms, contact_point: str) -> str:
    if terms.rule is WrittenRule.SINGLE_POINT_OF_CONTACT:
        return f"Du skal sende alle skriftlige henvendelser til {terms.contact or contact_point}."
    if terms.rule is WrittenRule.NO_REPLY_ON_CLOSED_TOPIC:
        return (
            "Vi svarer ikke længere på henvendelser om spørgsmål, som vi allerede har afgjort og besvaret. "
            "Nye ansøgninger og henvendelser om din sag behandler vi som altid."
        )
    return "Du kan skrive til os som hidtil."


def scope(where: Scope) -> str:
    if where.kind is ScopeKind.CENTRE:
        return f"Begrænsningen gælder kun for {where.centre}."
    if where.kind is ScopeKind.CASE:
        return f"Begrænsningen gælder kun for sagen {where.case}."
    return "Begrænsningen gælder for hele Beskæftigelses- og Integrationsforvaltningen."


def open_channel(channel: Channel, contact_point: str) -> str:
    return (
        f"Du kan fortsat kontakte os ved {CHANNEL_NAMES[channel]}: {contact_point}. "
        "Du kan altid søge om hjælp, sende nye ansøgninger og få oplysninger om din sag."
    )


def complaint_paragraphs() -> tuple[str, ...]:
    return (
        "Der er ikke en anden forvaltningsmyndighed, du kan klage til over denne afgørelse. "
        "Er du uenig, er du velkommen til at skrive til os, så ser vi på sagen igen.",
        f"Du kan også henvende dig til {BORGERRAADGIVER}. "
        "Borgerrådgiveren er uafhængig af kommunens forvaltninger og behandler klager over kommunens sagsbehandling.",
        f"Du kan desuden klage til {OMBUDSMAND}. "
        "En klage til Ombudsmanden skal være indgivet senest 12 måneder efter afgørelsen.",
    )
