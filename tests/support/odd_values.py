"""Hypothesis strategies for odd input: a valid request body with some of its values made extreme or odd.

About every other body is sent as it is; the others have one to three values replaced by odd ones of
their kind: text with NUL and other control characters, lone surrogates, noncharacters, very long or
unusual Unicode; times far from now, at offsets no zone uses, or as numbers; huge, negative and
fractional numbers; other shapes altogether; now and then a made-up field. Many odd values are still
valid (a name in Greek and emoji, a moment on 2000-01-01 at +14:00), so some mutated requests are
accepted: those are the ones that must not stop a view.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

ODD_CHARACTERS = [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\x80", "\x85", "\x9b", "\x9f",  # C0, DEL, C1
    "\ud800", "\udbff", "\udc00", "\udfff",  # lone surrogates
    "\ufffe", "\uffff", "\ufdd0", "\U0010ffff",  # noncharacters
    "\t", "\n", "\r", "\u2028", "\u2029", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00ad",
    "\u0301", "\u0958", "\ufb2c", "\u3000", "\u00a0", "🙂", "👩‍👩‍👧", "𝔘", "ﷺ", "\U000e0041",
]
STRANGE_TEXTS = [
    "", " ", "\u3000", "'; DROP TABLE events; --", "%s %(x)s {0} {x}", "\\", '"', "<script>alert(1)</script>",
    "${jndi:ldap://x}", "../../etc/passwd", "NULL", "None", "\u0958" * 1500, "e\u0301" * 1500,
]
ODD_NUMBERS = [0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 2**64, 10**30, 730, 731, 25 * 1024 * 1024,
               25 * 1024 * 1024 + 1, 1.5, -0.0, 1e308, True, False]
ODD_MOMENT_TEXTS = [
    "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00",
    "1970-01-01T00:00:00Z", "1999-12-31T23:59:59.999999+00:00", "2000-01-01T00:00:00+00:00", "2000-01-01T00:00:00+14:00",
    "2000-01-01T09:59:59-12:00", "2099-12-31T23:59:59-12:00", "2100-01-01T00:00:00+00:00", "2100-01-01T00:00:00-00:01",
    "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00.1234567Z", "+002026-01-01T00:00:00Z", "2026-01-01", "1764000000", "",
]
ODD_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2000-01-01", "2100-01-01", "2100-01-02", "2026-02-30", "20260101",
            "2026-01-01T00:00:00", "1764000000"]
ODD_TIMES = ["00:00", "23:59:59.999999", "24:00", "25:61", "10:00+01:00", "10:00Z", "9:00", "", "36000"]
ODD_SHAPES: list[Any] = [None, [], {}, [None], {"": None}, "x", 0, [[[[[]]]]]]


def _text_with(base: str) -> st.SearchStrategy[str]:
    """`base` with odd characters put in somewhere, or replaced by odd text of some length."""
    odd_characters = st.lists(st.sampled_from(ODD_CHARACTERS), min_size=1, max_size=3)
    inserted = st.tuples(st.integers(0, len(base)), odd_characters).map(lambda p: base[: p[0]] + "".join(p[1]) + base[p[0]:])
    lengths = st.sampled_from([199, 200, 201, 1999, 2000, 2001, 20000])
    nul = st.integers(0, len(base)).map(lambda i: base[:i] + "\x00" + base[i:])  # PostgreSQL text cannot hold NUL
    return st.one_of(
        inserted,
        nul,
        nul,
        st.text(min_size=0, max_size=40),  # any Unicode, controls included
        st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),  # valid, unusual
        st.sampled_from(STRANGE_TEXTS),
        st.tuples(st.sampled_from(["æ", "🙂", "e\u0301", "a"]), lengths).map(lambda p: p[0] * p[1]),
    )


def _moment_near(now: datetime) -> st.SearchStrategy[str]:
    """Moments near now (so facts may be accepted) at any offset, some no zone uses."""
    offsets = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
    shifts = st.integers(-400 * 24 * 3600, 400 * 24 * 3600).map(lambda s: timedelta(seconds=s))
    return st.tuples(shifts, offsets).map(lambda p: (now + p[0]).astimezone(p[1]).isoformat())


def _odd_moment(now: datetime) -> st.SearchStrategy[Any]:
    return st.one_of(
        _moment_near(now),
        st.sampled_from(ODD_MOMENT_TEXTS),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
        st.integers(), st.floats(allow_nan=False),
    )


def _odd_day(today: date) -> st.SearchStrategy[Any]:
    near = st.integers(-800, 800).map(lambda n: (today + timedelta(days=n)).isoformat())
    return st.one_of(near, st.sampled_from(ODD_DAYS), st.integers())


def odd_like(value: Any, now: datetime) -> st.SearchStrategy[Any]:
    """An odd value of the same kind as `value`, or of another shape altogether."""
    if isinstance(value, bool):
        kind: st.SearchStrategy[Any] = st.sampled_from(["true", 0, 1, "yes"])
    elif isinstance(value, int):
        kind = st.one_of(st.sampled_from(ODD_NUMBERS), st.integers(), st.floats(allow_nan=False))
    elif isinstance(value, str) and _MOMENT.match(value):
        kind = _odd_moment(now)
    elif isinstance(value, str) and _DAY.match(value):
        kind = _odd_day(now.date())
    elif isinstance(value, str) and _TIME.match(value):
        kind = st.sampled_from(ODD_TIMES)
    elif isinstance(value, str) and _UUID.match(value):
        other_ids = st.sampled_from(["0", "00000000-0000-0000-0000-000000000000", value.upper()])
        kind = st.one_of(st.uuids().map(str), other_ids)
    elif isinstance(value, str):
        kind = _text_with(value)
    else:
        kind = st.nothing()
    return st.one_of(kind, kind, kind, st.sampled_from(ODD_SHAPES))


def now_and_then(odds: int) -> st.SearchStrategy[bool]:
    """True about once in `odds` draws (a little more: Hypothesis favours the bounds of a range). False is the
    simplest value, so the first example changes nothing."""
    return st.integers(0, odds - 1).map(lambda r: r == odds - 1)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a body that can be made odd: each value, and each object or list as a whole."""
    children: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    return [prefix] * bool(prefix) + [p for key, child in children for p in _paths(child, (*prefix, key))]


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replaced(node[path[0]], path[1:], value)
    return copy


