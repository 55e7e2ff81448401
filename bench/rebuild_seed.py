"""Seeds a large event log quickly for bench/rebuild.py, through the domain's own commands.

Each citizen's story is built in memory with the aggregates' methods (so every event passed the
same rules as in the office) and hundreds of stories are saved with one `app.save(...)`: one
round trip per few thousand events instead of one per command. Stories are deterministic per index.

A story: an incident reported (the leader informed, sometimes support offered or a note added),
the citizen's contact file opened with one or two phone numbers, and for most citizens a
restriction proposed, heard (or the hearing skipped), decided, and sometimes amended or lifted.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from bench.servers import log
from domain.application import Vaern
from domain.contact_file.aggregate import ContactFile
from domain.identity import normalise_phone_number
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts, Person, SupportKind
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.personal import personal_text
from domain.values import Actor, Channel, InPersonRule, InPersonTerms, Official, PhoneRule, PhoneTerms, Role

if TYPE_CHECKING:
    from infra.keys import KeyStore

CASEWORKER = Actor(user_id="bench-caseworker", name="Bench Sagsbehandler", role=Role.CASEWORKER)
LEADER = Actor(user_id="bench-leader", name="Bench Leder", role=Role.LEADER)
OFFICIAL = Official(user_id="bench-leader", name="Bench Leder", title="Afdelingsleder")
AFFECTED = "bench-caseworker-7"
RULES = (InPersonRule.GUARD_PRESENT, InPersonRule.BY_APPOINTMENT, InPersonRule.BANNED)


class Stories:
    """Builds citizen stories as aggregates, ready to save."""

    def __init__(self, app: Vaern) -> None:
        self.app = app
        self.now = datetime.now(timezone.utc)

    def terms(self, rule: InPersonRule, days: int) -> RestrictionTerms:
        return RestrictionTerms(
            in_person=InPersonTerms(rule=rule, instructions="Vagt til stede; ring til teamleder"),
            phone=PhoneTerms(rule=PhoneRule.NAMED_CONTACT_ONLY, contact="Team Nord"),
            open_channel=Channel.WRITTEN,
            contact_point="Team Nord, 33 17 33 17",
            valid_from=self.now,  # a decision never reaches back
            valid_until=self.now + timedelta(days=days),
            reasons="Benchmark: gentagne trusler mod sagsbehandler",
        )

    def citizen(self, index: int, rng: random.Random) -> tuple[uuid.UUID, str | None]:
        """The index-th citizen's reference, and the CPR number their file keeps (none here: a random reference)."""
        return uuid.UUID(int=rng.getrandbits(128), version=4), None

    def story(self, index: int) -> list[Any]:
        rng, now = random.Random(index), self.now
        ref, cpr = self.citizen(index, rng)
        incident = self.incident(ref, rng)
        file = ContactFile.open(ref, CASEWORKER, now, cpr=cpr)
        file.register_phone_number(normalise_phone_number(f"+4526{index:06d}"), CASEWORKER, now)
        if rng.random() < 0.3:
            file.register_phone_number(normalise_phone_number(f"+4527{index:06d}"), CASEWORKER, now)
        if rng.random() < 0.6:
            self.restrict(file, incident, rng)
        return [incident, file]

    def incident(self, ref: uuid.UUID, rng: random.Random) -> Incident:
        """A threat by the citizen `ref` reported, the leader informed, sometimes support offered or a note added."""
        now = self.now
        facts = IncidentFacts.model_validate({
            "kinds": ["threat"], "threat": {"targets": ["employee"]}, "channel": "meeting",
            "occurred_at": now - timedelta(days=3), "known_at": now - timedelta(days=3), "centre": "JKI",
            "affected": [{"user_id": AFFECTED, "name": "Bench Medarbejder"}],
            "perpetrator": {"kind": "citizen", "citizen_ref": ref}, "outside_working_hours": False,
            "description": "Benchmark: trusler under et møde",
        })
        incident = Incident.report(facts, CASEWORKER, now)
        incident.inform_leader(Person(user_id="bench-leader", name="Bench Leder"), CASEWORKER, now)
        if rng.random() < 0.5:
            incident.offer_support(AFFECTED, SupportKind.CRISIS_HELP, LEADER, now)
        if rng.random() < 0.3:
            incident.add_note("Benchmark: ringede igen dagen efter", CASEWORKER, now)
        return incident

    def restrict(self, file: ContactFile, incident: Incident, rng: random.Random) -> None:
        """A restriction on the grounds of `incident` proposed, heard or the hearing skipped, decided, then
        sometimes amended or lifted."""
        now, policy = self.now, self.app.policy
        incidents = {incident.id: incident.basis()}
        grounds = Grounds(incident_ids=(incident.id,), milder_measures=("Mundtlig advarsel",))
        rule = RULES[rng.randrange(len(RULES))]
        rid = file.propose_restriction(self.terms(rule, 300), grounds, incidents, policy, OFFICIAL, LEADER, now)
        if rng.random() < 0.5:
            file.skip_hearing(rid, HearingException.URGENCY, "Benchmark: akut fare", LEADER, now)
        else:
            file.send_hearing(rid, now + timedelta(days=14), CASEWORKER, now)
            file.answer_hearing(rid, "Benchmark: borgeren er uenig", CASEWORKER, now)
        file.decide_restriction(rid, incidents, policy, OFFICIAL, LEADER, now)
        outcome = rng.random()
        if outcome < 0.25:
            milder = self.terms(InPersonRule.BY_APPOINTMENT, 200)
            file.amend_restriction(rid, milder, "Benchmark: roligere adfærd", OFFICIAL, LEADER, now, policy)
        elif outcome < 0.4:
            file.lift_restriction(rid, "Benchmark: borgeren er flyttet", OFFICIAL, LEADER, now)


def seed(
    app: Vaern, events: int, per_save: int = 400, report: Callable[[int, float], None] | None = None,
    stories: Stories | None = None, citizens: Sequence[int] | None = None, keys: KeyStore | None = None,
) -> int:
    """Saves stories until the log holds at least `events` events (or, given `citizens`, the stories of
    those citizens' indices); returns the log's head. Given the application's key store, the data keys
    of each batch's subjects are made at once before it is saved, not one by one as each fact is sealed."""
    stories, head, started = stories or Stories(app), 0, time.perf_counter()
    batches = (range(i, i + per_save) for i in itertools.count(0, per_save)) if citizens is None else (
        citizens[i:i + per_save] for i in range(0, len(citizens), per_save))
    for batch in batches:
        if citizens is None and head >= events:
            break
        aggregates = [a for i in batch for a in stories.story(i)]
        if keys is not None:
            keys.create_all(_subjects(app, aggregates))
        head = app.save(*aggregates)[-1].notification.id
        if report:
            report(head, time.perf_counter() - started)
    return head


def _subjects(app: Vaern, aggregates: list[Any]) -> Iterator[str]:
    """The key store's names of the subjects the aggregates' new facts hold personal text of."""
    mapper: Any = app.mapper  # infra's SealingMapper: the names are its own (an employee's is a digest)
    for aggregate in aggregates:
        for event in aggregate.pending_events:
            yield from (mapper.subject_id(subject) for _, _, subject in personal_text(event))


def progress_log() -> Callable[[int, float], None]:
    """A `report` for `seed` that logs the seeding rate at most every 10 s."""
    last = [0.0]

    def seeded(head: int, seconds: float) -> None:
        if seconds - last[0] >= 10:
            last[0] = seconds
            log(f"  seeded {head:,} events ({head / seconds:,.0f}/s)")

    return seeded
