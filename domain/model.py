"""The base for Vaern's aggregates: events are frozen pydantic models with stable, explicit topics.

Events are stored as the JSON pydantic writes, so enums, times and nested value objects come back
with their types. Every event class declares its TOPIC: the stored name is a contract, and moving a
class to another module must not break reading what was stored under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
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
from domain.values import Actor


class DomainEvent(BaseModel):
    """A fact: who recorded it (`actor`), when it took effect, and when it was recorded (`timestamp`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime = Field(default_factory=datetime_now_with_tzinfo)
    actor: Actor
    effective_at: datetime


class Aggregate(BaseAggregate[UUID]):
    """An aggregate whose events are pydantic models."""

    TOPIC: ClassVar[str]

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        pass

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str


class PydanticMapper(Mapper[UUID]):
    """Turns pydantic events into stored events and back (with the configured cipher/compressor)."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = domain_event.model_dump_json().encode("utf-8")
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

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        # Decoded as stored: today's input rules (domain/bounds.py) never stop an old event from decoding.
        return from_log_json(resolve_topic(stored_event.topic), state)
