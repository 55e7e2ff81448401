"""A case's facts in log order, each with its Danish name, one line a lawyer can read and the letters it produced.

The lines are written in `domain.records.fact_summaries`, the names in `domain.danish`. A fact's times are
kept apart: when it took effect (its valid time) and when it was recorded (`timestamp`). An
incident's report took effect when the incident occurred, not when it was reported: a late report
keeps the date it happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.contact_file.aggregate import ContactFile
from domain.danish import fact_name
from domain.calendar import COPENHAGEN
from domain.records.fact_summaries import event_type, has_summary, summary, terms_text
from domain.records.fact_summaries.words import authorisation, day
from domain.incident.aggregate import Incident
from domain.values import Actor

__all__ = ["Entry", "LetterRef", "entries", "event_type", "has_summary", "summary", "terms_text", "valid_time"]


@dataclass(frozen=True)
class LetterRef:
    """A letter by id, kind and the SHA-256 of its stored PDF (the exact copy sent)."""

    letter_id: UUID
    kind: str
    sha256: str


@dataclass(frozen=True)
class Entry:
    """One fact of the case: where it stands in the log, its two times, who recorded it, what it says."""

    position: int
    originator_id: UUID
    version: int
    type: str  # the stored type, e.g. ContactFile.RestrictionDecided
    name: str  # its Danish name, e.g. Restriktion besluttet
    effective_at: datetime
    recorded_at: datetime
    actor: Actor
    summary: str
    letters: tuple[LetterRef, ...] = ()


def valid_time(event: Any) -> datetime:
    """When the fact took effect. A report's is when the incident occurred, as the report states it."""
    if isinstance(event, Incident.Reported):
        return event.facts.occurred_at
    return event.effective_at


def entries(history: Iterable[tuple[int, Any]]) -> list[Entry]:
    """The facts in log order, each letter attached to the fact that produced it and to its own facts."""
    ordered = sorted(history, key=lambda pair: pair[0])
    letters: dict[int, list[LetterRef]] = {}
    for index, (_, event) in enumerate(ordered):
        if isinstance(event, ContactFile.LetterIssued):
            ref = LetterRef(event.letter_id, event.kind, event.sha256)
            letters.setdefault(index, []).append(ref)
            producer = _producer(ordered[:index], event)
            if producer is not None:
                letters.setdefault(producer, []).append(ref)
    issued = {ref.letter_id: ref for refs in letters.values() for ref in refs}
    for index, (_, event) in enumerate(ordered):
        if isinstance(event, (ContactFile.LetterDispatched, ContactFile.LetterDelivered)) and event.letter_id in issued:
            letters.setdefault(index, []).append(issued[event.letter_id])
    erased = {e.originator_id: e for _, e in ordered if isinstance(e, ERASURES)}
    return [
        _entry(position, event, tuple(letters.get(index, ())), erased.get(event.originator_id))
        for index, (position, event) in enumerate(ordered)
    ]


ERASURES = (ContactFile.Erased, Incident.Erased)


def _entry(position: int, event: Any, letters: tuple[LetterRef, ...], erasure: Any | None) -> Entry:
    """The fact's entry; one whose personal data was erased since says so, when and under what, instead of its line."""
    line = summary(event)
    if erasure is not None and event.originator_version < erasure.originator_version:
        line = f"Slettet den {day(erasure.effective_at.astimezone(COPENHAGEN).date())} efter {authorisation(erasure.authorisation)}"
    return Entry(
        position=position, originator_id=event.originator_id, version=event.originator_version,
        type=event_type(event), name=fact_name(type(event)) or event_type(event), effective_at=valid_time(event),
        recorded_at=event.timestamp, actor=event.actor,
        summary=line, letters=letters,
    )


# Which fact each kind of letter comes from: the latest such fact on the letter's subject.
_PRODUCERS: dict[str, tuple[type, ...]] = {
    "warning": (ContactFile.WarningIssued,),
    "hearing": (ContactFile.HearingSent,),
    "decision": (ContactFile.RestrictionDecided,),
    "continuation": (ContactFile.RestrictionDecided,),
    "amendment": (ContactFile.RestrictionAmended,),
    "lift": (ContactFile.RestrictionLifted,),
}


def _producer(earlier: list[tuple[int, Any]], letter: ContactFile.LetterIssued) -> int | None:
    kinds = _PRODUCERS.get(letter.kind, ())
    for index in range(len(earlier) - 1, -1, -1):
        event = earlier[index][1]
        if isinstance(event, kinds) and event.originator_id == letter.originator_id and _subject(event) == letter.subject_id:
            return index
    return None


def _subject(event: Any) -> UUID | None:
    if isinstance(event, ContactFile.WarningIssued):
        return event.warning.warning_id
    return getattr(event, "restriction_id", None)
