"""Which contact-file events change a citizen's phone routing, and reading just those from the log.

Every ContactFile event class is declared here as changing routing or not (`ROUTING_EVENTS`,
`OTHER_EVENTS`); importing this module fails if one is neither, so a new event type cannot be left
out of the relay's topics unnoticed. The relay reads only the routing events' topics
(`ROUTING_TOPICS`), and decodes of them only the fields routing needs (`read_routing_events`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from domain.bounds import from_log_json
from domain.contact_file.aggregate import ContactFile
from domain.event_parts import Needs, parts_by_topic, stands_for
from projections.restriction_events import PHONE_TERMS, restriction_needs

if TYPE_CHECKING:
    from infra.eventstore import EventLog

E = ContactFile
# The events whose `apply` touches what `phone_routing()` reads: the numbers, a restriction's
# status (decided or not) or its terms, or the order of the restrictions; and the erasure, which
# ends the citizen's routing on the topic altogether (a tombstone).
ROUTING_EVENTS: tuple[type, ...] = (
    E.PhoneNumberRegistered,
    E.RestrictionProposed,
    E.RestrictionDecided,
    E.RestrictionAmended,
    E.RestrictionLifted,
    E.RestrictionExpired,
    E.Erased,
)
# Every other event of a contact file: none of them changes what `phone_routing()` returns.
OTHER_EVENTS: tuple[type, ...] = (
    E.Opened,
    E.CprRecorded,
    E.AdjustmentNeedRecorded,
    E.WarningIssued,
    E.HearingSent,
    E.HearingAnswered,
    E.HearingSkipped,
    E.RestrictionReviewed,
    E.ComplaintReceived,
    E.ComplaintDecided,
    E.LetterIssued,
    E.LetterDispatched,
    E.LetterDelivered,
    E.AccessGranted,
    E.AccessRevoked,
)
ROUTING_TOPICS: tuple[str, ...] = tuple(cls.TOPIC for cls in ROUTING_EVENTS)
del E


def event_classes() -> set[type]:
    """Every ContactFile event class defined anywhere (subclasses included)."""
    found, todo = set(), [ContactFile.Event]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def undeclared_event_classes() -> set[type]:
    """Event classes declared neither as changing routing nor as leaving it alone."""
    return event_classes() - set(ROUTING_EVENTS) - set(OTHER_EVENTS)


if undeclared_event_classes():  # checked on import: the relay must never start blind to a new event type
    raise RuntimeError(
        "contact-file events not declared in consumers/routing_events.py as changing routing or not: "
        + ", ".join(sorted(cls.__qualname__ for cls in undeclared_event_classes()))
    )


_HEAD = ("originator_id", "originator_version", "effective_at")
# What the relay decodes of each routing event: what `_apply` and a message use, nothing else.
# Decoding whole events (every channel's terms, grounds, officials) costs several times more, most
# of it in the garbage collector that the many objects set off.
_NEEDS: Needs = {
    ContactFile.PhoneNumberRegistered: (("number",), {}),
    ContactFile.RestrictionProposed: (("restriction_id",), {"terms": PHONE_TERMS}),
    **restriction_needs(PHONE_TERMS),
}
_PARTS: dict[str, type[BaseModel]] = parts_by_topic("", _NEEDS, _HEAD)
if set(_NEEDS) != set(ROUTING_EVENTS):
    raise RuntimeError("every routing event needs its parts declared in consumers/routing_events.py (_NEEDS)")
# The event class a decoded part stands for; a whole event stands for itself.
KINDS: dict[type, type] = {**{cls: cls for cls in ROUTING_EVENTS}, **{part: stands_for(part) for part in _PARTS.values()}}


def decode_routing_event(topic: str, state: bytes) -> Any:
    """The parts of a stored routing event that routing needs, as JSON written by the event's model."""
    return from_log_json(_PARTS[topic], state)


def read_routing_events(events: EventLog, after: int, limit: int, stop: int) -> list[tuple[int, Any]]:
    """Up to `limit` routing events at positions (after, stop], in order, each decoded as its part (`_PARTS`).

    Decoded by the application's own mapper (which opens the sealed personal text the parts hold), and a
    superseded event read as its whole replacement.
    """
    return events.read(after, limit, topics=ROUTING_TOPICS, stop=stop, parts=_PARTS)
