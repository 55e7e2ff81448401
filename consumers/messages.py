"""The external message contract: a citizen's phone routing on Kafka, as CloudEvents 1.0 (JSON).

Its shapes, type names and the reading of a received message are in consumers.message_contract (and
re-exported here); this module builds the messages from the domain. Every message carries the
citizen's complete phone-routing state after the change (event-carried state), so a consumer can
apply the newest sequence per citizen and drop older ones, and the topic can be compacted by key.
Routing data only: no reasons, no officials, no in-person terms, no CPR number.

A change is published exactly when it changes what the phone system is told (`routed`). A
restriction whose phone rule is open changes no routing, so neither it nor its decision, amendment,
lift or expiry is published: telling the phone system that a citizen has some other restriction
would disclose more than it needs to act (FOB 06.310). A domain event that changes the routing but
has no message type here is refused loudly (UndeclaredChange) rather than left unpublished.

A citizen's erasure publishes a tombstone (`tombstone`): their key with no value, so the compacted
topic drops every message of theirs and consumers drop their rows. Their facts replayed once their
key is destroyed (numbers and contacts read as erased) publish nothing (`carries_erased`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, TypeAdapter

from consumers.message_contract import (
    CONTENT_TYPE,
    DATA_CONTENT_TYPE,
    DECLARED_TYPES,
    E164,
    PHONE_NUMBER_REGISTERED,
    RESTRICTION_AMENDED,
    RESTRICTION_DECIDED,
    RESTRICTION_EXPIRED,
    RESTRICTION_LIFTED,
    RULES,
    SOURCE,
    SPEC_VERSION,
    TOMBSTONE,
    Change,
    Contact,
    Day,
    MalformedMessage,
    MessageType,
    RestrictionRouting,
    RoutingState,
    RoutingUpdate,
    Rule,
    Snapshot,
    Tombstone,
    UndeclaredChange,
    UnknownMessageType,
    Window,
    message_id,
    parse_message,
    parse_record,
    parse_snapshot,
)
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.routing import routes_calls
from domain.values import PhoneTerms, TimeWindow
from projections.erasures import reads_erased

__all__ = [
    "CONTENT_TYPE", "DATA_CONTENT_TYPE", "DECLARED_TYPES", "E164", "PHONE_NUMBER_REGISTERED",
    "RESTRICTION_AMENDED", "RESTRICTION_DECIDED", "RESTRICTION_EXPIRED", "RESTRICTION_LIFTED", "RULES",
    "SOURCE", "SPEC_VERSION", "TOMBSTONE", "Change", "Contact", "Day", "MalformedMessage", "MessageType",
    "RestrictionRouting", "RoutingState", "RoutingUpdate", "Rule", "Snapshot", "Tombstone", "UndeclaredChange",
    "UnknownMessageType", "Window", "message_id", "parse_message", "parse_record", "parse_snapshot", "MESSAGE_TYPES",
    "NOTHING_ROUTED", "HEADERS", "OutboundMessage", "Routed", "encode", "message", "numbers_json", "carries_erased",
    "restriction_routing", "routed", "routing_state", "state_json", "to_message", "to_update", "tombstone",
]

# The domain events that publish each type: one line per event class.
MESSAGE_TYPES: dict[type, str] = {
    ContactFile.PhoneNumberRegistered: PHONE_NUMBER_REGISTERED,
    ContactFile.RestrictionDecided: RESTRICTION_DECIDED,
    ContactFile.RestrictionAmended: RESTRICTION_AMENDED,
    ContactFile.RestrictionLifted: RESTRICTION_LIFTED,
    ContactFile.RestrictionExpired: RESTRICTION_EXPIRED,
}

@dataclass(frozen=True)
class OutboundMessage:
    """A message ready for a Kafka producer; a tombstone has no value (None) and no headers."""

    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Routed:
    """What the phone system is told of one citizen: numbers, and the restrictions that route calls."""

    numbers: tuple[str, ...] = ()
    restrictions: tuple[RestrictionRouting, ...] = ()


NOTHING_ROUTED = Routed()


def routed(file: ContactFile | None) -> Routed:
    """The file's routing in contract form; restrictions that leave the phone open are left out."""
    if file is None:
        return NOTHING_ROUTED
    routing = file.phone_routing()
    return Routed(
        numbers=routing.numbers,
        restrictions=tuple(
            found
            for r in routing.restrictions
            if (found := restriction_routing(r.restriction_id, r.phone, r.valid_from, r.valid_until)) is not None
        ),
    )


def carries_erased(routing: Routed) -> bool:
    """Whether the routing carries a text of a citizen whose key was destroyed: a number or a contact read as erased.

    Their facts are then replayed after their erasure (a rebuild, a relay publishing again from the start):
    nothing of theirs is published but their tombstone, which follows in the log."""
    return any(reads_erased(n) for n in routing.numbers) or any(reads_erased(r.contact) for r in routing.restrictions)


