"""A population of citizens on file for bench/growth.py, seeded in bulk through the domain's events.

Every citizen, known by a benchmark CPR number, has their contact file opened under the reference
the citizen key derives from it, as `open_contact_file` does, so the front desk can look them up.
About one in eight (RESTRICTED) also has the rebuild benchmark's restriction story
(bench/rebuild_seed.py): a threat reported, the leader informed (sometimes support offered or a
note added), a restriction with in-person terms proposed, heard or the hearing skipped, decided,
then sometimes amended (a quarter) or lifted; about one in ten ends restricted. That is what a
front-desk lookup reads: open files, and the terms in force. About 1.8 events per citizen.

The aggregates are built with their own methods and saved with `app.save(...)`, a chunk of citizens
per save, by worker processes of their own (each with the application as `Services` builds it: the
sealing mapper, the chained recorder), so the encoding and sealing of the facts, the bulk of the
cost, runs on every core. Nothing is written to a view: the views are built from the log afterwards.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

from bench.front_desk_seed import Population, cpr_number
from bench.rebuild_seed import CASEWORKER, Stories, seed
from bench.servers import log
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
        return [incident, file]


def _in_force(file: ContactFile) -> str | None:
    rules = [r.terms.in_person.rule.value for r in file.restrictions.values()
             if r.status is Status.DECIDED and r.terms.in_person is not None]
    return rules[0] if rules else None


_worker: dict[str, Any] = {}  # a seeding process's services and stories


def _start_worker(settings: Settings) -> None:
    services = Services.build(settings)
    _worker.update(services=services, stories=CitizenStories(services.app, settings.citizen_key.get_secret_value()))


def _seed_chunk(start: int, stop: int) -> tuple[int, dict[str, str]]:
    """In a worker: saves the stories of citizens start..stop-1 at once; the log's head after, and their rules."""
    services, stories = _worker["services"], _worker["stories"]
    stories.rules = {}
    head = seed(services.app, 0, per_save=stop - start, stories=stories, citizens=range(start, stop), keys=services.keys)
    return head, stories.rules


class Seeder:
    """Seeds a population in chunks over `workers` processes; it can stop once the log reaches a size."""

    def __init__(self, settings: Settings, workers: int, chunk: int = CHUNK) -> None:
        self.workers, self.chunk = workers, chunk
        self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                        initargs=(settings,))
        self.rules: dict[str, str] = {}
        self.head, self.seconds, self.next = 0, 0.0, 0

    def seed(self, citizens: int, until_events: int | None = None) -> None:
        """Seeds citizens from `self.next` on, up to `citizens` in all, or (given) until the log holds
        `until_events` events; chunks under way then are finished."""
        started, pending, reported = time.perf_counter(), set[Future[tuple[int, dict[str, str]]]](), time.perf_counter()
        while pending or self.next < citizens:
            while self.next < citizens and len(pending) < 2 * self.workers and not _reached(self.head, until_events):
                stop = min(self.next + self.chunk, citizens)
                pending.add(self.pool.submit(_seed_chunk, self.next, stop))
                self.next = stop
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                head, rules = future.result()
                self.head, self.rules = max(self.head, head), self.rules | rules
            if time.perf_counter() - reported >= 10:
                reported = time.perf_counter()
                log(f"  seeded {self.head:,} events ({self.head / (self.seconds + reported - started):,.0f}/s)")
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _reached(head: int, until_events: int | None) -> bool:
    return until_events is not None and head >= until_events


def population(citizens: int, rules: dict[str, str]) -> Population:
    """The seeded population, for the lookup mix: every citizen on file, the restricted ones' rules, and some never on file."""
    return Population(
        cprs=[cpr_number(i) for i in range(citizens)],
        restricted=rules,
        unknown=[cpr_number(citizens + j) for j in range(UNKNOWN)],
    )
