"""Routing changes along the event log: each contact-file event seen with the file before and after it.

The relay and the routing-states view both need, for every event, the citizen's routing just
before the event and the file just after it, and they must agree exactly. `FileFollower` keeps
recently seen files in memory and moves each one along by applying the next event (the aggregate's
own `apply`, so the routing is the aggregate's `phone_routing()`); it loads a file from the store
only when it has not seen the one just before, e.g. after a restart or a failed batch. A file's
first event builds it from nothing, so replaying the log from the start loads nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from consumers.messages import OutboundMessage, Routed, RoutingUpdate, encode, routed, to_update
from domain.contact_file import ContactFile

Loader = Callable[[UUID, int], ContactFile]


class FileFollower:
    """Contact files moved along the log event by event; at most `capacity` kept in memory."""

    def __init__(self, load: Loader, capacity: int = 10_000) -> None:
        self._load, self._capacity = load, capacity
        self._files: OrderedDict[UUID, tuple[ContactFile, Routed]] = OrderedDict()

    def step(self, event: Any) -> tuple[Routed, ContactFile, Routed]:
        """Applies `event` to its file; returns the routing before, the file after and its routing."""
        ref, version = event.originator_id, event.originator_version
        held = self._files.pop(ref, None)
        if held is not None and held[0].version == version - 1:
            file, before = held
        else:
            file = self._load(ref, version - 1) if version > 1 else None
            before = routed(file)
        file = event.mutate(file)
        after = routed(file)
        self._files[ref] = (file, after)
        if len(self._files) > self._capacity:
            self._files.popitem(last=False)
        return before, file, after

    def update(self, event: Any, position: int) -> RoutingUpdate | None:
        """The update `event` publishes, or None (not a contact-file event, or no routing change)."""
        if not isinstance(event, ContactFile.Event):
            return None
        before, file, after = self.step(event)
        return to_update(event, file, position, before, after)

    def message(self, event: Any, position: int) -> OutboundMessage | None:
        """The message `event` publishes, ready for a producer, or None."""
        update = self.update(event, position)
        return None if update is None else encode(update)
