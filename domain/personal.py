"""Whose personal data each part of a fact is: the domain's answer to "what is encrypted with which key".

Every text of a stored fact is personal unless declared public here: a new field is protected by
default, and a field that is safe to keep readable says so where it is declared (`PUBLIC_TEXT`).
Numbers, times, ids and enumerated values are not text and stay readable; the citizen reference
is a keyed hash, not the CPR number, and stays readable too, so facts can be found by it.

A personal text belongs to one data subject, whose key encrypts it (infra/sealing.py):
- what an employee's name, id and title say (`Actor`, `Official`, `Person`, and every
  `employee_id`) belongs to that employee, so an employee who leaves can be erased without
  touching the cases they were part of;
- everything else in a contact file's fact belongs to the citizen whose file it is;
- everything else in an incident's fact belongs to the incident (it names its people in its
  description and notes; erasing a citizen erases the narrative of the incidents naming them);
- a supersession's replacement and reason belong to the case of the fact it supersedes.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from datetime import date, datetime, time
from typing import Annotated, Any, NamedTuple, get_args, get_origin
from uuid import UUID

from eventsourcing.utils import resolve_topic
from pydantic import AwareDatetime, BaseModel

from domain.appointments.aggregate import Appointment
from domain.appointments.values import Slot
from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts, Person
from domain.model import Aggregate
from domain.records.supersession import SupersessionRegister
from domain.values import Actor, ArchiveAuthorisation, Official

Path = tuple[str | int, ...]
"""Where a value stands in the fact's JSON: field names and list indices."""


class Subject(NamedTuple):
    """A data subject: `kind` is citizen, employee, incident or register; `id` names one of them."""

    kind: str
    id: str


EMPLOYEE_VALUES: tuple[type[BaseModel], ...] = (Actor, Official, Person)
"""Values that stand for an employee: all their text belongs to the employee with their `user_id`."""

EMPLOYEE_ID_FIELDS = frozenset({"employee_id", "employee_ids"})
"""Fields holding employees' user ids: each id belongs to its employee."""

PUBLIC_TEXT: dict[type[BaseModel], frozenset[str]] = {
    Aggregate.Created: frozenset({"originator_topic"}),
    ContactFile.LetterIssued: frozenset({"kind", "sha256"}),
    ContactFile.LetterDispatched: frozenset({"channel"}),
    Incident.EvidenceAttached: frozenset({"sha256", "media_type"}),
    Incident.TakedownRequested: frozenset({"platform"}),
    Incident.Corrected: frozenset({"fields"}),
    IncidentFacts: frozenset({"platform"}),
    SupersessionRegister.EventSuperseded: frozenset({"topic", "corrected"}),
    ArchiveAuthorisation: frozenset({"reference"}),
    Slot: frozenset({"zone"}),
}
"""Text fields that identify no one (kinds, digests, media types, field names, platforms' names, the archive's
reference of an erasure's authorisation, which the record of an erasure must keep showing, the time zone a
meeting's time is read in)."""


def case_subject(event: Any) -> Subject:
    """Who owns the personal text of `event` that belongs to no employee."""
    if isinstance(event, SupersessionRegister.EventSuperseded):
        superseded = resolve_topic(event.topic)
        kind = "citizen" if issubclass(superseded, ContactFile.Event) else "incident"
        return Subject(kind, str(event.event_originator_id))
    if isinstance(event, ContactFile.Event):
        return Subject("citizen", str(event.originator_id))
    if isinstance(event, Appointment.Event):  # a meeting with a citizen is the citizen's, erased with them
        return Subject("citizen", str(event.citizen_ref))
    if isinstance(event, Incident.Event):
        return Subject("incident", str(event.originator_id))
    return Subject("register", str(event.originator_id))


def personal_text(event: BaseModel) -> Iterator[tuple[Path, str, Subject]]:
    """Every personal text of `event`, where it stands and whose it is."""
    yield from _walk(event, (), case_subject(event))


def _walk(value: Any, path: Path, owner: Subject) -> Iterator[tuple[Path, str, Subject]]:
    if isinstance(value, str):
        if not isinstance(value, Enum):
            yield path, value, owner
    elif isinstance(value, BaseModel):
        yield from _fields(value, path, owner)
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index), owner)


def _fields(model: BaseModel, path: Path, owner: Subject) -> Iterator[tuple[Path, str, Subject]]:
    if isinstance(model, EMPLOYEE_VALUES):
        owner = Subject("employee", str(getattr(model, "user_id")))
    for name in _plan(type(model)):
        value = getattr(model, name)
        if name in EMPLOYEE_ID_FIELDS:
            if isinstance(value, str):
                yield (*path, name), value, Subject("employee", value)
            else:
                yield from (((*path, name, i), user_id, Subject("employee", user_id)) for i, user_id in enumerate(value))
        else:
            yield from _walk(value, (*path, name), owner)


_PLANS: dict[type, tuple[str, ...]] = {}


def _plan(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` that may hold personal text: not declared public (for it or a class it
    derives from), and of a type that can hold text (ids, times, numbers and enumerations cannot)."""
    plan = _PLANS.get(model)
    if plan is None:
        public = frozenset().union(*(fields for cls, fields in PUBLIC_TEXT.items() if issubclass(model, cls)))
        plan = tuple(
            name for name, info in model.model_fields.items() if name not in public and _may_hold_text(info.annotation)
        )
        _PLANS[model] = plan
    return plan


_NO_TEXT = (UUID, datetime, date, time, bool, int, float, Enum, AwareDatetime)


def _may_hold_text(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return _may_hold_text(get_args(annotation)[0])
    if isinstance(annotation, type) and not get_args(annotation):
        return not issubclass(annotation, _NO_TEXT)
    args = get_args(annotation)
    return not args or any(_may_hold_text(arg) for arg in args if arg is not type(None) and arg is not Ellipsis)
