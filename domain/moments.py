"""How a moment is written for people: Copenhagen local time, to the second, with its UTC offset.

One spelling for every answer and document. JSON answers and CSV files use the ISO form
(`2026-11-20T10:00:00+01:00`); PDFs and charts the Danish form (`20.11.2026 10:00:00 (+01:00)`).
Both drop fractions of a second (truncated, never rounded up into the next second). The stored
events keep their own form, microseconds and offset included: this is for reading only.
"""

from __future__ import annotations

from datetime import datetime

from domain.incident.facts import COPENHAGEN


def local(moment: datetime) -> datetime:
    """The moment in Copenhagen time, to the second; a moment without its offset is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a moment without its UTC offset cannot be written for people: {moment!r}")
    return moment.astimezone(COPENHAGEN).replace(microsecond=0)


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")  # +0100
    return f"{text[:3]}:{text[3:]}"


def iso(moment: datetime) -> str:
    """The ISO form for JSON and CSV, e.g. 2026-11-20T10:00:00+01:00."""
    return local(moment).isoformat(timespec="seconds")


def printed(moment: datetime) -> str:
    """The Danish form for PDFs and charts, e.g. 20.11.2026 10:00:00 (+01:00)."""
    here = local(moment)
    return f"{here:%d.%m.%Y %H:%M:%S} ({_offset(here)})"


def printed_day(moment: datetime) -> str:
    """The Copenhagen calendar day of the moment, e.g. 20.11.2026."""
    return f"{local(moment):%d.%m.%Y}"
