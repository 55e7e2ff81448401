"""What a command accepts: text without control characters, times within the calendar, in ISO 8601.

These checks guard the door. The same types describe the events already stored, and an old log may
hold text or times that today's rules refuse; decoding it must never fail because of them. So every
check here is lifted while stored data is decoded through `from_log_json` / `from_log` (the event
mapper and every reader of stored events or view rows use them); anything else, a request or a
command built in code, is checked.

The switch is a context variable rather than pydantic's validation context: a validator that takes
`info` costs about three times as much per field, on every event every view, relay and rebuild decodes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
FIRST_DAY, LAST_DAY = EARLIEST.date(), LATEST.date()
# The offsets real time zones use, from Baker Island (-12:00) to Kiribati's Line Islands (+14:00).
WESTMOST, EASTMOST = timedelta(hours=-12), timedelta(hours=14)

_FROM_LOG: ContextVar[bool] = ContextVar("vaern_from_log", default=False)
Model = TypeVar("Model", bound=BaseModel)


def from_log_json(model: type[Model], data: str | bytes) -> Model:
    """`model` decoded from stored JSON: the input rules below are lifted, the types' own shape is not."""
    token = _FROM_LOG.set(True)
    try:
        return model.model_validate_json(data)
    finally:
        _FROM_LOG.reset(token)


def from_log(model: type[Model], data: Any) -> Model:
    """`model` built from stored Python data (e.g. a view row's parsed JSON), as `from_log_json`."""
    token = _FROM_LOG.set(True)
    try:
        return model.model_validate(data)
    finally:
        _FROM_LOG.reset(token)


# ---- text ---------------------------------------------------------------------------------------

# C0 and C1 controls (Unicode category Cc; PostgreSQL text cannot hold NUL), lone surrogates (Cs: they
# cannot be encoded as UTF-8) and the noncharacters U+FFFE and U+FFFF.
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
    def check(value: Any) -> Any:
        if not isinstance(value, str) or _FROM_LOG.get():
            return value
        found = refused.search(value)
        if found:
            raise _refusal(found.group())
        # Composed (NFC) form: the same name typed on two keyboards is one string, and one length.
        return unicodedata.normalize("NFC", value)

    return BeforeValidator(check)


def pattern_check(pattern: str) -> Any:
    """Refuses a string that does not match `pattern`, as `StringConstraints(pattern=...)` would (same error,
    same schema), but lifted while stored data is decoded: an erased text (infra/sealing.py) reads as a
    mark that matches no pattern, and must still decode."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if _FROM_LOG.get() or compiled.search(value):
            return value
        raise PydanticCustomError("string_pattern_mismatch", "String should match pattern '{pattern}'", {"pattern": pattern})

    return (AfterValidator(check), Field(json_schema_extra={"pattern": pattern}))


LINE_CHECK = _text_check(_REFUSED_IN_LINE)
"""For names, ids and short texts: no control character at all, in NFC."""
TEXT_CHECK = _text_check(_REFUSED_IN_TEXT)
"""For long free text: no control character but tab, line feed and carriage return, in NFC."""


# ---- times --------------------------------------------------------------------------------------

# The shape only (the whole string); pydantic then parses the value itself.
_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.*")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")


def _within_calendar(value: datetime) -> None:
    offset = value.utcoffset()
    if offset is None or not WESTMOST <= offset <= EASTMOST:
        raise PydanticCustomError("utc_offset", "has a UTC offset no time zone uses (from -12:00 to +14:00)")
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError("calendar_bound", "must lie from 2000-01-01 to 2100-01-01")


def _day_within_calendar(value: date) -> None:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError("calendar_bound", "must lie from 2000-01-01 to 2100-01-01")


def _local(value: time) -> None:
    if value.tzinfo is not None:
        raise PydanticCustomError("local_time", "is a local time of day in Copenhagen, without a UTC offset")


def _time_check(
    kind: Any, cls: type, shape: re.Pattern[str], example: str, bound: Callable[[Any], None]
) -> BeforeValidator:
    """One check on input (one call, so decoding the log pays for one): an ISO 8601 string of `shape`,
    never a number (or, from code, the Python value), parsed as pydantic parses `kind`, within `bound`."""
    parse = TypeAdapter(kind)

    def check(value: Any) -> Any:
        if _FROM_LOG.get():
            return value
        if not (isinstance(value, cls) or (isinstance(value, str) and shape.fullmatch(value))):
            raise PydanticCustomError("iso_8601", "must be written in ISO 8601, e.g. {example}", {"example": example})
        try:
            parsed = parse.validate_python(value)
        except ValidationError as error:
            first = error.errors(include_input=False)[0]
            raise PydanticCustomError(first["type"], "{reason}", {"reason": first["msg"]}) from None
        bound(parsed)
        return parsed

    return BeforeValidator(check)


Moment = Annotated[
    AwareDatetime, _time_check(AwareDatetime, datetime, _ISO_MOMENT, "2026-11-20T10:00:00+01:00", _within_calendar)
]
"""A moment with its UTC offset, from 2000-01-01 to 2100-01-01, at an offset a real zone uses."""

Day = Annotated[date, _time_check(date, date, _ISO_DAY, "2026-11-20", _day_within_calendar)]
"""A calendar day from 2000-01-01 to 2100-01-01."""

LocalTime = Annotated[time, _time_check(time, time, _ISO_TIME, "09:30", _local)]
"""A time of day in Copenhagen, without an offset."""