def restriction_routing(
    restriction_id: UUID, phone: PhoneTerms, valid_from: datetime, valid_until: datetime
) -> RestrictionRouting | None:
    """One restriction's phone terms in contract form; None when they leave the phone open."""
    if not routes_calls(phone.rule):
        return None
    return RestrictionRouting(
        restriction_id=restriction_id,
        rule=RULES[phone.rule],
        contact=phone.contact,
        windows=tuple(_window(w) for w in phone.windows),
        valid_from=valid_from,
        valid_until=valid_until,
    )


def to_message(event: Any, file: ContactFile, position: int, before: Routed) -> OutboundMessage | None:
    """The message for `event` at log `position`, given the file at its version and the routing before it.

    None when the event leaves the routing as it was. Raises UndeclaredChange for a routing change
    by an event without a message type.
    """
    update = to_update(event, file, position, before)
    return None if update is None else encode(update)


def to_update(
    event: Any, file: ContactFile, position: int, before: Routed, after: Routed | None = None
) -> RoutingUpdate | None:
    """The routing update `to_message` sends, before encoding (`after`: routed(file), if known)."""
    if file.id != event.originator_id or file.version != event.originator_version:
        raise ValueError("the contact file is not at the event's version")
    after = routed(file) if after is None else after
    if after == before or carries_erased(after):
        return None
    kind = MESSAGE_TYPES.get(type(event))
    if kind is None:
        raise UndeclaredChange(f"{type(event).__name__} changed a citizen's routing but has no message type")
    change = None if kind == PHONE_NUMBER_REGISTERED else Change(restriction_id=event.restriction_id)
    if event.effective_at.tzinfo is None:
        raise ValueError("an event's effective_at has no time zone")
    # The data is validated as it is built; the envelope is constants and values derived from the file.
    return RoutingUpdate.model_construct(
        specversion=SPEC_VERSION,
        id=message_id(file.id, file.version),
        source=SOURCE,
        type=kind,
        subject=str(file.id),
        time=event.effective_at,
        datacontenttype=DATA_CONTENT_TYPE,
        data=routing_state(file.id, file.version, position, after, change),
    )


HEADERS: list[tuple[str, bytes]] = [("content-type", CONTENT_TYPE.encode("ascii"))]  # one list, never changed
_NUMBERS = TypeAdapter(tuple[E164, ...], config=ConfigDict(strict=True))
_MOMENT = TypeAdapter(AwareDatetime)


def encode(update: RoutingUpdate) -> OutboundMessage:
    """The Kafka record of an update: keyed by the citizen's reference, structured-mode CloudEvent."""
    return OutboundMessage(
        key=update.subject.encode("utf-8"),
        value=update.model_dump_json().encode("utf-8"),
        headers=HEADERS,
    )


def numbers_json(numbers: tuple[str, ...]) -> str:
    """`data.numbers` as RoutingState writes it; raises ValidationError for a number that is not E.164."""
    return _NUMBERS.dump_json(_NUMBERS.validate_python(numbers)).decode()


def state_json(
    citizen_ref: UUID, sequence: int, position: int, numbers: str, restrictions: Sequence[str], change: UUID | None
) -> str:
    """`RoutingState(...).model_dump_json()` put together from parts already in JSON (numbers_json and
    each restriction's model_dump_json), so that a message costs no model building; a test holds the
    two byte for byte equal."""
    if sequence < 1 or position < 1:
        raise ValueError("sequence and position start at 1")
    tail = "" if change is None else f',"change":{{"restriction_id":"{change}"}}'
    return (
        f'{{"citizen_ref":"{citizen_ref}","sequence":{sequence},"position":{position},"numbers":{numbers},'
        f'"restrictions":[{",".join(restrictions)}]{tail}}}'
    )


def message(kind: str, citizen_ref: UUID, sequence: int, at: datetime, data: str) -> OutboundMessage:
    """The record `encode(to_update(...))` gives, from the type, the event's time and `data` in JSON."""
    if at.tzinfo is None:
        raise ValueError("an event's effective_at has no time zone")
    ref = str(citizen_ref)
    value = (
        f'{{"specversion":"{SPEC_VERSION}","id":"{ref}:{sequence}","source":"{SOURCE}","type":"{kind}",'
        f'"subject":"{ref}","time":{_MOMENT.dump_json(at).decode()},"datacontenttype":"{DATA_CONTENT_TYPE}",'
        f'"data":{data}}}'
    )
    return OutboundMessage(key=ref.encode("utf-8"), value=value.encode("utf-8"), headers=HEADERS)


def tombstone(citizen_ref: UUID) -> OutboundMessage:
    """The record that erases a citizen from the topic: their key, no value; compaction removes their messages."""
    return OutboundMessage(key=str(citizen_ref).encode("utf-8"), value=None, headers=[])


def routing_state(
    citizen_ref: UUID, sequence: int, position: int, routing: Routed, change: Change | None = None
) -> RoutingState:
    """The `data` of a message: the routing with the citizen's reference, sequence and log position."""
    return RoutingState(
        citizen_ref=citizen_ref,
        sequence=sequence,
        position=position,
        numbers=routing.numbers,
        restrictions=routing.restrictions,
        change=change,
    )


def _window(window: TimeWindow) -> Window:
    return Window(days=tuple(day.value for day in window.days), start=window.start, end=window.end)
