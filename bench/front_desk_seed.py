"""The front-desk benchmark's citizens, and their seeding through Vaern's own commands."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time as time_of_day, timedelta, timezone
from typing import TYPE_CHECKING, Any

import psycopg

from bench.servers import BenchError, log
from domain.contact_file.commands import OpenContactFile
from domain.contact_file.restriction_commands import DecideRestriction, ProposeRestriction, SkipHearing

if TYPE_CHECKING:
    from domain.contact_file.restriction_terms import RestrictionTerms

# The lookup mix: on file and restricted / on file, no restriction / never on file.
MIX = {"restricted": 0.2, "unrestricted": 0.7, "unknown": 0.1}
RULES = ("guard_present", "guard_present", "by_appointment", "by_appointment", "banned")
MEETING_RULES = ("guard_present", "by_appointment")  # the rules under which the desk lists today's meetings

_FIRST_BIRTHDAY = date(1925, 1, 1)
_BIRTHDAYS = 20000  # days from _FIRST_BIRTHDAY: up to 1979, all in the 1900s
_SERIALS = 3000  # 1000-3999
CPR_NUMBERS = _BIRTHDAYS * _SERIALS


def cpr_number(index: int) -> str:
    """The index-th benchmark CPR number, DDMMYY-SSSS with a real birth date, unique per index.

    Birth dates step 7 days (coprime with the range, so distinct for 20,000 indices in a row); the
    serial's first digit is 1-3, which places the year in the 1900s. Every further 20,000 indices
    shift the serials by one, so each birth date has 3,000 numbers: 60 million in all.
    """
    if not 0 <= index < CPR_NUMBERS:
        raise ValueError(f"only {CPR_NUMBERS:,} distinct benchmark CPR numbers")
    day, turn = index % _BIRTHDAYS, index // _BIRTHDAYS
    born = _FIRST_BIRTHDAY + timedelta(days=(day * 7) % _BIRTHDAYS)
    serial = 1000 + (day * 37 + turn) % _SERIALS
    return f"{born:%d%m%y}-{serial:04d}"


@dataclass(frozen=True)
class Population:
    cprs: list[str]  # on file
    restricted: dict[str, str]  # cpr -> in-person rule
    unknown: list[str]  # never on file
    booked_today: frozenset[str] | None = None  # who has a meeting today, when the seeding chose otherwise

    @property
    def meeting_today(self) -> set[str]:
        """The citizens with a meeting today: unless the seeding said who, every other one restricted to by
        appointment or guard present (each of those also has one tomorrow, which the desk does not show)."""
        return set(self.with_meetings[::2]) if self.booked_today is None else set(self.booked_today)

    @property
    def with_meetings(self) -> list[str]:
        return [cpr for cpr, rule in self.restricted.items() if rule in MEETING_RULES]

    @classmethod
    def make(cls, citizens: int, restricted: int, unknown: int = 1000, seed: int = 2024) -> Population:
        if restricted > citizens:
            raise BenchError("more restricted citizens than citizens")
        if citizens + unknown > CPR_NUMBERS:
            raise BenchError(f"at most {CPR_NUMBERS - unknown:,} citizens")
        cprs = [cpr_number(i) for i in range(citizens)]
        chosen = random.Random(seed).sample(range(citizens), restricted)
        rules = {cprs[i]: RULES[n % len(RULES)] for n, i in enumerate(chosen)}
        return cls(cprs=cprs, restricted=rules, unknown=[cpr_number(citizens + j) for j in range(unknown)])

    def lookup_sequence(self, length: int = 20000, seed: int = 7) -> list[tuple[str, str]]:
        """A deterministic shuffled mix of (kind, cpr) lookups, the same for every system."""
        rng = random.Random(seed)
        restricted = list(self.restricted)
        unrestricted = [c for c in self.cprs if c not in self.restricted] or self.cprs
        pools = {"restricted": restricted, "unrestricted": unrestricted, "unknown": self.unknown}
        kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=length)
        return [(kind, rng.choice(pools[kind])) for kind in kinds]


def seed(settings: Any, population: Population, threads: int, stop: threading.Event) -> dict[str, float]:
    """Opens every citizen's contact file and decides the restrictions, through the application."""
    timings = {"seed": _seed_files(settings, population, threads, stop)}
    timings["catch_up"] = _catch_up_views(settings)
    return timings


