"""The sections letters share: the terms per channel, the open channel, period, reasons, lifting, complaint."""

from __future__ import annotations

from datetime import date, datetime

from domain.letters import texts
from domain.letters.parts import Section
from domain.contact_file.restriction_dates import local
from domain.contact_file.restriction_state import Hearing
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Channel


def _rules(terms: RestrictionTerms) -> dict[Channel, str]:
    return {
        Channel.IN_PERSON: texts.in_person_rule(terms.in_person),
        Channel.PHONE: texts.phone_rule(terms.phone),
        Channel.WRITTEN: texts.written_rule(terms.written, terms.contact_point),
    }


def channel_rules(terms: RestrictionTerms) -> tuple[str, ...]:
    """One plain-Danish sentence per channel, open ones included, so the citizen sees the whole picture."""
    return tuple(f"{texts.CHANNEL_HEADINGS[channel]}: {rule}" for channel, rule in _rules(terms).items())


def what_it_means(terms: RestrictionTerms, heading: str = "Hvad begrænsningen betyder for dig") -> Section:
    return Section(heading=heading, paragraphs=(texts.scope(terms.scope),), items=channel_rules(terms))


def how_to_reach_us(terms: RestrictionTerms) -> Section:
    return Section(
        heading="Sådan kan du kontakte os",
        paragraphs=(
            texts.open_channel(terms.open_channel, terms.contact_point),
            f"Har du spørgsmål til dette brev, er du velkommen til at kontakte {terms.contact_point}.",
        ),
    )


def period(terms: RestrictionTerms, review_date: date) -> Section:
    return Section(
        heading="Hvor længe begrænsningen gælder",
        paragraphs=(
            f"Begrænsningen gælder {texts.period(terms.valid_from, terms.valid_until)}.",
            f"Vi genovervejer begrænsningen senest den {texts.long_date(review_date)}.",
        ),
    )


def reasons(
    terms_reasons: str, lead_in: str, behaviour: tuple[str, ...], heading: str = "Begrundelse",
    described: str | None = None,
) -> Section:
    """The reasons, then the behaviour relied on: one dated line per episode, and the leader's own account."""
    account = (f"Om din adfærd: {texts.sentence(described)}",) if described else ()
    return Section(heading=heading, paragraphs=(terms_reasons, *account, lead_in), items=behaviour)


def milder_measures(tried: tuple[str, ...], why_none: str | None) -> Section:
    """Proportionality: the milder measures tried before restricting, or why none were."""
    paragraphs: tuple[str, ...] = (texts.PROPORTIONALITY,)
    if tried:
        paragraphs += ("Før vi traf afgørelsen, forsøgte vi mindre indgribende løsninger, men de fik ikke adfærden "
                       "til at stoppe. Vi har forsøgt følgende:",)
    if why_none:
        paragraphs = (*paragraphs[:1], f"Vi har ikke først forsøgt mindre indgribende løsninger, fordi: "
                      f"{texts.sentence(why_none)}", *paragraphs[1:])
    return Section(heading="Mindre indgribende løsninger", paragraphs=paragraphs, items=tried)


def hearing_account(hearing: Hearing) -> Section:
    """How the citizen was heard before the decision, or the exception under which they were not, and why."""
    if hearing.skipped is not None:
        paragraphs = (
            f"Vi har truffet afgørelsen uden først at høre dig (partshøring), fordi "
            f"{texts.HEARING_SKIPPED[hearing.skipped.value]}. Det giver forvaltningslovens § 19, stk. 2, mulighed for.",
            f"Vores begrundelse: {texts.sentence(hearing.skip_reason or '')}",
            "Du er stadig velkommen til at komme med bemærkninger. Giver de anledning til det, ser vi på "
            "afgørelsen igen.",
        )
    else:
        sent, deadline = (texts.long_date(local(m).date()) for m in (hearing.sent_at, hearing.deadline))
        answered = (
            f"Vi modtog dine bemærkninger den {texts.long_date(local(hearing.answered_at).date())}, og vi har taget "
            "dem med i vores vurdering."
            if hearing.answered_at else "Vi har ikke modtaget bemærkninger fra dig inden fristen."
        )
        paragraphs = (
            f"Den {sent} skrev vi til dig om den begrænsning, vi overvejede, og bad om dine bemærkninger senest "
            f"den {deadline} (partshøring efter forvaltningslovens § 19).",
            answered,
        )
    return Section(heading="Partshøring", paragraphs=paragraphs)


def legal_basis(text: str) -> Section:
    return Section(heading="Retsgrundlag", paragraphs=(text,))


def how_it_ends(terms: RestrictionTerms, review_date: date) -> Section:
    return Section(
        heading="Sådan kan begrænsningen ophæves",
        paragraphs=(
            f"Begrænsningen ophører automatisk {texts.ends(terms.valid_until)}.",
            f"Vi genovervejer den senest den {texts.long_date(review_date)}. Er grundlaget ikke længere til "
            "stede, ophæver vi den før tid, og vi skriver til dig om det.",
            "Du kan til enhver tid bede os om at ophæve eller ændre begrænsningen, fx hvis du mener, at grundlaget "
            f"ikke længere er til stede. Skriv til {terms.contact_point}.",
        ),
    )


def complaint() -> Section:
    return Section(heading="Klagevejledning", paragraphs=texts.complaint_paragraphs())


