"""The Vaern application: one method per command, each loading, deciding and saving atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import EnvType, get_topic

from domain.changes import change
from domain.contact_file import ContactFile
from domain.errors import NotFound, RuleViolation
from domain.identity import Cpr, citizen_ref, normalise_phone_number
from domain.incident import Incident
from domain.incident_commands import IncidentCommands
from domain.supersession_commands import SupersessionCommands
from domain.model import PydanticMapper
from domain.restriction_rules import ComplaintOutcome, HearingException, ReviewOutcome
from domain.restrictions import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Channel, Official, Role

SCHEDULER = Actor(user_id="vaern-scheduler", name="Vaern (automatisk)", role=Role.ADMIN)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Receipt:
    """What a write returns: the file's new version, the log position of its last event, what it created."""

    citizen_ref: UUID
    version: int
    position: int | None
    created_id: UUID | None = None


class Vaern(SupersessionCommands, IncidentCommands, Application[UUID]):
    """Contact files of citizens and the restrictions on their contact with the administration."""

    name = "Vaern"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}

    def __init__(self, env: EnvType | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(env)
        self.clock = clock
        key = self.env.get("CITIZEN_KEY")
        self._citizen_key = key.encode("utf-8") if key else None
        self.policy = RestrictionPolicy(
            max_months=int(self.env.get("RESTRICTION_MAX_MONTHS", "12")),
            review_months=int(self.env.get("RESTRICTION_REVIEW_MONTHS", "6")),
            grounds_window_months=int(self.env.get("RESTRICTION_GROUNDS_WINDOW_MONTHS", "12")),
        )
        self.on_saved: list[Callable[[int], None]] = []  # called with the last position of each save

    def _notify(self, recordings: list[Any]) -> None:
        if recordings:
            for listener in self.on_saved:
                listener(recordings[-1].notification.id)

    def citizen_ref(self, cpr: Cpr) -> UUID:
        if self._citizen_key is None:
            raise RuntimeError("CITIZEN_KEY is not configured: citizen references cannot be derived")
        return citizen_ref(cpr, self._citizen_key)

    def open_contact_file(self, cpr: Cpr, actor: Actor) -> Receipt:
        """Opens the citizen's contact file, or returns the one already open."""
        ref = self.citizen_ref(cpr)
        try:
            existing = self.repository.get(ref)
        except AggregateNotFoundError:
            pass
        else:
            return Receipt(ref, existing.version, None)
        file = ContactFile.open(ref, actor, self.clock())
        try:
            recordings = self.save(file)
        except IntegrityError:  # opened concurrently by someone else: the same file
            return Receipt(ref, self.repository.get(ref).version, None)
        return Receipt(ref, file.version, recordings[-1].notification.id)

    def register_phone_number(self, ref: UUID, number: str, actor: Actor, expected_version: int | None = None) -> Receipt:
        """Records a phone number (normalised to E.164) as the citizen's."""
        e164 = normalise_phone_number(number)
        return self._change(ref, expected_version, lambda f, now: f.register_phone_number(e164, actor, now))

    def record_adjustment_need(
        self, ref: UUID, description: str, relies_on: tuple[Channel, ...], actor: Actor, expected_version: int | None = None
    ) -> Receipt:
        """Records a need (e.g. dyslexia) that makes the citizen rely on certain channels."""
        return self._change(ref, expected_version, lambda f, now: f.record_adjustment_need(description, relies_on, actor, now))

    def issue_warning(
        self, ref: UUID, behaviour: str, contact_point: str, incident_ids: Iterable[UUID], official: Official,
        actor: Actor, expected_version: int | None = None,
    ) -> Receipt:
        """Records a warning asking the citizen to stop a named behaviour, resting on incidents."""
        incidents = list(self.incident_basis(incident_ids, "incident_ids").values())
        return self._change(
            ref, expected_version, lambda f, now: f.issue_warning(behaviour, contact_point, incidents, official, actor, now)
        )

    def propose_restriction(
        self, ref: UUID, terms: RestrictionTerms, grounds: Grounds, official: Official, actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Proposes a restriction on the given terms and grounds; the citizen is heard before a decision."""
        incidents = self.incident_basis(grounds.incident_ids, "grounds.incident_ids")
        return self._change(
            ref, expected_version,
            lambda f, now: f.propose_restriction(terms, grounds, incidents, self.policy, official, actor, now),
        )

    def send_hearing(self, ref: UUID, restriction_id: UUID, deadline: datetime, actor: Actor, expected_version: int | None = None) -> Receipt:
        """Records that the citizen was sent the intended restriction to comment on by `deadline`."""
        return self._change(ref, expected_version, lambda f, now: f.send_hearing(restriction_id, deadline, actor, now))

    def answer_hearing(self, ref: UUID, restriction_id: UUID, answer: str, actor: Actor, expected_version: int | None = None) -> Receipt:
        """Records the citizen's answer to the hearing."""
        return self._change(ref, expected_version, lambda f, now: f.answer_hearing(restriction_id, answer, actor, now))

    def skip_hearing(
        self, ref: UUID, restriction_id: UUID, exception: HearingException, reason: str, actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Records that the hearing is skipped under a legal exception, with the reason."""
        return self._change(ref, expected_version, lambda f, now: f.skip_hearing(restriction_id, exception, reason, actor, now))

    def decide_restriction(
        self, ref: UUID, restriction_id: UUID, official: Official, actor: Actor, expected_version: int | None = None
    ) -> Receipt:
        """Decides a proposed restriction; the official is named on the decision."""
        proposal = self.get_contact_file(ref).restriction(restriction_id)
        incidents = self.incident_basis(proposal.grounds.incident_ids, "grounds.incident_ids")
        return self._change(
            ref, expected_version,
            lambda f, now: f.decide_restriction(restriction_id, incidents, self.policy, official, actor, now),
        )

    def review_restriction(
        self, ref: UUID, restriction_id: UUID, outcome: ReviewOutcome, reasons: str, official: Official, actor: Actor,
        *, next_review_at: datetime | None = None, terms: RestrictionTerms | None = None,
        fresh_incident_ids: tuple[UUID, ...] = (), expected_version: int | None = None,
    ) -> Receipt:
        """Reviews a restriction: continue on fresh grounds, amend, or lift; each with reasons."""
        current = self.get_contact_file(ref).restriction(restriction_id)
        incidents = self.incident_basis((*current.grounds.incident_ids, *fresh_incident_ids), "fresh_incident_ids")
        return self._change(
            ref, expected_version,
            lambda f, now: f.review_restriction(
                restriction_id, outcome, reasons, official, actor, now, next_review_at=next_review_at, terms=terms,
                fresh_incident_ids=fresh_incident_ids, incidents=incidents, policy=self.policy,
            ),
        )

    def amend_restriction(
        self, ref: UUID, restriction_id: UUID, terms: RestrictionTerms, reasons: str, official: Official, actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Changes a restriction's terms within its period."""
        return self._change(
            ref, expected_version,
            lambda f, now: f.amend_restriction(restriction_id, terms, reasons, official, actor, now, self.policy),
        )

    def receive_complaint(
        self, ref: UUID, restriction_id: UUID, summary: str, received_at: datetime, actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Records a complaint about a restriction."""
        return self._change(ref, expected_version, lambda f, now: f.receive_complaint(restriction_id, summary, received_at, actor, now))

    def decide_complaint(
        self, ref: UUID, restriction_id: UUID, complaint_id: UUID, outcome: ComplaintOutcome, reasons: str,
        official: Official, actor: Actor, expected_version: int | None = None,
    ) -> Receipt:
        """Records the decision on a complaint, with reasons."""
        return self._change(
            ref, expected_version,
            lambda f, now: f.decide_complaint(restriction_id, complaint_id, outcome, reasons, official, actor, now),
        )

    def lift_restriction(
        self, ref: UUID, restriction_id: UUID, reason: str, official: Official, actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Records that a restriction no longer applies, with the reason."""
        return self._change(ref, expected_version, lambda f, now: f.lift_restriction(restriction_id, reason, official, actor, now))

    def expire_restriction(self, ref: UUID, restriction_id: UUID) -> Receipt:
        """Records that a restriction reached its end (the scheduler's command; once only)."""
        return self._change(ref, None, lambda f, now: f.expire_restriction(restriction_id, SCHEDULER, now))

    def record_letter(
        self, ref: UUID, letter_id: UUID, kind: str, subject_id: UUID, sha256: str, official: Official, actor: Actor
    ) -> Receipt:
        """Records an issued letter by the content hash of its stored PDF."""
        return self._change(ref, None, lambda f, now: f.record_letter(letter_id, kind, subject_id, sha256, official, actor, now))

    def record_dispatch(self, ref: UUID, letter_id: UUID, channel: str, actor: Actor) -> Receipt:
        """Records how and when a letter was sent."""
        return self._change(ref, None, lambda f, now: f.record_dispatch(letter_id, channel, actor, now))

    def record_delivery(self, ref: UUID, letter_id: UUID, evidence: str, actor: Actor) -> Receipt:
        """Records the evidence that a letter reached the citizen."""
        return self._change(ref, None, lambda f, now: f.record_delivery(letter_id, evidence, actor, now))

    def get_contact_file(self, ref: UUID, version: int | None = None) -> ContactFile:
        try:
            file = self.repository.get(ref, version=version)
        except AggregateNotFoundError:
            file = None
        if not isinstance(file, ContactFile):
            raise NotFound("no contact file with that reference")
        return file

    def incident_basis(self, incident_ids: Iterable[UUID], field: str) -> dict[UUID, IncidentBasis]:
        """What the restriction rules need of each incident; an unknown id is refused naming `field`."""
        found = {}
        for incident_id in incident_ids:
            try:
                incident = self.repository.get(incident_id)
            except AggregateNotFoundError:
                incident = None
            if not isinstance(incident, Incident):
                raise RuleViolation(field, f"no incident {incident_id}")
            found[incident_id] = incident.basis()
        return found

    def _change(self, ref: UUID, expected_version: int | None, decide: Callable[[ContactFile, datetime], Any]) -> Receipt:
        file, outcome, position = change(
            lambda: self.get_contact_file(ref), self.save, expected_version, lambda f: decide(f, self.clock())
        )
        return Receipt(ref, file.version, position, outcome if isinstance(outcome, UUID) else None)
