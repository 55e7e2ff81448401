"""Routing changes along the event log: for each contact-file event, the routing before and after it.

The relay and the routing-states view must publish exactly what the aggregate's `phone_routing()`
says, and must agree with each other. Two followers do it:

- `RoutingFollower`, which both use, keeps per citizen only what routing is made of (numbers, and
  per restriction whether it is decided and its phone terms in contract form, in the order the file
  holds them) and moves it along with the events that can change it (`ROUTING_EVENTS`). The relay
  therefore reads only those events' topics (`ROUTING_TOPICS`), and decodes of them only the fields
  routing needs (`read_routing_events`); the view, which is handed every event, skips the others.
  Messages are put together from JSON kept per restriction.
- `FileFollower` moves whole `ContactFile` aggregates along with their own `apply`: the reference
  the first is tested against, message by message and byte for byte, over a log with every event
  type, and what the benchmark's baseline messages are made with.

Every ContactFile event class is declared in consumers/routing_events.py as changing routing or not
(`ROUTING_EVENTS`, `OTHER_EVENTS`); importing it fails if one is neither, so a new event type cannot be left
out of the relay's topics unnoticed, and a test replays every undeclared-as-routing type on files
in many states to show it leaves `phone_routing()` alone.

Either follower loads a file from the store only when it cannot know the citizen's routing just
before an event (after a restart, a gap or a failed batch); reading the log from its beginning
loads nothing.

A citizen's erasure (`ContactFile.Erased`) is a change of its own: the tombstone (consumers/messages.py
`tombstone`), whatever was published before, and the follower forgets the citizen. Their earlier
facts replayed once their key is destroyed publish nothing (`carries_erased`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from consumers.file_follower import FileFollower, Loader
from consumers.messages import (
    MESSAGE_TYPES,
    NOTHING_ROUTED,
    PHONE_NUMBER_REGISTERED,
    OutboundMessage,
    RestrictionRouting,
    Routed,
    UndeclaredChange,
    carries_erased,
    message,
    numbers_json,
    restriction_routing,
    state_json,
    tombstone,
)
from consumers.routing_events import (
    KINDS,
    OTHER_EVENTS,
    ROUTING_EVENTS,
    ROUTING_TOPICS,
    decode_routing_event,
    event_classes,
    read_routing_events,
    undeclared_event_classes,
)
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.routing import takes_part

__all__ = [
    "OTHER_EVENTS", "ROUTING_EVENTS", "ROUTING_TOPICS", "FileFollower", "Loader", "RoutingChange", "RoutingFollower",
    "decode_routing_event", "event_classes", "read_routing_events", "undeclared_event_classes",
]

@dataclass(frozen=True)
class RoutingChange:
    """One change of a citizen's routing: the message for the relay and its `data` for the view.

    An erasure's change is the citizen's tombstone: no `data`, and a message without a value."""

    citizen_ref: UUID
    sequence: int
    position: int
    data: str | None  # exactly the message's `data`, as JSON; None for a tombstone
    message: OutboundMessage


@dataclass(frozen=True, slots=True)
class _Restriction:
    decided: bool  # Restriction.active: decided and not ended
    routing: RestrictionRouting | None  # None while its phone rule is open
    json: str = ""


@dataclass(slots=True)
class _Routing:
    """What routing is made of at one version of a file. Each event makes a new one; the numbers'
    JSON is filled in when first published, and kept while the numbers stay the same."""

    version: int
    numbers: tuple[str, ...] = ()
    restrictions: dict[UUID, _Restriction] = field(default_factory=dict)
    routed: Routed = NOTHING_ROUTED
    numbers_json: str | None = None

    def at(self, version: int) -> _Routing:
        return _Routing(version, self.numbers, self.restrictions, self.routed, self.numbers_json)


def _restriction(decided: bool, routing: RestrictionRouting | None) -> _Restriction:
    return _Restriction(decided, routing, routing.model_dump_json() if routing is not None else "")


def _made(
    version: int, numbers: tuple[str, ...], restrictions: dict[UUID, _Restriction], numbers_json: str | None = None
) -> _Routing:
    shown = tuple(r.routing for r in _routed(restrictions) if r.routing is not None)
    return _Routing(version, numbers, restrictions, Routed(numbers=numbers, restrictions=shown), numbers_json)


def _routed(restrictions: dict[UUID, _Restriction]) -> list[_Restriction]:
    """The restrictions the phone system is told of, in the file's order: those taking part in routing."""
    return [r for r in restrictions.values() if r.routing is not None and takes_part(r.decided, r.routing.rule)]


def _of_file(file: ContactFile) -> _Routing:
    """The routing parts of a file loaded from the store."""
    restrictions = {
        ref: _restriction(r.active, restriction_routing(ref, r.terms.phone, r.terms.valid_from, r.terms.valid_until))
        for ref, r in file.restrictions.items()
    }
    return _made(file.version, tuple(file.phone_numbers), restrictions)