# An enumeration's value, like guard_present; free text in the templates is written otherwise.
_CHOICE = re.compile(r"[a-z_]+$")


def _free(value: Any) -> bool:
    """Whether a value is free text, a time or a number: where an odd value may still be accepted."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    return not (isinstance(value, str) and (_UUID.match(value) or _CHOICE.match(value)))


def mutated(template: dict[str, Any], now: datetime, odds: int = 2) -> st.SearchStrategy[Any]:
    """`template` itself, or (about once in `odds` requests) with one to three values made odd, or a
    made-up field with an odd name added, or the whole body replaced by something else.

    The values made odd are mostly texts, times and numbers: an odd one of those may be accepted,
    and an accepted one is what a view must then apply. Enumerations, ids and shapes are made odd
    less often: those are refused, which takes the rest of the example's chain with them.
    """
    paths = _paths(template)
    free = [p for p in paths if _free(_at(template, p))] or paths

    @st.composite
    def body(draw: Any) -> Any:
        if not draw(now_and_then(odds)):
            return template
        result: Any = template
        if paths:
            among = paths if draw(now_and_then(6)) else free
            chosen = draw(st.lists(st.sampled_from(among), min_size=1, max_size=3, unique=True))
            for path in sorted(chosen, key=len, reverse=True):  # a value inside a part replaced later goes with it
                result = _replaced(result, path, draw(odd_like(_at(template, path), now)))
        if draw(now_and_then(8)):
            result = {**result, draw(_text_with("x")): None} if isinstance(result, dict) else result
        if draw(now_and_then(20)):
            result = draw(st.sampled_from(ODD_SHAPES))
        return result

    return body()


ODD_IF_MATCH = st.one_of(
    st.sampled_from(["9" * 5000, '"' + "1" * 4400 + '"', "²", "-1", "*", '"1", "2"', 'W/"3"', "0", "9" * 18]),
    st.integers(0, 10**40).map(str),
)
