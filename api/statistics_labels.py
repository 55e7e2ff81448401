"""Danish labels for the statistics: the names managers use for tables, categories and months.

The JSON keeps the machine keys (table name, category) and adds these labels; the CSV and the
chart show them. A category without a label (e.g. a centre an earlier counting had) shows its key.
"""

from __future__ import annotations

from datetime import date, datetime, time

from domain.danish import word
from domain.incident.facts import COPENHAGEN, IncidentChannel, IncidentKind

TABLES = {
    "incidents": "Hændelser",
    "incidents_by_kind": "Hændelser efter art",
    "incidents_by_channel": "Hændelser efter kanal",
    "incidents_by_centre": "Hændelser efter center",
    "incidents_by_working_hours": "Hændelser efter arbejdstid",
    "incidents_by_month": "Hændelser pr. måned",
    "employees_affected": "Berørte medarbejdere",
    "absence": "Fravær",
    "police_reports": "Politianmeldelser",
    "restrictions": "Restriktioner",
    "meetings_under_safety_plan": "Møder med sikkerhedsplan",
    "meetings_held_under_safety_plan_by_month": "Møder gennemført med sikkerhedsplan pr. måned",
    "meetings_held_under_safety_plan_by_centre": "Møder gennemført med sikkerhedsplan efter center",
    "incidents_from_meetings": "Hændelser anmeldt fra møder",
    "incidents_from_meetings_by_month": "Hændelser anmeldt fra møder pr. måned",
    "incidents_from_meetings_by_centre": "Hændelser anmeldt fra møder efter center",
}
CATEGORIES = {
    "incidents": {"total": "I alt"},
    "incidents_by_kind": {k.value: word(k).capitalize() for k in IncidentKind},
    "incidents_by_channel": {c.value: word(c).capitalize() for c in IncidentChannel},
    "incidents_by_working_hours": {"inside_working_hours": "I arbejdstiden", "outside_working_hours": "Uden for arbejdstiden"},
    "employees_affected": {"distinct_employees": "Forskellige medarbejdere"},
    "absence": {"days": "Fraværsdage", "employees_absent": "Medarbejdere med fravær"},
    "police_reports": {
        "reported_by_administration": "Anmeldt af forvaltningen", "reported_privately": "Anmeldt privat af medarbejderen",
        "not_reported": "Ikke anmeldt", "consent_declined": "Samtykke nægtet eller trukket tilbage",
    },
    "meetings_under_safety_plan": {"held": "Gennemført", "interrupted": "Afbrudt"},
    "incidents_from_meetings": {"total": "I alt"},
    "restrictions": {
        "in_force_at_start": "Gældende ved periodens start", "decided": "Besluttet", "lifted": "Ophævet",
        "expired": "Udløbet", "in_force_at_end": "Gældende ved opgørelsen", "reviews_overdue_at_end": "Revurdering overskredet",
    },
}
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november",
          "december")
SHORT_MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")
MASKED = "skjult"


def masking_note(min_cell: int) -> str:
    """The masking rule in one sentence, for the chart and the CSV (the JSON's `masking` has it in full)."""
    return f"Tal fra 1 til {min_cell - 1} er skjult, og så mange andre, at intet skjult tal kan regnes ud af resten."


def table_label(name: str) -> str:
    return TABLES.get(name, name)


def category_label(table: str, category: str) -> str:
    if table.endswith("_by_month"):
        return month_label(category)
    return CATEGORIES.get(table, {}).get(category, category)


def _month(key: str) -> tuple[int, int] | None:
    try:
        year, month = (int(part) for part in key.split("-"))
    except ValueError:
        return None
    return (year, month) if 1 <= month <= 12 else None


def month_label(key: str, short: bool = False) -> str:
    """A YYYY-MM key as people write it: "januar 2026" (or "jan. 2026")."""
    found = _month(key)
    if found is None:
        return key
    year, month = found
    return f"{(SHORT_MONTHS if short else MONTHS)[month - 1]} {year}"


def month_ended(key: str, at: datetime) -> bool:
    """Whether the month (YYYY-MM, Copenhagen time) had ended by `at`."""
    found = _month(key)
    if found is None:
        return True
    year, month = found
    following = date(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(following, time(), COPENHAGEN) <= at