def _seed_files(settings: Any, population: Population, threads: int, stop: threading.Event) -> float:
    """Seeds every citizen in `threads` threads; returns the seconds it took."""
    from infra.eventstore import build_application

    app = build_application(settings)
    booker = build_application(settings, clock=before_today)
    try:
        seeder = _Seeder(app, population, stop, booker)
        started = time.perf_counter()
        _in_pool(seeder.one, population.cprs, threads, stop)
        return time.perf_counter() - started
    finally:
        app.close()
        booker.close()


def today() -> date:
    from domain.calendar import COPENHAGEN

    return datetime.now(timezone.utc).astimezone(COPENHAGEN).date()


def before_today() -> datetime:
    """The minute before today began in Copenhagen: meetings are booked as then, so any hour of today is ahead."""
    from domain.calendar import COPENHAGEN

    midnight = datetime.combine(today(), datetime.min.time(), tzinfo=COPENHAGEN)
    return (midnight - timedelta(minutes=1)).astimezone(timezone.utc)


def _in_pool(work: Callable[[str], None], items: Iterable[str], threads: int, stop: threading.Event) -> None:
    """Runs `work` on every item; the first error stops the rest and is raised."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="seed") as pool:
        try:
            for future in [pool.submit(work, item) for item in items]:
                future.result()
        except BaseException:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _catch_up_views(settings: Any) -> float:
    """Brings the front-desk and phone-routing views up to the log's head; returns the seconds it took."""
    from infra.services import Services

    started = time.perf_counter()
    services = Services.build(settings)
    try:
        for view in ("front_desk", "phone_routing"):
            services.runner(view).catch_up()
        head = services.events.head()
        positions = {view: services.runner(view).position for view in ("front_desk", "phone_routing")}
    finally:
        services.close()
    seconds = time.perf_counter() - started
    if any(position != head for position in positions.values()):
        raise BenchError(f"views not caught up: head {head}, positions {positions}")
    return seconds


