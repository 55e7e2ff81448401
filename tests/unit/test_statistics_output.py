"""A release's stored figures keep the form releases have always had, whatever the answers print."""

from datetime import date, datetime, timezone

from api.statistics_schemas import canonical_json
from projections.statistics_figures import FigureSet, Period, Table
from projections.statistics_masking import ShownCell

# Written by the code before answers printed Copenhagen time to the second and carried Danish labels.
STORED = (
    '{"computation":{"min_cell":5,"position":41,"stocks_at":"2026-02-14T09:30:01.123456Z"},'
    '"incidents_per_month":[{"masked":true,"month":"2026-01","value":null},{"masked":false,"month":"2026-02","value":9}],'
    '"period":{"from":"2026-01-01","time_zone":"Europe/Copenhagen","to":"2026-03-01"},"position":41,'
    '"tables":[{"cells":[{"category":"total","masked":false,"value":12}],"name":"incidents"},'
    '{"cells":[{"category":"2026-01","masked":true,"value":null},{"category":"2026-02","masked":false,"value":9}],'
    '"name":"incidents_by_month"}]}'
)


def test_the_canonical_figures_of_a_release_are_unchanged_so_earlier_releases_still_verify():
    figures = FigureSet(
        Period(date(2026, 1, 1), date(2026, 3, 1)), 41, 5, datetime(2026, 2, 14, 9, 30, 1, 123456, tzinfo=timezone.utc),
        [
            Table("incidents", [ShownCell("total", 12, False)], "a note"),
            Table("incidents_by_month", [ShownCell("2026-01", None, True), ShownCell("2026-02", 9, False)]),
        ],
    )
    assert canonical_json(figures).decode("utf-8") == STORED
