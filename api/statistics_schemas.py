"""HTTP shapes of management statistics: the JSON figure set and its CSV form."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from projections.statistics_figures import FigureSet
from infra.statistics_releases import Release
from projections.statistics_masking import ShownCell

MASKED = "masked"
MASKING_RULE = (
    "A count from 1 up to one below min_cell is masked. The figures declare what a reader can add up: each"
    " breakdown of incidents to the total (kinds only nearly), the police decisions among themselves, and the"
    " restriction flow (in force at the start + decided - lifted - expired = in force at the end). In each of these,"
    " when any cell is masked, further cells are masked until at least two are and one of them is not small, so no"
    " masked cell can be worked out from the shown ones; a zero is masked only when nothing else is left. Residual"
    " risk: comparing releases for overlapping periods, or successive releases of one period, can still narrow a"
    " masked cell down. Positions cannot be chosen (each release is computed at the latest position) and periods"
    " are whole months, which limits this; what remains is accepted because only management, an internal trusted"
    " role, can ask, and every release is recorded with who asked and when."
)


class PeriodOut(BaseModel):
    first: date = Field(serialization_alias="from", description="the first day of the period")
    to: date = Field(description="the day after the period's last day (the period is half-open)")
    time_zone: str = "Europe/Copenhagen"


class ComputationOut(BaseModel):
    position: int = Field(description="the event-log position the figures were computed at")
    min_cell: int = Field(description="the masking threshold used")


class ReleaseOut(BaseModel):
    id: UUID = Field(description="reproduce these figures with GET /statistics/releases/{id}")
    requested_at: datetime
    sha256: str = Field(description="SHA-256 of the figures' canonical JSON (sorted keys; without release and prose)")


class CellOut(BaseModel):
    category: str
    value: int | None = Field(description="the count, or null when masked")
    masked: bool


class TableOut(BaseModel):
    name: str
    note: str | None = None
    cells: list[CellOut]


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM in Europe/Copenhagen")
    value: int | None
    masked: bool


class StatisticsOut(BaseModel):
    """Management figures for a period: masked, and reproducible by their release id."""

    release: ReleaseOut | None = None
    period: PeriodOut
    position: int
    computation: ComputationOut
    masking: str = MASKING_RULE
    tables: list[TableOut]
    incidents_per_month: list[MonthOut]

    @classmethod
    def of(cls, figures: FigureSet, release: Release | None = None) -> StatisticsOut:
        months = figures.table("incidents_by_month").cells
        return cls(
            release=None if release is None else ReleaseOut(
                id=release.release_id, requested_at=release.requested_at, sha256=release.sha256
            ),
            period=PeriodOut(first=figures.period.first, to=figures.period.end),
            position=figures.position,
            computation=ComputationOut(position=figures.position, min_cell=figures.min_cell),
            tables=[
                TableOut(name=t.name, note=t.note, cells=[_cell(c) for c in t.cells]) for t in figures.tables
            ],
            incidents_per_month=[MonthOut(month=c.category, value=c.value, masked=c.masked) for c in months],
        )


def _cell(cell: ShownCell) -> CellOut:
    return CellOut(category=cell.category, value=cell.value, masked=cell.masked)


def canonical_json(figures: FigureSet) -> bytes:
    """The figures as JSON with sorted keys and no spaces: what a release's SHA-256 is taken of. The
    prose (masking rule, table notes) is left out, so rewording it never makes a release unreproducible."""
    leave_out = {"release": True, "masking": True, "tables": {"__all__": {"note"}}}
    document = StatisticsOut.of(figures).model_dump(mode="json", by_alias=True, exclude=leave_out)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def figures_sha256(figures: FigureSet) -> str:
    return hashlib.sha256(canonical_json(figures)).hexdigest()


def figures_csv(figures: FigureSet, release: Release) -> str:
    """One row per figure (table, category, value or "masked"), after rows stating release, period and
    computation."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("table", "category", "value"))
    writer.writerow(("release", "id", str(release.release_id)))
    writer.writerow(("release", "sha256", release.sha256))
    writer.writerow(("period", "from", figures.period.first.isoformat()))
    writer.writerow(("period", "to", figures.period.end.isoformat()))
    writer.writerow(("computation", "position", figures.position))
    writer.writerow(("computation", "min_cell", figures.min_cell))
    for table in figures.tables:
        for cell in table.cells:
            writer.writerow((table.name, cell.category, MASKED if cell.masked else cell.value))
    return out.getvalue()
