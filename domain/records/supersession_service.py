"""Superseding events, and reading the log and aggregates with the replacements in place.

Mixed into the Vaern application. Its repository loads every aggregate with superseded events
replaced, so commands decide on the same facts the views and the relay apply; `replacements` is
what the followers read the log through (infra/eventstore.py, consumers/changes.py). Before each
load or read the register's new events are read: one indexed read of one aggregate, usually
finding none. The application's own `mapper` and `events` stay as stored: the legal timeline and
the as-of reconstruction read the log as it was recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate
from eventsourcing.persistence import EventStore

from domain.changes import change
from domain.errors import NotFound
from domain.records.supersession import (
    REGISTER_ID,
    SupersedeEvent,
    SupersessionRegister,
    check_replays,
    corrected,
    replacement_event,
)

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder, Mapper, Recording


class Replacements:
    """The replacements recorded in the register, by log position and by (aggregate, version)."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[UUID]) -> None:
        self._recorder, self._mapper = recorder, mapper
        self._lock = threading.Lock()
        self.version = 0  # the register's version read so far
        self._by_position: dict[int, tuple[SupersessionRegister.EventSuperseded, Any]] = {}
        self._by_key: dict[tuple[UUID, int], Any] = {}

    def refresh(self) -> None:
        """Reads the supersessions recorded since the last refresh (usually none: one indexed read)."""
        self.absorb(self._recorder.select_events(REGISTER_ID, gt=self.version))

    def absorb(self, stored: Sequence[Any]) -> None:
        """Takes in the register's events read after `version` (by `refresh`, or beside an aggregate's)."""
        if not stored:
            return
        with self._lock:  # another thread may have read the same ones meanwhile
            for event in stored:
                if event.originator_version <= self.version:
                    continue
                superseded = self._mapper.to_domain_event(event)
                if isinstance(superseded, SupersessionRegister.EventSuperseded):
                    replacement = replacement_event(superseded)
                    self._by_position[superseded.position] = (superseded, replacement)
                    self._by_key[(superseded.event_originator_id, superseded.event_version)] = replacement
                self.version = event.originator_version

    def at(self, position: int) -> Any | None:
        """The replacement for the event at `position`, or None."""
        found = self._by_position.get(position)
        return None if found is None else found[1]

    def state_at(self, position: int) -> bytes | None:
        """The replacement for the event at `position` as stored JSON, or None."""
        found = self._by_position.get(position)
        return None if found is None else found[0].replacement.encode("utf-8")

    def of(self, originator_id: UUID, version: int) -> Any | None:
        """The replacement for an aggregate's event of `version`, or None."""
        return self._by_key.get((originator_id, version))

    def mark(self, position: int) -> int:
        """The register version of the latest supersession of the event at `position`; 0 if none."""
        found = self._by_position.get(position)
        return 0 if found is None else found[0].originator_version


class _ReplacingMapper:
    """Decodes stored events, giving a superseded event's replacement in its place (never decoding it)."""

    def __init__(self, mapper: Mapper[UUID], replacements: Replacements) -> None:
        self.mapper, self.replacements = mapper, replacements

    def to_domain_event(self, stored: Any) -> Any:
        found = self.replacements.of(UUID(str(stored.originator_id)), stored.originator_version)
        return found if found is not None else self.mapper.to_domain_event(stored)

    def to_stored_event(self, event: Any) -> Any:
        return self.mapper.to_stored_event(event)


class SupersedingRepository(Repository[UUID]):
    """Loads aggregates with superseded events replaced; reads the register's new events first."""

    def __init__(self, event_store: EventStore[UUID], replacements: Replacements) -> None:
        super().__init__(event_store)  # no cache: a cached aggregate would miss a later supersession
        self.replacements = replacements

    def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:  # type: ignore[override]
        select_two = getattr(self.event_store.recorder, "select_two", None)  # PostgreSQL's: one round trip
        if select_two is None or kwargs.get("version") is not None or set(kwargs) - {"version"} or aggregate_id == REGISTER_ID:
            self.replacements.refresh()
            return super().get(aggregate_id, **kwargs)
        register, stored = select_two(REGISTER_ID, self.replacements.version, aggregate_id)
        self.replacements.absorb(register)  # before the aggregate's events are decoded: they may be superseded
        aggregate = project_aggregate(None, (self.event_store.mapper.to_domain_event(s) for s in stored))
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
        return aggregate


@dataclass(frozen=True)
class SupersessionPlan:
    """What a supersession would record: the original, its corrected replacement and the paths corrected."""

    position: int
    original: Any
    replacement: Any
    corrected: tuple[str, ...]


class SupersessionCommands:
    """Recording supersessions; mixed into the Vaern application."""

    if TYPE_CHECKING:
        recorder: ApplicationRecorder
        mapper: Mapper[UUID]
        repository: Repository[UUID]
        clock: Callable[[], datetime]

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...

    replacements: Replacements

    def construct_repository(self) -> Repository[UUID]:
        self.replacements = Replacements(self.recorder, self.mapper)
        store = EventStore(mapper=_ReplacingMapper(self.mapper, self.replacements), recorder=self.recorder)  # type: ignore[arg-type]
        return SupersedingRepository(store, self.replacements)

    def plan_supersession(self, command: SupersedeEvent) -> SupersessionPlan:
        """The replacement the command's corrections make of the event at its position, checked; nothing is recorded.

        An event superseded before is corrected further: the corrections go into the replacement
        followers read now. The aggregate's history must replay with the new replacement.
        """
        position = command.position
        found = self.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            raise NotFound(f"no event at position {position}")
        original = self.mapper.to_domain_event(found[0])
        if isinstance(original, SupersessionRegister.Event):
            raise NotFound(f"the event at position {position} is a supersession; supersede the event itself again")
        self.replacements.refresh()
        current = self.replacements.at(position) or original
        replacement, paths = corrected(current, command.corrections)
        check_replays(list(self.repository.event_store.get(original.originator_id)), replacement)
        return SupersessionPlan(position, original, replacement, paths)

    def supersede_event(self, command: SupersedeEvent) -> tuple[SupersessionPlan, int]:
        """Records a corrected replacement for the event at the command's position; returns the plan and the new event's position."""
        plan = self.plan_supersession(command)

        def load() -> SupersessionRegister:
            try:
                return self.repository.get(REGISTER_ID)  # type: ignore[return-value]
            except AggregateNotFoundError:
                return SupersessionRegister.open(command.actor, self.clock())

        def decide(register: SupersessionRegister) -> None:
            register.supersede(
                plan.position, plan.original, plan.replacement, plan.corrected, command.official, command.reason,
                command.actor, self.clock(),
            )

        _, _, recorded = change(load, self.save, None, decide)
        assert recorded is not None
        return plan, recorded