def decision_body(
    terms: RestrictionTerms, review_date: date, reasons_section: Section, basis: str, *considered: Section
) -> tuple[Section, ...]:
    """Everything a decision states after its opening: terms, contact, period, reasons and what else was
    considered (milder measures, the hearing), law, lifting, complaint."""
    return (
        what_it_means(terms),
        how_to_reach_us(terms),
        period(terms, review_date),
        reasons_section,
        *considered,
        legal_basis(basis),
        how_it_ends(terms, review_date),
        complaint(),
    )


def hearing_opening(terms: RestrictionTerms, issued_on: date) -> tuple[Section, Section]:
    """Why we write before deciding, and the restriction we are considering."""
    opening = Section(
        heading="Vi vil gerne høre dig",
        paragraphs=(
            f"Vi overvejer at begrænse {texts.ACCESS}. Vi har endnu ikke truffet en afgørelse.",
            "Før vi gør det, vil vi gerne høre, hvad du har at sige (partshøring efter forvaltningslovens § 19).",
        ),
    )
    intended = Section(
        heading="Det, vi overvejer",
        paragraphs=(
            texts.scope(terms.scope),
            f"Vi overvejer, at begrænsningen skal gælde {_intended_period(terms, issued_on)}.",
        ),
        items=channel_rules(terms),
    )
    return opening, intended


def _intended_period(terms: RestrictionTerms, issued_on: date) -> str:
    # A decision starts no earlier than itself: a start not after the letter's day reads as the decision's day.
    if local(terms.valid_from).date() > issued_on:
        return texts.period(terms.valid_from, terms.valid_until)
    return f"fra den dag, vi træffer afgørelsen, {texts.period_end(terms.valid_until)}"


def comment_by(terms: RestrictionTerms, deadline: date, reply_to: str | None) -> Section:
    by = texts.long_date(deadline)
    return Section(
        heading="Sådan giver du dine bemærkninger",
        paragraphs=(
            f"Du kan sende dine bemærkninger til {reply_to or terms.contact_point} senest den {by}. "
            "Du er også velkommen til at bede om at give dem mundtligt.",
            f"Hvis vi ikke har hørt fra dig senest den {by}, træffer vi afgørelse på det grundlag, vi har.",
            texts.open_channel(terms.open_channel, terms.contact_point),
        ),
    )


def warning(stop: str, episodes: tuple[str, ...], follows: str, contact_point: str) -> tuple[Section, ...]:
    """A warning: the behaviour to stop, the episodes it rests on, what may follow, whom to ask."""
    return (
        Section(
            heading="Vi beder dig stoppe",
            paragraphs=(
                "Vi skriver til dig, fordi vi har oplevet en adfærd over for vores medarbejdere, "
                "som vi ikke kan acceptere.",
                f"Vi beder dig om at stoppe følgende adfærd: {texts.sentence(stop)}",
            ),
        ),
        Section(heading="Det drejer sig om", paragraphs=("Vi har lagt vægt på følgende episoder:",), items=episodes),
        Section(
            heading="Hvad der kan ske",
            paragraphs=(follows, "Dette brev er ikke en afgørelse. Det ændrer ikke din adgang til at kontakte os."),
        ),
        Section(
            heading="Har du spørgsmål",
            paragraphs=(
                f"Du er velkommen til at kontakte {contact_point}, hvis du har spørgsmål eller bemærkninger "
                "til brevet.",
                f"Er du utilfreds med vores sagsbehandling, kan du henvende dig til {texts.BORGERRAADGIVER}.",
            ),
        ),
    )


def lifted(terms: RestrictionTerms, lifted_at: datetime, reason: str) -> tuple[Section, ...]:
    """A lift: from when the restriction no longer applies, why, and that contact is normal again."""
    return (
        Section(
            heading="Begrænsningen er ophævet",
            paragraphs=(
                f"Vi har besluttet at ophæve begrænsningen af {texts.ACCESS}, som gjaldt "
                f"{texts.period(terms.valid_from, terms.valid_until)}.",
                f"Begrænsningen gælder ikke længere fra {texts.starts(lifted_at)}.",
            ),
        ),
        Section(heading="Begrundelse", paragraphs=(reason,)),
        Section(
            heading="Du kan igen kontakte os som før",
            paragraphs=(
                "Du kan igen møde op, ringe og skrive til os på samme måde som andre borgere.",
                f"Har du spørgsmål til dette brev, er du velkommen til at kontakte {terms.contact_point}.",
            ),
        ),
    )


def _parts(terms: RestrictionTerms) -> dict[str, str]:
    parts = {texts.CHANNEL_HEADINGS[channel]: rule for channel, rule in _rules(terms).items()}
    parts["Hvor begrænsningen gælder"] = texts.scope(terms.scope)
    parts["Kontakt"] = texts.open_channel(terms.open_channel, terms.contact_point)
    parts["Periode"] = f"Begrænsningen gælder {texts.period(terms.valid_from, terms.valid_until)}."
    return parts


def changes(before: RestrictionTerms, after: RestrictionTerms) -> tuple[str, ...]:
    """What an amendment changes, one line per changed part: what held until now and what holds from now."""
    old, new = _parts(before), _parts(after)
    return tuple(f"{label} – hidtil: {old[label]} Fremover: {new[label]}" for label in new if old[label] != new[label])
