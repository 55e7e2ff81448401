"""HTTP shapes of management statistics: the JSON figure set, its canonical form and its CSV form.

A release stores the canonical JSON of its figures; every answer about it (JSON, CSV, chart) is
built from that stored text, with the prose (masking rule, table notes, Danish labels) and the
release's own details added, so an answer given again is the answer given out. The canonical
form is the one releases have always stored (moments as pydantic writes them, no prose), so
releases given out earlier still verify.

The CSV is written for Danish Excel: a UTF-8 byte-order mark, semicolons between fields, Danish
labels (with the machine keys in the last two columns) and "skjult" for a masked figure. Every
figure is a whole number, so none needs a decimal comma.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from api.schemas import AS_STORED, Answer
from api.statistics_labels import MASKED, category_label, masking_note, table_label
from domain.moments import iso
from infra.statistics_releases import Release
from projections.statistics_figures import NOTES, FigureSet
from projections.statistics_meeting_figures import MEETING_FIGURES, MEETING_NOTES
from projections.statistics_masking import ShownCell

MASKING_RULE = (
    "A count resting on 1 up to one below min_cell people is masked (absence days by the employees absent, police"
    " decisions by the employees they concern, restrictions by the citizens they restrict, meetings and incidents"
    " from meetings by the citizens the meetings were with). Zeros are never masked."
    " Further cells are masked until, for every masked cell, the values it could take given everything shown and"
    " everything a reader knows (each breakdown of incidents adds up to the total; the kinds add up to at least the"
    " total, none above it; the restriction flow, in force at the start + decided - lifted - expired = in force at"
    " the end; reviews overdue at most in force at the end; employees absent at most employees affected and at most"
    " the days absent; the meetings held under a safety plan by month and by centre add up to those held; the"
    " incidents from meetings by month and by centre add up to their total, and each is at most the incidents of"
    " its month or centre, their total at most the incidents through a meeting) include one of at least min_cell"
    " and at least one other: no masked cell can be worked out, nor shown to be below min_cell, from the rest. Residual risk: that a masked cell stands in no relation says it"
    " rests on few people, as masking always does; and comparing releases for overlapping periods, or successive"
    " releases of one period, can still narrow a masked cell down. Positions cannot be chosen (each release is"
    " computed at the latest position) and periods are whole months, which limits this; what remains is accepted"
    " because only management, an internal trusted role, can ask, and every release is recorded with who asked and"
    " when."
)


ALL_NOTES = {**NOTES, **MEETING_NOTES}


class PeriodOut(Answer):
    model_config = ConfigDict(populate_by_name=True)

    first: date = Field(alias="from", description="the first day of the period")
    to: date = Field(description="the day after the period's last day (the period is half-open)")
    time_zone: str = "Europe/Copenhagen"


class ComputationOut(Answer):
    position: int = Field(description="the event-log position the figures were computed at")
    min_cell: int = Field(description="the masking threshold used")
    stocks_at: datetime = Field(
        description="the instant restriction stocks and overdue reviews are taken at, and the restriction flow runs"
        " to: the earlier of the period's end and the release"
    )


class ReleaseLinks(Answer):
    """The same release in each format: one release, one id, whichever format is fetched."""

    json_: str = Field(alias="json", description="the figures as JSON: GET /statistics/releases/{id}")
    csv: str = Field(description="the figures as CSV for Danish Excel: GET /statistics/releases/{id}.csv")
    chart: str = Field(description="the chart of incidents per month: GET /statistics/releases/{id}/incidents-per-month.svg")

    model_config = ConfigDict(populate_by_name=True)

    @classmethod
    def of(cls, release_id: UUID) -> ReleaseLinks:
        base = f"/statistics/releases/{release_id}"
        return cls(json_=base, csv=f"{base}.csv", chart=f"{base}/incidents-per-month.svg")


class ReleaseOut(Answer):
    id: UUID = Field(description="give these figures out again with GET /statistics/releases/{id}")
    links: ReleaseLinks
    requested_at: datetime
    sha256: str = Field(description="SHA-256 of the figures' canonical JSON (sorted keys; without release and prose)")
    verified: bool = Field(
        description="whether the figures, recomputed at the release's position, threshold and stocks_at, come out as"
        " stored; when not, the stored figures (those given out) are served all the same"
    )
    verification: str | None = Field(None, description="why the figures could not be verified, when they could not")


class CellOut(Answer):
    category: str = Field(description="the machine key, e.g. threat")
    label: str | None = Field(None, description="the category as people name it, in Danish, e.g. Trusler")
    value: int | None = Field(description="the count, or null when masked")
    masked: bool


class TableOut(Answer):
    name: str = Field(description="the machine key, e.g. incidents_by_kind")
    label: str | None = Field(None, description="the table as people name it, in Danish, e.g. Hændelser efter art")
    note: str | None = None
    cells: list[CellOut]


class MonthOut(Answer):
    month: str = Field(description="YYYY-MM in Europe/Copenhagen")
    value: int | None
    masked: bool


class StatisticsOut(Answer):
    """Management figures for a period: masked, and given out again by their release id."""

    release: ReleaseOut | None = None
    period: PeriodOut
    position: int
    computation: ComputationOut
    masking: str = MASKING_RULE
    tables: list[TableOut]
    incidents_per_month: list[MonthOut]

    @classmethod
    def of(cls, figures: FigureSet) -> StatisticsOut:
        months = figures.table("incidents_by_month").cells
        return cls(
            period=PeriodOut(first=figures.period.first, to=figures.period.end),
            position=figures.position,
            computation=ComputationOut(
                position=figures.position, min_cell=figures.min_cell, stocks_at=figures.stocks_at
            ),
            tables=[
                TableOut(name=t.name, note=t.note, cells=[_cell(c) for c in t.cells]) for t in figures.tables
            ],
            incidents_per_month=[MonthOut(month=c.category, value=c.value, masked=c.masked) for c in months],
        )

    @classmethod
    def given_out(cls, release: Release, verification: str | None) -> StatisticsOut:
        """A release's stored figures, with the prose, the labels and the release's details added."""
        document = json.loads(release.figures or "{}")
        for table in document["tables"]:
            table["note"], table["label"] = ALL_NOTES.get(table["name"]), table_label(table["name"])
            for cell in table["cells"]:
                cell["label"] = category_label(table["name"], cell["category"])
        out = cls.model_validate(document)
        out.release = ReleaseOut(
            id=release.release_id, links=ReleaseLinks.of(release.release_id), requested_at=release.requested_at,
            sha256=release.sha256, verified=verification is None, verification=verification,
        )
        return out


def _cell(cell: ShownCell) -> CellOut:
    return CellOut(category=cell.category, value=cell.value, masked=cell.masked)


def canonical_json(figures: FigureSet) -> bytes:
    """The figures as JSON with sorted keys and no spaces: what a release stores and hashes. The
    prose (masking rule, table notes, labels) is left out, so rewording it never changes a release,
    and moments keep the form releases have always stored."""
    prose = {"note": True, "label": True, "cells": {"__all__": {"label"}}}
    leave_out = {"release": True, "masking": True, "tables": {"__all__": prose}}
    out = StatisticsOut.of(figures)
    document = out.model_dump(mode="json", by_alias=True, exclude=leave_out, context={AS_STORED: True})
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def counts_meetings(figures: str) -> bool:
    """Whether stored figures hold the meeting figures: a release given out before they were counted has none."""
    return any(table["name"] in MEETING_FIGURES for table in json.loads(figures).get("tables", ()))


def figures_csv(out: StatisticsOut) -> bytes:
    """The release as CSV for Danish Excel: rows stating release, period and computation, then one row per figure."""
    release = out.release
    assert release is not None, "only a release is given out as CSV"
    lines = io.StringIO()
    writer = csv.writer(lines, delimiter=";", lineterminator="\r\n")
    writer.writerow(("Tabel", "Kategori", "Værdi", "tabel (nøgle)", "kategori (nøgle)"))
    writer.writerow(("Udgivelse", "Id", str(release.id), "release", "id"))
    writer.writerow(("Udgivelse", "Opgjort", iso(release.requested_at), "release", "requested_at"))
    writer.writerow(("Udgivelse", "SHA-256", release.sha256, "release", "sha256"))
    writer.writerow(("Udgivelse", "Verificeret", "ja" if release.verified else "nej", "release", "verified"))
    if release.verification:
        writer.writerow(("Udgivelse", "Ikke verificeret fordi", release.verification, "release", "verification"))
    writer.writerow(("Periode", "Fra og med", out.period.first.isoformat(), "period", "from"))
    writer.writerow(("Periode", "Til (ikke medregnet)", out.period.to.isoformat(), "period", "to"))
    writer.writerow(("Beregning", "Logposition", out.computation.position, "computation", "position"))
    writer.writerow(("Beregning", "Mindste viste antal", out.computation.min_cell, "computation", "min_cell"))
    writer.writerow(("Beregning", "Bestande opgjort", iso(out.computation.stocks_at), "computation", "stocks_at"))
    writer.writerow(("Skjulte tal", "Regel", masking_note(out.computation.min_cell), "masking", "rule"))
    for table in out.tables:
        for cell in table.cells:
            value = MASKED if cell.masked else cell.value
            label = cell.label or category_label(table.name, cell.category)
            writer.writerow((table.label or table_label(table.name), label, value, table.name, cell.category))
    return ("\ufeff" + lines.getvalue()).encode("utf-8")