class _Seeder:
    """Opens one citizen's contact file at a time and, for a restricted citizen, decides a restriction."""

    def __init__(self, app: Any, population: Population, stop: threading.Event, booker: Any = None) -> None:
        """With no `booker` (an application on a clock before today) no meetings are booked: the write
        benchmark keeps the mix it has always measured."""
        from domain.values import Actor, Official, Role

        self.app, self.population, self.stop, self.booker = app, population, stop, booker
        self.today = population.meeting_today
        self.rooms = {cpr: f"Rum {n}" for n, cpr in enumerate(population.with_meetings)}  # one room each: no overlaps
        self.caseworker = Actor(user_id="bench-caseworker", name="Bench Sagsbehandler", role=Role.CASEWORKER)
        self.leader = Actor(user_id="bench-leader", name="Bench Leder", role=Role.LEADER)
        self.official = Official(user_id="bench-leader", name="Bench Leder", title="Afdelingsleder")
        self.now = datetime.now(timezone.utc)
        self.done = 0
        self.lock = threading.Lock()

    def one(self, cpr_text: str) -> None:
        from domain.identity import Cpr

        if self.stop.is_set():
            return
        receipt = self.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr_text), actor=self.caseworker))
        if receipt.position is None:
            raise BenchError("a benchmark contact file was already open: the database is not fresh")
        rule = self.population.restricted.get(cpr_text)
        if rule is not None:
            self.decide(receipt.citizen_ref, self.terms(rule))
        if rule in MEETING_RULES and self.booker is not None:
            for days in (0, 1) if cpr_text in self.today else (1,):
                self.book(receipt.citizen_ref, cpr_text, days)
        with self.lock:
            self.done += 1
            if self.done % 2000 == 0:
                log(f"  {self.done:,} / {len(self.population.cprs):,} citizens seeded")

    def terms(self, rule: str) -> RestrictionTerms:
        from domain.contact_file.restriction_terms import RestrictionTerms
        from domain.values import Channel, InPersonRule
        from domain.values import InPersonTerms as InPersonTermsValue

        return RestrictionTerms(
            in_person=InPersonTermsValue(rule=InPersonRule(rule), instructions="Vagt til stede; ring til teamleder"),
            open_channel=Channel.WRITTEN,
            contact_point="Team Nord, 33 17 33 17",
            valid_from=self.now,  # a decision never reaches back: in force from the seeding on
            valid_until=self.now + timedelta(days=300),
            reasons="Benchmark: gentagne trusler mod sagsbehandler",
        )

    def decide(self, ref: Any, restriction_terms: RestrictionTerms) -> None:
        """As in the office: an incident, a proposal on it, the hearing skipped for urgency, the decision."""
        from domain.incident.commands import ReportIncident
        from domain.contact_file.restriction_state import HearingException
        from domain.contact_file.restriction_terms import Grounds

        incident_id = self.app.report_incident(ReportIncident(facts=self.incident(ref), actor=self.caseworker)).incident_id
        grounds = Grounds(incident_ids=(incident_id,), milder_measures=("Mundtlig advarsel",))
        proposed = self.app.propose_restriction(
            ProposeRestriction(
                citizen_ref=ref, terms=restriction_terms, grounds=grounds, official=self.official, actor=self.leader,
            )
        )
        self.app.skip_hearing(
            SkipHearing(
                citizen_ref=ref, restriction_id=proposed.created_id, exception=HearingException.URGENCY,
                reason="Benchmark", actor=self.leader,
            )
        )
        self.app.decide_restriction(
            DecideRestriction(
                citizen_ref=ref, restriction_id=proposed.created_id, official=self.official, actor=self.leader,
            )
        )

    def book(self, ref: Any, cpr_text: str, days: int) -> None:
        """A meeting `days` after today, 10:00-11:00, in a room of the citizen's own (no two bookings collide)."""
        from domain.appointments.commands import BookAppointment
        from domain.appointments.values import Host, Place, Slot

        slot = Slot(date=today() + timedelta(days=days), starts=time_of_day(10), ends=time_of_day(11))
        self.booker.book_appointment(BookAppointment(
            citizen_ref=ref, place=Place(centre="JKI", room=self.rooms[cpr_text]), slot=slot,
            host=Host(team="Team Nord"), kind="rehabilitation_meeting", arranged_with_citizen=True, actor=self.leader,
        ))

    def incident(self, ref: Any) -> Any:
        """The facts of a threat the citizen made at a meeting three days ago."""
        from domain.incident.facts import IncidentFacts

        return IncidentFacts.model_validate({
            "kinds": ["threat"], "threat": {"targets": ["employee"]}, "channel": "meeting",
            "occurred_at": self.now - timedelta(days=3), "known_at": self.now - timedelta(days=3), "centre": "JKI",
            "affected": [{"user_id": "bench-caseworker-7", "name": "Bench Medarbejder"}],
            "perpetrator": {"kind": "citizen", "citizen_ref": ref}, "outside_working_hours": False,
            "description": "Benchmark: trusler under et møde",
        })


def check_view_tables(url: str, population: Population) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        counts = tuple(
            row[0] if (row := conn.execute(f"SELECT count(*) FROM {table}").fetchone()) else -1
            for table in ("front_desk_files", "front_desk_restrictions", "front_desk_appointments")
        )
    expected = (
        len(population.cprs), len(population.restricted), len(population.with_meetings) + len(population.meeting_today)
    )
    if counts != expected:
        raise BenchError(f"the front-desk view holds (files, restrictions, meetings) {counts}, expected {expected}")
