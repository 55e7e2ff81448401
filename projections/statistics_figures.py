"""Management's figures for a period, counted in SQL over the statistics view as at one log position.

Definitions (the published notes repeat them):
- An incident belongs to the period by when it occurred (`occurred_at`, in Europe/Copenhagen),
  with its facts as last corrected at or before the position. Absence, police decisions and
  consents count only for the employees those facts name as affected: a correction that replaces
  the affected employees takes the facts recorded for the people it removed out of the figures.
- Absence days: all absence recorded on the period's incidents by the position. Police reports
  are counted per affected employee per incident: decisions are taken per employee, and one
  incident may be reported by the administration for one employee and privately by another. "Not
  reported" counts those with a decision not to report and no report recorded; "consent declined"
  those whose latest answer is declined or withdrawn. Each of these cells rests on the distinct
  employees it concerns, and is masked by that number: one employee in five incidents is one person.
- Stocks are taken at instants that have passed. The restriction flow runs from the period's
  start to `stocks_at`, the earlier of the period's end and the moment the figures were released:
  a period that has not ended yet shows what was in force when it was asked for, never a
  prediction. A release stores `stocks_at`, so its figures come out the same when recomputed.
- Restrictions are published as a flow that adds up exactly:
  in force at the start + decided - lifted - expired = in force at the end.
  A restriction is in force at an instant from its decision until it is lifted or expires (an
  expiry takes effect when the term ends); one whose term starts later counts from its decision,
  and one whose term has run out counts until its expiry is recorded (the scheduler records it
  within seconds, effective at the term's end, so a later release counts it where it belongs).
  "At the start" and "at the end" are the instants `from` and `stocks_at`: a restriction decided,
  lifted or expired exactly at `stocks_at` belongs after it. One decided and ended within the
  flow counts as decided and as lifted (or expired), and in neither stock. An end recorded as
  effective before the decision counts at the decision, so the flow still adds up. Each cell rests
  on the distinct citizens it concerns (a keyed digest in the view, never the citizen reference).
- A review is overdue at the end when the restriction is in force at `stocks_at` and the review
  date in effect then lies before it. The review date in effect at t follows the leaders' list
  (the restriction schedule): the latest, in effective order, of the decision's terms, each
  amendment's terms and each review that continued the restriction with a next review date,
  counting only those effective before t. An amendment effective after the period never changes
  the period's figures, however late they are recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from domain.incident.facts import COPENHAGEN, Centre, IncidentChannel, IncidentKind
from infra.database import Database
from projections.statistics_meeting_figures import MEETING_NOTES, meeting_relations, meeting_tables
from projections.statistics_masking import AtMost, Cell, Known, Relation, ShownCell, adds_up, mask

AT = "{t}valid_from_position <= %s AND ({t}valid_to_position IS NULL OR {t}valid_to_position > %s)"
PERIOD_INCIDENTS = (
    "SELECT incident_id, valid_from_position AS facts_position, centre, channel, outside_working_hours,"
    " occurred_month FROM statistics_incidents WHERE " + AT.format(t="") + " AND occurred_at >= %s AND occurred_at < %s"
)
# The period's incidents joined to the employees their facts (as at the position) name as affected,
# and through them to a per-employee fact table `x`.
AFFECTED = (
    " JOIN statistics_incident_employees e ON e.incident_id = i.incident_id AND e.facts_position = i.facts_position"
    " JOIN {table} x ON x.incident_id = i.incident_id AND x.employee_key = e.employee_key"
)
POLICE_CATEGORIES = ("reported_by_administration", "reported_privately", "not_reported", "consent_declined")
NOTES = {
    "incidents": "incidents that occurred in the period, with their facts as corrected up to the position",
    "incidents_by_kind": "an incident may have several kinds, so these counts can add up to more than the total",
    "incidents_by_month": "whole months in Europe/Copenhagen, adding up to the period's total",
    "employees_affected": "each employee counted once, however many incidents affected them",
    "absence": (
        "days of absence recorded on the period's incidents for the employees they affect; masked by the number of"
        " employees absent"
    ),
    "police_reports": (
        "per affected employee per incident; an employee may be reported for by the administration and also report"
        " privately, so the cells overlap; each is masked by the number of distinct employees it concerns"
    ),
    "restrictions": (
        "a flow from the period's start to stocks_at (the earlier of the period's end and the release): in force at"
        " the start + decided - lifted - expired = in force at the end, in force meaning decided and neither lifted"
        " nor expired; reviews overdue at stocks_at, by the review date in effect then; each masked by the number of"
        " distinct citizens it concerns"
    ),
}
RESTRICTION_FLOW = {
    "in_force_at_start": 1, "decided": 1, "lifted": -1, "expired": -1, "in_force_at_end": -1,
}
BREAKDOWNS = ("incidents_by_kind", "incidents_by_channel", "incidents_by_centre", "incidents_by_working_hours",
              "incidents_by_month")


@dataclass(frozen=True)
class Period:
    """Whole calendar months [first, end) in Europe/Copenhagen: both are first days of months, so
    the period's figures and its per-month series count the same incidents."""

    first: date
    end: date

    def __post_init__(self) -> None:
        if self.first.day != 1 or self.end.day != 1 or self.end <= self.first:
            raise ValueError("a period runs from the first day of a month to the first day of a later month")

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.first, time(), COPENHAGEN)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(), COPENHAGEN)

    def stocks_at(self, now: datetime) -> datetime:
        """The instant stocks are taken at for figures released at `now`: the period's end, or now
        if that is earlier (in UTC, as stored)."""
        return min(self.end_at, now).astimezone(timezone.utc)

    def months(self) -> list[str]:
        last = self.end - timedelta(days=1)
        months, year, month = [], self.first.year, self.first.month
        while (year, month) <= (last.year, last.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


@dataclass(frozen=True)
class Table:
    name: str
    cells: list[ShownCell]
    note: str | None = None


@dataclass(frozen=True)
class FigureSet:
    """Published figures: masked, and stating the position, stock instant and threshold they were computed with."""

    period: Period
    position: int
    min_cell: int
    stocks_at: datetime
    tables: list[Table]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def compute(
    db: Database, period: Period, position: int, min_cell: int, stocks_at: datetime, meetings: bool = True
) -> FigureSet:
    """Counts every figure as at `position`, stocks at `stocks_at`, and masks the small ones. Without
    `meetings`, the figures are counted as they were before meetings were: a release given out then
    is recomputed so, and verifies."""
    if not period.start_at <= stocks_at <= period.end_at:
        raise ValueError("stocks are taken within the period")
    raw = {**_incident_tables(db, period, position), **_people_tables(db, period, position)}
    raw["restrictions"] = _restrictions(db, period.start_at, stocks_at, position)
    known = relations(raw)
    if meetings:
        raw.update(meeting_tables(db, period.months(), period.start_at, period.end_at, position))
        known += meeting_relations(raw)
    shown = mask(raw, known, min_cell)
    tables = [Table(name, shown[name], {**NOTES, **MEETING_NOTES}.get(name)) for name in raw]
    return FigureSet(period, position, min_cell, stocks_at.astimezone(timezone.utc), tables)


def relations(raw: dict[str, list[Cell]]) -> list[Known]:
    """What a reader can add up or bound: each breakdown to the incident total (kinds only nearly, as
    an incident may have several, and none above the total), the restriction flow, reviews overdue
    at most in force at the end, and employees absent at most employees affected and days absent.
    The police decisions overlap and add up to no published figure: they are in no relation."""
    total = ("incidents", "total")
    found: list[Known] = [
        adds_up(name, [c.category for c in raw[name]], total, exact=name != "incidents_by_kind") for name in BREAKDOWNS
    ]
    found += [AtMost(f"kind {c.category}", ("incidents_by_kind", c.category), total) for c in raw["incidents_by_kind"]]
    found.append(Relation("restriction_flow", {("restrictions", k): sign for k, sign in RESTRICTION_FLOW.items()}))
    found.append(AtMost("overdue", ("restrictions", "reviews_overdue_at_end"), ("restrictions", "in_force_at_end")))
    absent = ("absence", "employees_absent")
    found.append(AtMost("absent among affected", absent, ("employees_affected", "distinct_employees")))
    found.append(AtMost("a day each", absent, ("absence", "days")))
    return found


def _scope(period: Period, position: int) -> tuple[Any, ...]:
    return (position, position, period.start_at, period.end_at)


def _incident_tables(db: Database, period: Period, position: int) -> dict[str, list[Cell]]:
    rows = db.read(
        "SELECT centre, channel, outside_working_hours, occurred_month, COUNT(*) FROM (" + PERIOD_INCIDENTS + ") i"
        " GROUP BY centre, channel, outside_working_hours, occurred_month",
        _scope(period, position),
    )
    kinds = db.read(
        "SELECT k.kind, COUNT(*) FROM (" + PERIOD_INCIDENTS + ") i JOIN statistics_incident_kinds k"
        " ON k.incident_id = i.incident_id AND k.facts_position = i.facts_position GROUP BY k.kind",
        _scope(period, position),
    )
    hours = {True: "outside_working_hours", False: "inside_working_hours"}
    return {
        "incidents": [Cell("total", sum(int(r[4]) for r in rows))],
        "incidents_by_kind": _cells([k.value for k in IncidentKind], ((k, n) for k, n in kinds)),
        "incidents_by_channel": _cells([c.value for c in IncidentChannel], ((r[1], r[4]) for r in rows)),
        "incidents_by_centre": _cells([c.value for c in Centre], ((r[0], r[4]) for r in rows)),
        "incidents_by_working_hours": _cells(list(hours.values()), ((hours[bool(r[2])], r[4]) for r in rows)),
        "incidents_by_month": _cells(period.months(), ((r[3], r[4]) for r in rows)),
    }


def _cells(categories: list[str], counts: Any) -> list[Cell]:
    totals = dict.fromkeys(categories, 0)
    for category, count in counts:
        totals[category] = totals.get(category, 0) + int(count)
    return [Cell(category, value) for category, value in totals.items()]


def _people_tables(db: Database, period: Period, position: int) -> dict[str, list[Cell]]:
    scope = _scope(period, position)
    (employees,) = db.read(
        "SELECT COUNT(DISTINCT e.employee_key) FROM (" + PERIOD_INCIDENTS + ") i JOIN statistics_incident_employees e"
        " ON e.incident_id = i.incident_id AND e.facts_position = i.facts_position",
        scope,
    )[0]
    days, absent = db.read(
        "SELECT COALESCE(SUM(x.days), 0), COUNT(DISTINCT x.employee_key) FROM (" + PERIOD_INCIDENTS + ") i"
        + AFFECTED.format(table="statistics_absences") + " WHERE x.position <= %s",
        (*scope, position),
    )[0]
    return {
        "employees_affected": [Cell("distinct_employees", int(employees))],
        "absence": [Cell("days", int(days), basis=int(absent)), Cell("employees_absent", int(absent))],
        "police_reports": _police(db, scope, position),
    }


def _police(db: Database, scope: tuple[Any, ...], position: int) -> list[Cell]:
    decided = db.read(
        "SELECT outcome, COUNT(*), COUNT(DISTINCT employee_key) FROM (SELECT DISTINCT x.incident_id, x.employee_key,"
        " x.outcome FROM (" + PERIOD_INCIDENTS + ") i" + AFFECTED.format(table="statistics_police_decisions")
        + " WHERE x.position <= %s AND (x.outcome <> 'not_reported' OR NOT EXISTS (SELECT 1 FROM"
        " statistics_police_decisions r WHERE r.incident_id = x.incident_id AND r.employee_key = x.employee_key"
        " AND r.position <= %s AND r.outcome <> 'not_reported'))) p GROUP BY outcome",
        (*scope, position, position),
    )
    declined = db.read(
        "SELECT 'consent_declined', COUNT(*), COUNT(DISTINCT x.employee_key) FROM (" + PERIOD_INCIDENTS + ") i"
        + AFFECTED.format(table="statistics_police_consents") + " WHERE " + AT.format(t="x.")
        + " AND x.answer IN ('declined', 'withdrawn')",
        (*scope, position, position),
    )
    counts = {str(category): (int(n), int(people)) for category, n, people in [*decided, *declined]}
    return [Cell(c, *counts.get(c, (0, 0))) for c in POLICE_CATEGORIES]


# The review date in effect at t for restriction r (params: position, t, position, t): the latest,
# in effective order, of the terms (decided or amended) and the reviews that continued it, as in
# the restriction schedule, where each such event in turn sets the date.
REVIEW_DATE = (
    "(SELECT x.review_at FROM (SELECT review_at, effective_at, position FROM statistics_restriction_terms"
    " WHERE restriction_id = r.restriction_id AND position <= %s AND effective_at < %s"
    " UNION ALL SELECT next_review_at, effective_at, position FROM statistics_restriction_reviews"
    " WHERE restriction_id = r.restriction_id AND position <= %s AND effective_at < %s) x"
    " ORDER BY x.effective_at DESC, x.position DESC LIMIT 1)"
)


def review_dates(db: Database, at: datetime, position: int) -> dict[str, datetime | None]:
    """Each restriction's review date in effect at `at`, as at `position`."""
    rows = db.read(
        f"SELECT r.restriction_id, {REVIEW_DATE} FROM statistics_restriction_decisions r"
        " WHERE r.position <= %s AND r.decided_at < %s",
        (position, at, position, at, position, at),
    )
    return {str(rid): review_at for rid, review_at in rows}


def _restrictions(db: Database, f: datetime, t: datetime, position: int) -> list[Cell]:
    """The flow from `f` to `t`, each cell with the distinct citizens it rests on."""
    # One row per restriction decided by the position, with its end (if recorded by the position).
    # A restriction recorded before the view kept citizen digests stands for a citizen of its own.
    lives = (
        "SELECT d.restriction_id, d.decided_at, COALESCE(d.citizen_key, d.restriction_id) AS citizen_key, e.end_kind,"
        " CASE WHEN e.ended_at < d.decided_at THEN d.decided_at ELSE e.ended_at END AS ended_at"
        " FROM statistics_restriction_decisions d LEFT JOIN statistics_restriction_ends e"
        " ON e.restriction_id = d.restriction_id AND e.position <= %s WHERE d.position <= %s"
    )
    in_force = "r.decided_at < %s AND (r.ended_at IS NULL OR r.ended_at >= %s)"
    review_passed = f"{REVIEW_DATE} < %s"
    figures: dict[str, tuple[str, tuple[Any, ...]]] = {
        "in_force_at_start": (in_force, (f, f)),
        "decided": ("r.decided_at >= %s AND r.decided_at < %s", (f, t)),
        "lifted": ("r.end_kind = 'lifted' AND r.ended_at >= %s AND r.ended_at < %s", (f, t)),
        "expired": ("r.end_kind = 'expired' AND r.ended_at >= %s AND r.ended_at < %s", (f, t)),
        "in_force_at_end": (in_force, (t, t)),
        "reviews_overdue_at_end": (f"{in_force} AND {review_passed}", (t, t, position, t, position, t, t)),
    }
    counts = ", ".join(
        f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END), COUNT(DISTINCT CASE WHEN {c} THEN r.citizen_key END)"
        for c, _ in figures.values()
    )
    params = [value for _, values in figures.values() for value in (*values, *values)]
    row = db.read(f"SELECT {counts} FROM ({lives}) r", (*params, position, position))[0]
    return [Cell(name, int(row[2 * i] or 0), basis=int(row[2 * i + 1] or 0)) for i, name in enumerate(figures)]
