"""A population of citizens on file for bench/growth.py, seeded in bulk through the domain's events.

The rebuild benchmark's stories (bench/rebuild_seed.py: an incident, the contact file, for most
citizens a restriction proposed, heard or not, decided, then sometimes amended or lifted), each
told about a citizen with a benchmark CPR number: the file is opened under the reference the
citizen key derives from it, as `open_contact_file` does, so the front desk can look them up.
Nothing is written to a view: the views are built from the log afterwards.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from bench.front_desk_seed import Population, cpr_number
from bench.rebuild_seed import Stories, progress_log, seed
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_state import Status
from domain.identity import Cpr, citizen_ref
from infra.services import Services
from infra.settings import Settings

UNKNOWN = 1000  # citizens never on file, for the lookup mix


class CitizenStories(Stories):
    """Stories about benchmark citizens; notes the in-person rule each ends with, for the sample check."""

    def __init__(self, app: Any, citizen_key: str) -> None:
        super().__init__(app)
        self.key = citizen_key.encode("utf-8")
        self.rules: dict[str, str] = {}  # cpr -> the in-person rule in force at the end of the story

    def citizen(self, index: int, rng: random.Random) -> tuple[uuid.UUID, str | None]:
        rng.getrandbits(128)  # as the plain stories draw, so each story goes on as theirs does
        cpr = Cpr.parse(cpr_number(index))
        return citizen_ref(cpr, self.key), cpr.digits

    def story(self, index: int) -> list[Any]:
        incident, file = super().story(index)
        rule = _in_force(file)
        if rule is not None:
            self.rules[cpr_number(index)] = rule
        return [incident, file]


def _in_force(file: ContactFile) -> str | None:
    rules = [r.terms.in_person.rule.value for r in file.restrictions.values()
             if r.status is Status.DECIDED and r.terms.in_person is not None]
    return rules[0] if rules else None


def seed_citizens(settings: Settings, citizens: int) -> tuple[Population, int, float]:
    """Seeds `citizens` stories; returns the population (for the lookup mix), the log's head and the seconds."""
    services = Services.build(settings)
    try:
        stories, started = CitizenStories(services.app, settings.citizen_key.get_secret_value()), time.perf_counter()
        head = seed(services.app, 0, report=progress_log(), stories=stories, citizens=range(citizens), keys=services.keys)
        seconds = time.perf_counter() - started
    finally:
        services.close()
    population = Population(
        cprs=[cpr_number(i) for i in range(citizens)],
        restricted=stories.rules,
        unknown=[cpr_number(citizens + j) for j in range(UNKNOWN)],
    )
    return population, head, seconds