def _apply(held: _Routing, event: Any) -> _Routing:
    """The routing parts after `event`, as ContactFile's own `apply` of each routing event changes them."""
    numbers, restrictions, kind = held.numbers, held.restrictions, KINDS[type(event)]
    numbers_json = held.numbers_json
    if kind is ContactFile.PhoneNumberRegistered:
        numbers, numbers_json = (*numbers, event.number), None
    else:
        restrictions = dict(restrictions)
        ref = event.restriction_id
        if kind is ContactFile.RestrictionProposed or kind is ContactFile.RestrictionDecided:
            # A decision carries its terms as decided: its period may start later than proposed.
            terms = event.terms
            routing = restriction_routing(ref, terms.phone, terms.valid_from, terms.valid_until)
            restrictions[ref] = _restriction(kind is ContactFile.RestrictionDecided, routing)
        elif kind is ContactFile.RestrictionAmended:
            terms = event.terms
            routing = restriction_routing(ref, terms.phone, terms.valid_from, terms.valid_until)
            restrictions[ref] = _restriction(restrictions[ref].decided, routing)
        elif kind is ContactFile.RestrictionLifted or kind is ContactFile.RestrictionExpired:
            restrictions[ref] = replace(restrictions[ref], decided=False)
        else:
            raise TypeError(f"{kind.__name__} is not a routing event")
    return _made(event.originator_version, numbers, restrictions, numbers_json)


class RoutingFollower:
    """Each citizen's routing moved along the log; at most `capacity` citizens kept in memory.

    Two ways to feed it, not to be mixed on one follower:
    - `scan(after, events, through)`: `events` are every event of `ROUTING_TOPICS` at positions
      (after, through], in order. Scans that follow one another (`after` is the previous
      `through`) keep what they know; any other `after` (a gap, or reading again after a failure)
      starts afresh, and from position 0 it knows every citizen starts with nothing.
    - `update(event, position)`: every event of the log, in order (a view's runner).
    """

    def __init__(self, load: Loader, capacity: int = 50_000) -> None:  # about 2 kB a citizen with a restriction
        self._load, self._capacity = load, capacity
        self._held: OrderedDict[UUID, _Routing] = OrderedDict()
        self._through: int | None = None  # position up to which every routing event has been seen
        self._complete = False  # every routing event from position 0 seen, none forgotten

    def scan(self, after: int, events: Sequence[tuple[int, Any]], through: int) -> list[RoutingChange]:
        """The changes `events` make; they are every routing event after `after` up to `through`."""
        if after != self._through:
            self._held.clear()
            self._complete = after == 0
        self._through = None  # until the scan is through: an error on the way leaves a gap
        changes = []
        for position, event in events:
            change = self._step(event, position, gapless=True)
            if change is not None:
                changes.append(change)
        self._through = through
        return changes

    def update(self, event: Any, position: int) -> RoutingChange | None:
        """The change `event` makes, or None; `event` is the next one of the whole log."""
        self._through, self._complete = None, False
        if not isinstance(event, ContactFile.Event):
            return None
        if type(event) in KINDS:
            return self._step(event, position, gapless=False)
        ref, version = event.originator_id, event.originator_version
        held = self._held.pop(ref, None)
        if held is not None and held.version == version - 1:
            self._keep(ref, held.at(version))  # routing unchanged; keep counting versions
        elif version == 1:
            self._keep(ref, _Routing(1))
        return None

    def _step(self, event: Any, position: int, gapless: bool) -> RoutingChange | None:
        ref, version = event.originator_id, event.originator_version
        held = self._held.pop(ref, None)
        if KINDS[type(event)] is ContactFile.Erased:  # nothing is recorded on the file after it
            return RoutingChange(ref, version, position, None, tombstone(ref))
        # Gapless, every routing event since `held` has been seen, so any versions in between
        # were events that leave routing alone.
        if held is None or not (held.version == version - 1 or (gapless and held.version < version)):
            held = self._before(ref, version, gapless and held is None)
        after = _apply(held, event)
        self._keep(ref, after)
        if after.routed == held.routed or carries_erased(after.routed):
            return None
        return _change(event, position, after)

    def _before(self, ref: UUID, version: int, unseen: bool) -> _Routing:
        if version <= 2 or (unseen and self._complete):  # only the file's opening came before
            return _Routing(version - 1)
        return _of_file(self._load(ref, version - 1))

    def _keep(self, ref: UUID, held: _Routing) -> None:
        self._held[ref] = held
        if len(self._held) > self._capacity:
            self._held.popitem(last=False)
            self._complete = False


def _change(event: Any, position: int, after: _Routing) -> RoutingChange:
    cls = KINDS[type(event)]
    kind = MESSAGE_TYPES.get(cls)
    if kind is None:
        raise UndeclaredChange(f"{cls.__name__} changed a citizen's routing but has no message type")
    ref, version = event.originator_id, event.originator_version
    restrictions = [r.json for r in _routed(after.restrictions)]
    change = None if kind == PHONE_NUMBER_REGISTERED else event.restriction_id
    if after.numbers_json is None:
        after.numbers_json = numbers_json(after.numbers)  # validated as the contract's E.164 numbers
    data = state_json(ref, version, position, after.numbers_json, restrictions, change)
    return RoutingChange(ref, version, position, data, message(kind, ref, version, event.effective_at, data))

