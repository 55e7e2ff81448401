"""The base for Vaern's aggregates: events are frozen pydantic models with stable, explicit topics.

Events are stored as the JSON pydantic writes, so enums, times and nested value objects come back
with their types. Every event class declares its TOPIC: the stored name is a contract, and moving a
class to another module must not break reading what was stored under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    datetime_now_with_tzinfo,
)
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import from_log_json
from domain.errors import RuleViolation
from domain.values import Actor, ArchiveAuthorisation, Erasure, Official


class DomainEvent(BaseModel):
    """A fact: who recorded it (`actor`), when it took effect, and when it was recorded (`timestamp`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime = Field(default_factory=datetime_now_with_tzinfo)
    actor: Actor
    effective_at: datetime

    def values_of(self, *names: str) -> dict[str, Any]:
        """The named fields' values as they are (not dumped and validated again), for a record made of them."""
        return {name: getattr(self, name) for name in names}


class Aggregate(BaseAggregate[UUID]):
    """An aggregate whose events are pydantic models."""

    TOPIC: ClassVar[str]

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        pass

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str


class Erasable:
    """Mixed into an aggregate whose personal data can be erased: once its `erasure` is recorded, it records
    nothing more (the refusal names `ERASED_FIELD` and calls the aggregate `ERASED_NOUN`)."""

    ERASED_FIELD: ClassVar[str]
    ERASED_NOUN: ClassVar[str]
    erasure: Erasure | None = None
    Erased: Any  # the aggregate's erasure event, an ErasureEvent

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        if self.erasure is not None:
            raise RuleViolation(self.ERASED_FIELD, f"the {self.ERASED_NOUN} was erased; nothing more is recorded on it")
        super().trigger_event(event_class, **kwargs)  # type: ignore[misc]

    def record_erasure(
        self, authorisation: ArchiveAuthorisation, official: Official, actor: Actor, now: datetime, **about: Any
    ) -> None:
        """Records the erasure under `authorisation`, answered for by `official`; `about` are the event's own fields."""
        self.trigger_event(
            self.Erased, authorisation=authorisation, erased_by=official, actor=actor, effective_at=now, **about
        )


class ErasureEvent:
    """Mixed into an erasable aggregate's erasure event (which declares `authorisation` and `erased_by`):
    applying it records the erasure."""

    if TYPE_CHECKING:
        authorisation: ArchiveAuthorisation
        erased_by: Official
        effective_at: datetime

    def apply(self, aggregate: Erasable) -> None:
        aggregate.erasure = Erasure(authorisation=self.authorisation, erased_at=self.effective_at, erased_by=self.erased_by)


class PydanticMapper(Mapper[UUID]):
    """Turns pydantic events into stored events and back (with the configured cipher/compressor).

    `encode` and `decode` are the two halves a subclass may change (infra/sealing.py seals personal
    text); `decode` also reads a stored event as a model of some of its fields (the relay does).
    """

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = self.encode(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def encode(self, domain_event: Any) -> bytes:
        """The stored JSON of `domain_event`."""
        return bytes(domain_event.model_dump_json().encode("utf-8"))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode(resolve_topic(stored_event.topic), stored_event)

    def decode(self, model: type[Any], stored_event: Any) -> Any:
        """`stored_event` (a stored event or a notification) decoded as `model`: its class, or a model of
        some of its fields. Decoded as stored: today's input rules (domain/bounds.py) never stop an old
        event from decoding."""
        return from_log_json(model, self.plain(stored_event.state))

    def decode_all(self, wanted: list[tuple[type[Any], Any]]) -> list[Any]:
        """Each stored event decoded as its model (a subclass may read what they need at once)."""
        return [self.decode(model, stored) for model, stored in wanted]

    def plain(self, state: bytes) -> bytes:
        """`state` with the configured cipher and compressor undone."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state
