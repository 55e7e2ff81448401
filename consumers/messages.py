"""The external message contract: a citizen's phone routing on Kafka, as CloudEvents 1.0 (JSON).

Declared here once and versioned; type names never come from Python class paths (the contract a
reader gets is docs/asyncapi.yaml; a test keeps the two in step). Every message carries the
citizen's complete phone-routing state after the change (event-carried state), so a consumer can
apply the newest sequence per citizen and drop older ones, and the topic can be compacted by key.
Routing data only: no reasons, no officials, no in-person terms, no CPR number.

A change is published exactly when it changes what the phone system is told (`routed`). A
restriction whose phone rule is open changes no routing, so neither it nor its decision, amendment,
lift or expiry is published: telling the phone system that a citizen has some other restriction
would disclose more than it needs to act (FOB 06.310). A domain event that changes the routing but
has no message type here is refused loudly (UndeclaredChange) rather than left unpublished.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from domain.contact_file import ContactFile
from domain.values import PhoneRule, PhoneTerms, TimeWindow

SPEC_VERSION = "1.0"
SOURCE = "urn:vaern:contact-files"
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
DATA_CONTENT_TYPE = "application/json"

PHONE_NUMBER_REGISTERED = "dk.kk.vaern.phone-number.registered.v1"
RESTRICTION_DECIDED = "dk.kk.vaern.restriction.decided.v1"
RESTRICTION_AMENDED = "dk.kk.vaern.restriction.amended.v1"
RESTRICTION_LIFTED = "dk.kk.vaern.restriction.lifted.v1"
RESTRICTION_EXPIRED = "dk.kk.vaern.restriction.expired.v1"

# The domain events that publish each type: one line per event class.
MESSAGE_TYPES: dict[type, str] = {
    ContactFile.PhoneNumberRegistered: PHONE_NUMBER_REGISTERED,
    ContactFile.RestrictionDecided: RESTRICTION_DECIDED,
    ContactFile.RestrictionAmended: RESTRICTION_AMENDED,
    ContactFile.RestrictionLifted: RESTRICTION_LIFTED,
    ContactFile.RestrictionExpired: RESTRICTION_EXPIRED,
}

# The contract's own names for the phone rules: a new domain rule must be added here on purpose.
RULES: dict[PhoneRule, str] = {
    PhoneRule.OPEN: "open",
    PhoneRule.NAMED_CONTACT_ONLY: "named_contact_only",
    PhoneRule.TIME_WINDOW: "time_window",
    PhoneRule.BANNED: "banned",
}

Rule = Literal["open", "named_contact_only", "time_window", "banned"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MessageType = Literal[
    "dk.kk.vaern.phone-number.registered.v1",
    "dk.kk.vaern.restriction.decided.v1",
    "dk.kk.vaern.restriction.amended.v1",
    "dk.kk.vaern.restriction.lifted.v1",
    "dk.kk.vaern.restriction.expired.v1",
]
# Every type of the contract. All but the number's are about one restriction and carry data.change.
DECLARED_TYPES: tuple[str, ...] = get_args(MessageType)
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Contact = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class MalformedMessage(ValueError):
    """A message that is not a valid routing update of this contract. Says what, never the data."""


class UnknownMessageType(MalformedMessage):
    """A message of a type this contract does not declare."""


class UndeclaredChange(RuntimeError):
    """A domain event changed a citizen's routing but has no message type: the contract needs a line."""


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Window(_Contract):
    """When calls are taken: weekdays and a local (Europe/Copenhagen) time span."""

    days: tuple[Day, ...] = Field(min_length=1)
    start: time
    end: time


class RestrictionRouting(_Contract):
    """The phone terms of one restriction that is not lifted, with its period."""

    restriction_id: UUID
    rule: Rule
    contact: Contact | None
    windows: tuple[Window, ...]
    valid_from: AwareDatetime
    valid_until: AwareDatetime


class Change(_Contract):
    """Which restriction a decided, amended, lifted or expired message is about."""

    restriction_id: UUID


class RoutingState(_Contract):
    """A citizen's complete phone routing after the change: `data` of every message."""

    citizen_ref: UUID
    sequence: int = Field(ge=1)
    position: int = Field(ge=1)
    numbers: tuple[E164, ...]
    restrictions: tuple[RestrictionRouting, ...]
    change: Change | None = Field(default=None, exclude_if=lambda change: change is None)


class RoutingUpdate(_Contract):
    """One message: the CloudEvents envelope around a citizen's routing state."""

    specversion: Literal["1.0"]
    id: str
    source: Literal["urn:vaern:contact-files"]
    type: MessageType
    subject: str
    time: AwareDatetime
    datacontenttype: Literal["application/json"]
    data: RoutingState

    @model_validator(mode="after")
    def _consistent(self) -> RoutingUpdate:
        if self.subject != str(self.data.citizen_ref):
            raise ValueError("subject is not data.citizen_ref")
        if self.id != message_id(self.data.citizen_ref, self.data.sequence):
            raise ValueError("id is not <citizen_ref>:<sequence>")
        if (self.data.change is None) != (self.type == PHONE_NUMBER_REGISTERED):
            raise ValueError(f"data.change must be present exactly on restriction messages, not on {self.type}")
        return self


class Snapshot(_Contract):
    """Every citizen's latest routing state (the `data` of their latest message) and the log position."""

    position: int = Field(ge=0)
    states: tuple[RoutingState, ...]


@dataclass(frozen=True)
class OutboundMessage:
    """A message ready for a Kafka producer."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def message_id(citizen_ref: UUID, sequence: int) -> str:
    """The same for every delivery of one change, so consumers can spot redeliveries."""
    return f"{citizen_ref}:{sequence}"


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


def restriction_routing(
    restriction_id: UUID, phone: PhoneTerms, valid_from: datetime, valid_until: datetime
) -> RestrictionRouting | None:
    """One restriction's phone terms in contract form; None when they leave the phone open."""
    if phone.rule is PhoneRule.OPEN:
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
    if after == before:
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


def parse_message(value: bytes, key: bytes | None = None) -> RoutingUpdate:
    """Validates a message strictly; raises MalformedMessage (or UnknownMessageType) saying why."""
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedMessage("the value is not UTF-8 JSON") from None
    if not isinstance(raw, dict):
        raise MalformedMessage("the value is not a JSON object")
    kind = raw.get("type")
    if kind not in DECLARED_TYPES:
        raise UnknownMessageType(f"unknown message type {str(kind)[:100]!r}")
    try:
        update = RoutingUpdate.model_validate_json(value)
    except ValidationError as error:
        raise MalformedMessage(f"{kind}: {_describe(error)}") from None
    if key is not None and key != update.subject.encode("utf-8"):
        raise MalformedMessage(f"{kind}: the key is not the subject")
    return update


def parse_snapshot(value: bytes | str) -> Snapshot:
    """Validates a snapshot as GET /phone-routing/snapshot returns it; raises MalformedMessage saying why."""
    try:
        return Snapshot.model_validate_json(value)
    except ValidationError as error:
        raise MalformedMessage(f"snapshot: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    # Field paths and reasons only: the input itself may hold phone numbers.
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)
    )
