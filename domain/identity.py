"""Citizen identity: CPR numbers, the opaque citizen reference derived from them, phone numbers.

The CPR number is personal data. It is validated and then only ever used as the input of a keyed
hash; the resulting reference is what the event log, views, URLs and Kafka keys carry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

import phonenumbers
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError as StdnumValidationError

from domain.errors import RuleViolation

_CPR_SHAPE = re.compile(r"^\d{6}-?\d{4}$")


@dataclass(frozen=True, repr=False)
class Cpr:
    """A validated CPR number in its compact ten-digit form. Its repr never shows the digits."""

    digits: str

    @classmethod
    def parse(cls, text: str, field: str = "cpr") -> Cpr:
        # Format and a real birth date only: numbers issued since 2007 may fail modulus 11.
        candidate = text.strip()
        if not _CPR_SHAPE.match(candidate):
            raise RuleViolation(field, "a CPR number is written DDMMYY-SSSS or as ten digits")
        try:
            return cls(stdnum_cpr.validate(candidate))
        except StdnumValidationError:
            raise RuleViolation(field, "the CPR number does not hold a real birth date") from None

    def __repr__(self) -> str:
        return "Cpr(<redacted>)"

    __str__ = __repr__


def citizen_ref(cpr: Cpr, key: bytes) -> uuid.UUID:
    """The citizen's opaque reference: a keyed hash of the CPR number, shaped as a UUID (v8)."""
    return _keyed_uuid(key, cpr.digits.encode("ascii"))


def employee_erasure_id(user_id: str, key: bytes) -> uuid.UUID:
    """The id of an employee's erasure record: a keyed hash of their user id, so it names no one and is
    the same for a second attempt."""
    return _keyed_uuid(key, b"employee erasure " + user_id.encode("utf-8"))


def _keyed_uuid(key: bytes, message: bytes) -> uuid.UUID:
    digest = bytearray(hmac.new(key, message, hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: application-defined
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return uuid.UUID(bytes=bytes(digest))


class RecordedRefs(Protocol):
    """Where the citizen key's rotations leave their mark: for each citizen whose file was opened under
    an earlier citizen key, the file's reference, found by the reference the CPR number has under the
    current key (`vaern keys rekey-citizens` records them; see docs/encryption.md)."""

    def recorded(self, *derived: uuid.UUID) -> uuid.UUID | None:
        """The reference recorded under any of `derived` (a CPR number's references under the keys configured)."""

    def record(self, derived: uuid.UUID, ref: uuid.UUID) -> None: ...


def normalise_phone_number(text: str, default_region: str = "DK", field: str = "number") -> str:
    """A phone number in E.164 form (+4512345678); numbers without a country code are Danish."""
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise RuleViolation(field, "not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise RuleViolation(field, "not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def case_reference(identifier: uuid.UUID) -> str:
    """The short, stable reference a person reads for a restriction, warning or letter (never a bare UUID).

    The first eight hex digits of its id: letters print it as "Vores reference", timelines name
    restrictions by it, so a citizen quoting a letter and a lawyer reading the timeline say the same.
    """
    return str(identifier)[:8]


def lookup_alert_id(user_id: str, kind: str, window_start: datetime, key: bytes) -> uuid.UUID:
    """The id of the alert on a user's lookups of one kind in one window: the same for every worker that
    raises it (so it is recorded once), and a keyed hash, so it names no one."""
    moment = window_start.astimezone(timezone.utc).isoformat()
    return _keyed_uuid(key, f"lookup alert {kind} {moment} ".encode() + user_id.encode("utf-8"))
