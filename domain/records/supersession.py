"""Superseding an event: a corrected replacement for one event of the log, recorded as a new event.

The log is never edited. When an event cannot be applied (a view stops at it) or carries a wrong
value no command can correct, an operator records, with a named official and the reason, a
replacement for the event at one log position: the same event type, aggregate and version, with
corrected fields, validated by the event's own model (so by the domain's own value types). The
replacement is kept in one register aggregate (`SupersessionRegister`, a fixed id), so a reader
finds every supersession by reading that one aggregate's new events, an indexed lookup.

Every reader of the log that acts on it (view runners, rebuilds, the Kafka relay) and the
application's repository read the replacement in the original's place; the legal timeline shows
the original as recorded and the supersession as a fact of its own. See docs/projections.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.utils import resolve_topic
from pydantic import ValidationError

from domain.command import Command
from domain.errors import NotFound, RuleViolation
from domain.model import Aggregate, DomainEvent
from domain.values import Official, Text

REGISTER_ID = uuid5(UUID("6f1d3c52-8b8e-4c0e-9a57-2f0b6b1f5d10"), "vaern:supersession-register")
# What identifies an event and when it was recorded: a replacement keeps them as they are.
FIXED_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")


class SupersedeEvent(Command):
    """Supersede the event at `position` with a corrected replacement; a named official answers for it."""

    position: int
    corrections: dict[str, Any]
    reason: Text
    official: Official


class SupersessionRegister(Aggregate):
    """Every supersession of an event of the log, latest last; one register for the whole log."""

    TOPIC = "vaern:SupersessionRegister"

    class Event(Aggregate.Event):
        pass

    class Opened(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:SupersessionRegister.Opened"

    Created = Opened

    class EventSuperseded(Event):
        """The event at `position` is to be read as `replacement` (its JSON, as its own model writes it)."""

        TOPIC: ClassVar[str] = "vaern:SupersessionRegister.EventSuperseded"
        position: int
        topic: str
        event_originator_id: UUID
        event_version: int
        replacement: str
        corrected: tuple[str, ...]
        official: Official
        reason: Text

        def apply(self, register: SupersessionRegister) -> None:
            register.superseded[self.position] = self

    def __init__(self) -> None:
        self.superseded: dict[int, SupersessionRegister.EventSuperseded] = {}

    @classmethod
    def open(cls, actor: Any, now: Any) -> SupersessionRegister:
        return cls._create(cls.Opened, id=REGISTER_ID, actor=actor, effective_at=now)

    def supersede(
        self, position: int, original: Any, replacement: Any, corrected: tuple[str, ...], official: Official,
        reason: str, actor: Any, now: Any,
    ) -> None:
        """Records `replacement` for the event at `position` (`original`, as the log holds it)."""
        if isinstance(original, SupersessionRegister.Event):
            raise RuleViolation("position", "a supersession cannot itself be superseded; supersede the event again")
        self.trigger_event(
            self.EventSuperseded, actor=actor, effective_at=now, position=position, topic=type(original).TOPIC,
            event_originator_id=original.originator_id, event_version=original.originator_version,
            replacement=replacement.model_dump_json(), corrected=corrected, official=official, reason=reason,
        )


def replacement_event(superseded: SupersessionRegister.EventSuperseded) -> Any:
    """The replacement a supersession records, as an event of its own type."""
    return resolve_topic(superseded.topic).model_validate_json(superseded.replacement)


def corrected(original: DomainEvent, corrections: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """The original with `corrections` merged in, validated by its own model, and the paths it changes.

    `corrections` holds the fields to correct; a field holding an object is corrected member by
    member (`{"terms": {"in_person": {"instructions": "…"}}}` leaves the rest of the terms alone).
    Refused (RuleViolation, naming the field but never quoting a value): a field the event has not,
    one that identifies it or when it was recorded, a value its model refuses, and no change at all.
    """
    if not corrections:
        raise RuleViolation("corrections", "name at least one field of the event to correct")
    model = type(original)
    for name in corrections:
        if name in FIXED_FIELDS:
            raise RuleViolation(f"corrections.{name}", "identifies the event or when it was recorded; it stays as it is")
        if name not in model.model_fields:
            raise RuleViolation(f"corrections.{name}", f"{model.__qualname__} has no such field")
    before = original.model_dump(mode="json")
    try:
        replacement = model.model_validate(_merged(before, corrections))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "corrections"
        raise RuleViolation(f"corrections.{field}", first["msg"]) from None
    changed = tuple(_changed(before, replacement.model_dump(mode="json")))
    if not changed:
        raise RuleViolation("corrections", "the replacement would be the same as the event")
    return replacement, changed


def _merged(value: Any, correction: Any) -> Any:
    if isinstance(value, dict) and isinstance(correction, Mapping):
        return {**value, **{k: _merged(value.get(k), v) for k, v in correction.items()}}
    return correction


def _changed(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = dict.fromkeys([*before, *after])
        return [p for k in keys for p in _changed(before.get(k), after.get(k), f"{path}.{k}" if path else k)]
    return [] if before == after else [path]


def check_replays(history: list[Any], replacement: Any) -> None:
    """Refuses a replacement its aggregate's history does not replay with (its own `apply` fails).

    `history` is the aggregate's events as it loads them now; the replacement takes the place of
    the event of its version.
    """
    aggregate = None
    for event in history:
        chosen = replacement if event.originator_version == replacement.originator_version else event
        try:
            aggregate = chosen.mutate(aggregate)
        except Exception as error:
            raise RuleViolation(
                "corrections", f"the aggregate's history does not replay with this replacement ({type(error).__name__}"
                f" at its version {event.originator_version})"
            ) from None
    if aggregate is None:
        raise NotFound("the superseded event's aggregate could not be loaded")
