"""One Danish line per fact, for the legal timeline: written here, in one place, as a pure function of the event.

The lines of a contact file's facts are in `contact_files`, of an incident's and of a supersession
in `incidents`. A new event type without a line is caught by a unit test. Moments are written as
documents write them (`domain.moments.printed`): Copenhagen time to the second with its UTC offset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.records.fact_summaries import contact_files, incidents
from domain.records.fact_summaries.words import terms_text, until

__all__ = ["event_type", "has_summary", "summary", "terms_text", "until"]

_SUMMARIES: dict[type, Callable[[Any], str]] = {**contact_files.LINES, **incidents.LINES}


def has_summary(event_class: type) -> bool:
    return event_class in _SUMMARIES


def event_type(event: Any) -> str:
    """The stored name of the event's type without the store prefix, e.g. ContactFile.RestrictionLifted."""
    return str(getattr(type(event), "TOPIC", type(event).__qualname__)).removeprefix("vaern:")


def summary(event: Any) -> str:
    """One readable line for the fact; an event type without its own line still names its type."""
    describe = _SUMMARIES.get(type(event))
    return describe(event) if describe else f"{event_type(event)} registreret"
