"""Contact files moved along the log as whole aggregates: the reference the relay's routing is tested against.

What the benchmark's baseline messages are made with, too: the routing is the aggregate's own,
after its own `apply`, so `RoutingFollower` (consumers/changes.py) is checked against it message by
message and byte for byte, over a log with every event type.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from consumers.messages import OutboundMessage, Routed, RoutingUpdate, Tombstone, encode, routed, to_update, tombstone
from domain.contact_file.aggregate import ContactFile

Loader = Callable[[UUID, int], ContactFile]  # a file as it stood at a version, from the store

class FileFollower:
    """Contact files moved along the log event by event; at most `capacity` kept in memory.

    The reference for `RoutingFollower`: the routing is the aggregate's own, after its own `apply`.
    """

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

    def update(self, event: Any, position: int) -> RoutingUpdate | Tombstone | None:
        """The update `event` publishes, the tombstone of an erased citizen, or None (not a contact-file
        event, or no routing change)."""
        if not isinstance(event, ContactFile.Event):
            return None
        before, file, after = self.step(event)
        if file.erasure is not None:
            del self._files[file.id]
            return Tombstone(file.id)
        return to_update(event, file, position, before, after)

    def message(self, event: Any, position: int) -> OutboundMessage | None:
        """The message `event` publishes, ready for a producer, or None."""
        update = self.update(event, position)
        if isinstance(update, Tombstone):
            return tombstone(update.citizen_ref)
        return None if update is None else encode(update)
