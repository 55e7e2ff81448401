"""A population of citizens on file for bench/growth.py, seeded in bulk through the domain's events.

Every citizen, known by a benchmark CPR number, has their contact file opened under the reference
the citizen key derives from it, as `open_contact_file` does, so the front desk can look them up.
About one in eight (RESTRICTED) also has the rebuild benchmark's restriction story
(bench/rebuild_seed.py): a threat reported, the leader informed (sometimes support offered or a
note added), a restriction with in-person terms proposed, heard or the hearing skipped, decided,
then sometimes amended (a quarter) or lifted; about one in ten ends restricted. That is what a
front-desk lookup reads: open files, and the terms in force. Every other citizen (by index) left
restricted to by appointment or guard present has a meeting today, booked as of the minute before
today (as bench/front_desk_seed.py does), which the desk lists. About 1.8 events per citizen.

The aggregates are built with their own methods and saved with `app.save(...)`, a chunk of citizens
per save, by worker processes of their own (each with the application as `Services` builds it: the
sealing mapper, the chained recorder), so the encoding and sealing of the facts, the bulk of the
cost, runs on every core. Nothing is written to a view: the views are built from the log afterwards.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import time as time_of_day
from multiprocessing import get_context
from typing import Any
from uuid import uuid4

from bench.front_desk_seed import MEETING_RULES, Population, before_today, cpr_number, today
from bench.rebuild_seed import CASEWORKER, Stories, seed
from bench.servers import log
from domain.appointments.aggregate import Appointment
from domain.appointments.room_day import RoomDay
from domain.appointments.values import Host, Place, Slot
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_state import Status
from domain.identity import Cpr, citizen_ref
from infra.services import Services
from infra.settings import Settings

UNKNOWN = 1000  # citizens never on file, for the lookup mix
RESTRICTED = 0.12  # citizens with a restriction story; some are lifted, so about 0.10 end restricted
CHUNK = 1000  # citizens per save (about 1,800 events)


class CitizenStories(Stories):
    """Benchmark citizens' files, some with a restriction story; notes the in-person rule each ends with."""

    def __init__(self, app: Any, citizen_key: str) -> None:
        super().__init__(app)
        self.key = citizen_key.encode("utf-8")
        self.rules: dict[str, str] = {}  # cpr -> the in-person rule in force at the end of the story
        self.meetings: set[str] = set()  # the citizens booked a meeting today

    def story(self, index: int) -> list[Any]:
        rng, number = random.Random(index), cpr_number(index)
        cpr = Cpr.parse(number)
        ref = citizen_ref(cpr, self.key)
        file = ContactFile.open(ref, CASEWORKER, self.now, cpr=cpr.digits)
        if rng.random() >= RESTRICTED:
            return [file]
        incident = self.incident(ref, rng)
        self.restrict(file, incident, rng)
        rule = _in_force(file)
        if rule is not None:
            self.rules[number] = rule
        if rule in MEETING_RULES and index % 2 == 0:
            self.meetings.add(number)
            return [incident, file, *_meeting_today(ref, index)]
        return [incident, file]


def _meeting_today(ref: Any, index: int) -> list[Any]:
    """A meeting today, 10:00-11:00, in a room of the citizen's own (no two bookings collide), as booked
    the minute before today began, and the room's day with it reserved: what booking one saves."""
    place, now = Place(centre="JKI", room=f"Rum {index}"), before_today()
    slot = Slot(date=today(), starts=time_of_day(10), ends=time_of_day(11))
    appointment = Appointment._create(
        Appointment.Booked, id=uuid4(), citizen_ref=ref, place=place, slot=slot, host=Host(team="Team Nord"),
        kind="rehabilitation_meeting", arranged_with_citizen=True, actor=CASEWORKER, effective_at=now,
    )
    day = RoomDay.open(place, slot.date, CASEWORKER, now)
    day.reserve(appointment.id, slot.starts_at, slot.ends_at, CASEWORKER, now)
    return [appointment, day]


def _in_force(file: ContactFile) -> str | None:
    rules = [r.terms.in_person.rule.value for r in file.restrictions.values()
             if r.status is Status.DECIDED and r.terms.in_person is not None]
    return rules[0] if rules else None


_worker: dict[str, Any] = {}  # a seeding process's services and stories


def _start_worker(settings: Settings) -> None:
    services = Services.build(settings)
    _worker.update(services=services, stories=CitizenStories(services.app, settings.citizen_key.get_secret_value()))


def _seed_chunk(start: int, stop: int) -> tuple[int, dict[str, str], set[str]]:
    """In a worker: saves the stories of citizens start..stop-1 at once; the log's head after, their rules
    and who of them has a meeting today."""
    services, stories = _worker["services"], _worker["stories"]
    stories.rules, stories.meetings = {}, set()
    head = seed(services.app, 0, per_save=stop - start, stories=stories, citizens=range(start, stop), keys=services.keys)
    return head, stories.rules, stories.meetings


class Seeder:
    """Seeds a population in chunks over `workers` processes; it can stop once the log reaches a size."""

    def __init__(self, settings: Settings, workers: int, chunk: int = CHUNK) -> None:
        self.workers, self.chunk = workers, chunk
        self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                        initargs=(settings,))
        self.rules: dict[str, str] = {}
        self.meetings: set[str] = set()
        self.meeting_day = today().isoformat()  # the day they are booked for (a run that crosses midnight fails)
        self.head, self.seconds, self.next = 0, 0.0, 0

    def seed(self, citizens: int, until_events: int | None = None) -> None:
        """Seeds citizens from `self.next` on, up to `citizens` in all, or (given) until the log holds
        `until_events` events; chunks under way then are finished."""
        started, pending, reported = time.perf_counter(), set[Future[tuple[int, dict[str, str], set[str]]]](), time.perf_counter()
        while pending or self.next < citizens:
            while self.next < citizens and len(pending) < 2 * self.workers and not _reached(self.head, until_events):
                stop = min(self.next + self.chunk, citizens)
                pending.add(self.pool.submit(_seed_chunk, self.next, stop))
                self.next = stop
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                head, rules, meetings = future.result()
                self.head, self.rules = max(self.head, head), self.rules | rules
                self.meetings |= meetings
            if time.perf_counter() - reported >= 10:
                reported = time.perf_counter()
                log(f"  seeded {self.head:,} events ({self.head / (self.seconds + reported - started):,.0f}/s)")
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _reached(head: int, until_events: int | None) -> bool:
    return until_events is not None and head >= until_events


def population(citizens: int, rules: dict[str, str], meetings: Iterable[str]) -> Population:
    """The seeded population, for the lookup mix: every citizen on file, the restricted ones' rules, those
    with a meeting today, and some never on file."""
    return Population(
        cprs=[cpr_number(i) for i in range(citizens)],
        restricted=rules,
        unknown=[cpr_number(citizens + j) for j in range(UNKNOWN)],
        booked_today=frozenset(meetings),
    )
