"""Benchmark: the overdue work lists as they grow, read from the worklists view beside the scan of the log.

    .venv/bin/python bench/worklists.py            # 2,000 and 20,000 citizens
    .venv/bin/python bench/worklists.py --quick    # 500 and 5,000 citizens

For each size, in a throwaway PostgreSQL database of its own (dropped at the end): each citizen's
file is opened, an incident they caused reported two days ago with no leader informed, and a
meeting with them held five days ago under a safety plan whose post-meeting fell due the day after
(saved in bulk through the aggregates' own methods, as bench/rebuild_seed.py does). The worklists
view is built by Vaern's rebuild, timed. Then both lists are read: a page (`limit` 100, 101 rows)
from the view, the first and one from the middle of the list by its cursor key, as the API reads
it (median of `--repeat` reads); and once each the domain's scan of the log that the API read
before (`list_overdue_incidents`, `list_overdue_post_meetings`: every report and plan in the log,
then every candidate aggregate loaded). Both sizes side by side, then the large against the small.
Target: a page from the view at most 1.2 times slower at the large size.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from bench.front_desk_seed import cpr_number  # noqa: E402
from bench.rebuild_seed import CASEWORKER, LEADER, Stories, seed  # noqa: E402
from bench.servers import ThrowawayDatabase, bench_parser, bench_settings, environment, log  # noqa: E402
from domain.appointments.aggregate import Appointment  # noqa: E402
from domain.appointments.room_day import RoomDay  # noqa: E402
from domain.appointments.values import Host, Outcome, Place, SafetyPlan, SafetyStep, Slot, local_day  # noqa: E402
from domain.contact_file.aggregate import ContactFile  # noqa: E402
from domain.identity import Cpr, citizen_ref  # noqa: E402
from domain.incident.aggregate import Incident  # noqa: E402
from domain.incident.facts import IncidentFacts  # noqa: E402
from infra.services import Services  # noqa: E402
from projections.rebuild import rebuild  # noqa: E402

TARGET = 1.2
PAGE = 101  # the rows a page of 100 reads


class OverdueStories(Stories):
    """A citizen on file, an incident of theirs with no leader informed, a meeting held whose post-meeting is late."""

    def __init__(self, app: Any, citizen_key: str) -> None:
        super().__init__(app)
        self.key = citizen_key.encode("utf-8")

    def story(self, index: int) -> list[Any]:
        cpr = Cpr.parse(cpr_number(index))
        ref = citizen_ref(cpr, self.key)
        file = ContactFile.open(ref, CASEWORKER, self.now - timedelta(days=10), cpr=cpr.digits)
        reported = self.now - timedelta(days=2, seconds=index)
        facts = IncidentFacts.model_validate({
            "kinds": ["threat"], "threat": {"targets": ["employee"]}, "channel": "meeting",
            "occurred_at": reported - timedelta(hours=1), "known_at": reported - timedelta(hours=1), "centre": "JKI",
            "affected": [{"user_id": "bench-caseworker-7", "name": "Bench Medarbejder"}],
            "perpetrator": {"kind": "citizen", "citizen_ref": ref}, "outside_working_hours": False,
            "description": "Benchmark: trusler under et møde",
        })
        incident = Incident.report(facts, CASEWORKER, reported)
        return [file, incident, *self.meeting(ref, incident, index)]

    def meeting(self, ref: Any, incident: Incident, index: int) -> list[Any]:
        booked_at, place = self.now - timedelta(days=10), Place(centre="JKA", room=f"Rum {index}")
        slot = Slot(date=local_day(self.now - timedelta(days=5)), starts="10:00", ends="11:00")
        appointment = Appointment._create(
            Appointment.Booked, id=uuid4(), citizen_ref=ref, place=place, slot=slot, host=Host(team="Team Nord"),
            kind="follow_up_meeting", arranged_with_citizen=True, actor=CASEWORKER, effective_at=booked_at,
        )
        appointment.attach_plan(SafetyPlan(steps=(SafetyStep.POST_MEETING,), post_meeting_within_days=1),
                                (incident.id,), LEADER, booked_at)
        appointment.record_outcome(Outcome.HELD, None, CASEWORKER, slot.starts_at + timedelta(minutes=30))
        day = RoomDay.open(place, slot.date, CASEWORKER, booked_at)
        day.reserve(appointment.id, slot.starts_at, slot.ends_at, CASEWORKER, booked_at)
        return [appointment, day]


@dataclass(frozen=True)
class Size:
    citizens: int
    events: int
    rebuild_seconds: float
    view_ms: dict[str, float]  # a page's median read, by list and where in it
    scan_ms: dict[str, float]  # the domain's scan, by list


def _median_ms(read: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(server_url: str, citizens: int, repeat: int) -> Size:
    database = ThrowawayDatabase(server_url)
    database.create()
    services = Services.build(bench_settings(database.url, "worklists"))
    try:
        log(f"{citizens:,} citizens: seeding")
        stories = OverdueStories(services.app, services.settings.citizen_key.get_secret_value())
        head = seed(services.app, 0, citizens=range(citizens), stories=stories, keys=services.keys)
        log(f"  {head:,} events; rebuilding the worklists view")
        rebuilt = rebuild(services.worklists, services.events, services.db, 5000)
        view, db, now = services.worklists, services.db, datetime.now(timezone.utc)
        incidents, meetings = view.overdue_incidents(db, now, limit=citizens), view.overdue_post_meetings(db, now, limit=citizens)
        assert len(incidents) == len(meetings) == citizens, "every citizen's incident and meeting is overdue"
        middle_incident = (incidents[citizens // 2].reported_at, incidents[citizens // 2].incident_id)
        middle_meeting = (meetings[citizens // 2].post_meeting_due, meetings[citizens // 2].appointment_id)
        view_ms = {
            "incidents, first page": _median_ms(lambda: view.overdue_incidents(db, now, limit=PAGE), repeat),
            "incidents, middle page": _median_ms(lambda: view.overdue_incidents(db, now, None, middle_incident, PAGE), repeat),
            "meetings, first page": _median_ms(lambda: view.overdue_post_meetings(db, now, limit=PAGE), repeat),
            "meetings, middle page": _median_ms(lambda: view.overdue_post_meetings(db, now, None, middle_meeting, PAGE), repeat),
        }
        log("  the domain's scans")
        scan_ms = {"incidents": _median_ms(lambda: services.app.list_overdue_incidents(now), 1),
                   "meetings": _median_ms(lambda: services.app.list_overdue_post_meetings(now), 1)}
        return Size(citizens, head, rebuilt.seconds, view_ms, scan_ms)
    finally:
        services.close()
        database.drop()


def report(small: Size, large: Size) -> str:
    lines = [f"{'':<32}{small.citizens:>12,}{large.citizens:>12,}   large / small"]
    lines.append(f"{'events':<32}{small.events:>12,}{large.events:>12,}")
    lines.append(f"{'view rebuilt, s':<32}{small.rebuild_seconds:>12.2f}{large.rebuild_seconds:>12.2f}")
    for name in small.view_ms:
        ratio = large.view_ms[name] / small.view_ms[name]
        verdict = "met" if ratio <= TARGET else "NOT met"
        lines.append(f"{'view: ' + name + ', ms':<32}{small.view_ms[name]:>12.2f}{large.view_ms[name]:>12.2f}"
                     f"   {ratio:>5.2f}  target <= {TARGET}: {verdict}")
    for name in small.scan_ms:
        ratio = large.scan_ms[name] / small.scan_ms[name]
        lines.append(f"{'scan: ' + name + ', ms':<32}{small.scan_ms[name]:>12.0f}{large.scan_ms[name]:>12.0f}   {ratio:>5.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="500 and 5,000 citizens")
    parser.add_argument("--repeat", type=int, default=20, help="reads of each page, the median taken [20]")
    args = parser.parse_args(argv)
    small, large = (500, 5_000) if args.quick else (2_000, 20_000)
    sizes = [measure(args.database_url, citizens, args.repeat) for citizens in (small, large)]
    print(environment(ThrowawayDatabase(args.database_url)))
    print(report(*sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
