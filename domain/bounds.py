"""What a command accepts: text without control characters, times within the calendar, in ISO 8601.

These checks guard the door. The same types describe the events already stored, and an old log may
hold text or times that today's rules refuse; decoding it must never fail because of them. So every
check here is skipped when validation runs with the `FROM_LOG` context, which the event mapper (and
any other reader of stored events or view rows) passes; anything else, a request or a command built
in code, is checked.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

FROM_LOG: dict[str, bool] = {"vaern_from_log": True}
"""The validation context for decoding what was stored: the input rules below are not applied."""

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
FIRST_DAY, LAST_DAY = EARLIEST.date(), LATEST.date()
# The offsets real time zones use, from Baker Island (-12:00) to Kiribati's Line Islands (+14:00).
WESTMOST, EASTMOST = timedelta(hours=-12), timedelta(hours=14)


def from_log(info: ValidationInfo) -> bool:
    """Whether this validation decodes stored data (see FROM_LOG) rather than checks input."""
    context = info.context
    return isinstance(context, dict) and context.get("vaern_from_log") is True


# ---- text ---------------------------------------------------------------------------------------

# C0 and C1 controls (Unicode category Cc), lone surrogates (Cs: not encodable as UTF-8, and refused
# by PostgreSQL, which cannot hold NUL either) and the noncharacters U+FFFE and U+FFFF.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_REFUSED_IN_LINE = re.compile(rf"[\t\n\r{_CONTROLS}\ud800-\udfff\ufffe\uffff]")
_REFUSED_IN_TEXT = re.compile(rf"[{_CONTROLS}\ud800-\udfff\ufffe\uffff]")  # tab and line breaks allowed


def _refusal(character: str) -> PydanticCustomError:
    # The reason names the kind of character, never the text or where in it.
    if "\ud800" <= character <= "\udfff":
        return PydanticCustomError("lone_surrogate", "holds a lone surrogate, which is not text")
    if character in "\ufffe\uffff":
        return PydanticCustomError("noncharacter", "holds a Unicode noncharacter (U+FFFE or U+FFFF)")
    return PydanticCustomError("control_character", "holds a control character")


def _text_check(refused: re.Pattern[str]) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or from_log(info):
            return value
        found = refused.search(value)
        if found:
            raise _refusal(found.group())
        # Composed (NFC) form: the same name typed on two keyboards is one string, and one length.
        return unicodedata.normalize("NFC", value)

    return BeforeValidator(check)


LINE_CHECK = _text_check(_REFUSED_IN_LINE)
"""For names, ids and short texts: no control character at all, in NFC."""
TEXT_CHECK = _text_check(_REFUSED_IN_TEXT)
"""For long free text: no control character but tab, line feed and carriage return, in NFC."""


# ---- times --------------------------------------------------------------------------------------

# The shape only (the whole string); pydantic then parses the value itself.
_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.*")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")


def _iso_only(pattern: re.Pattern[str], kind: type, example: str) -> BeforeValidator:
    """Refuses anything but an ISO 8601 string (or, from code, the Python value): never a number."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if from_log(info) or (isinstance(value, kind) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        raise PydanticCustomError("iso_8601", "must be written in ISO 8601, e.g. {example}", {"example": example})

    return BeforeValidator(check)


def _within_calendar(value: datetime, info: ValidationInfo) -> datetime:
    if from_log(info):
        return value
    offset = value.utcoffset()
    if offset is None or not WESTMOST <= offset <= EASTMOST:
        raise PydanticCustomError("utc_offset", "has a UTC offset no time zone uses (from -12:00 to +14:00)")
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError("calendar_bound", "must lie from 2000-01-01 to 2100-01-01")
    return value


def _day_within_calendar(value: date, info: ValidationInfo) -> date:
    if not from_log(info) and not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError("calendar_bound", "must lie from 2000-01-01 to 2100-01-01")
    return value


def _local(value: time, info: ValidationInfo) -> time:
    if not from_log(info) and value.tzinfo is not None:
        raise PydanticCustomError("local_time", "is a local time of day in Copenhagen, without a UTC offset")
    return value


Moment = Annotated[
    AwareDatetime,
    _iso_only(_ISO_MOMENT, datetime, "2026-11-20T10:00:00+01:00"),
    AfterValidator(_within_calendar),
]
"""A moment with its UTC offset, from 2000-01-01 to 2100-01-01, at an offset a real zone uses."""

Day = Annotated[date, _iso_only(_ISO_DAY, date, "2026-11-20"), AfterValidator(_day_within_calendar)]
"""A calendar day from 2000-01-01 to 2100-01-01."""

LocalTime = Annotated[time, _iso_only(_ISO_TIME, time, "09:30"), AfterValidator(_local)]
"""A time of day in Copenhagen, without an offset."""
