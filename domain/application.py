"""The Vaern application: one method per command, each loading, deciding and saving atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.utils import EnvType, get_topic

from domain.appointments.service import AppointmentCommands
from domain.changes import change_now, load
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.changes import Receipt
from domain.contact_file.commands import (
    EraseCitizen,
    GrantAccess,
    IssueLetter,
    IssueWarning,
    OnFile,
    OpenContactFile,
    RecordAdjustmentNeed,
    RecordDelivery,
    RecordDispatch,
    RegisterPhoneNumber,
    RevokeAccess,
)
from domain.errors import RuleViolation
from domain.employee_erasure import EmployeeErasure, EraseEmployee
from domain.values import Actor
from domain.identity import Cpr, RecordedRefs, citizen_ref, employee_erasure_id, normalise_phone_number
from domain.incident.aggregate import Incident
from domain.incident.service import IncidentCommands
from domain.lookup_alert import LookupAlertCommands
from domain.records.supersession_service import SupersessionCommands
from domain.model import PydanticMapper
from domain.letters.composer import letter_grounds
from domain.letters.kinds import Letter, LetterKind
from domain.contact_file.restriction_commands import SCHEDULER  # noqa: F401  (still importable from here, where it was first defined)
from domain.contact_file.restriction_service import RestrictionCommands
from domain.contact_file.restriction_terms import IncidentBasis, RestrictionPolicy


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure returns: the record it wrote, its log position and the incidents erased with it."""

    erased_id: UUID
    position: int
    incident_ids: tuple[UUID, ...] = ()


class Vaern(
    RestrictionCommands, AppointmentCommands, SupersessionCommands, IncidentCommands, LookupAlertCommands, Application[UUID]
):
    """Contact files of citizens and the restrictions on their contact with the administration."""

    name = "Vaern"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}

    def __init__(
        self, env: EnvType | None = None, clock: Callable[[], datetime] = utc_now, mapper: Mapper[UUID] | None = None
    ) -> None:
        self._mapper = mapper  # how facts are stored: the infrastructure seals personal text (infra/sealing.py)
        super().__init__(env)
        self.clock = clock
        key = self.env.get("CITIZEN_KEY")
        self._citizen_key = key.encode("utf-8") if key else None
        previous = self.env.get("PREVIOUS_CITIZEN_KEYS") or ""
        self._previous_citizen_keys = [k.strip().encode("utf-8") for k in previous.split(",") if k.strip()]
        self.recorded_refs: RecordedRefs | None = None  # set by the infrastructure: infra/citizen_refs.py
        self.policy = RestrictionPolicy(
            max_months=int(self.env.get("RESTRICTION_MAX_MONTHS", "12")),
            review_months=int(self.env.get("RESTRICTION_REVIEW_MONTHS", "6")),
            grounds_window_months=int(self.env.get("RESTRICTION_GROUNDS_WINDOW_MONTHS", "12")),
        )
        self.on_saved: list[Callable[[int], None]] = []  # called with the last position of each save

    def construct_mapper(self) -> Mapper[UUID]:
        return self._mapper if self._mapper is not None else super().construct_mapper()

    def _notify(self, recordings: list[Any]) -> None:
        if recordings:
            for listener in self.on_saved:
                listener(recordings[-1].notification.id)

    def citizen_ref(self, cpr: Cpr) -> UUID:
        """The citizen's reference: that of their file if one is open (under whichever citizen key it was
        opened), else the reference the CPR number has under the current citizen key."""
        return self.find_contact_file(cpr) or self._refs(cpr)[0]

    def find_contact_file(self, cpr: Cpr) -> UUID | None:
        """The reference of the citizen's file, if one is open (under whichever citizen key); creates nothing."""
        _, candidates = self._refs(cpr)
        return next((ref for ref in candidates if self._file(ref) is not None), None)

    def open_contact_file(self, command: OpenContactFile) -> Receipt:
        """Opens the citizen's contact file for the purpose stated, or returns the one already open (found by
        the current citizen key or a previous one), keeping the CPR number on it for the next rotation of the key."""
        cpr = Cpr.parse(command.cpr)
        derived, candidates = self._refs(cpr)
        for ref in candidates:
            if (existing := self._file(ref)) is not None:
                return self._reopened(existing, cpr, derived, command.actor)
        file = ContactFile.open(
            derived, command.actor, self.clock(), cpr=cpr.digits, purpose=command.purpose.value, centre=command.centre
        )
        try:
            recordings = self.save(file)
        except IntegrityError:  # opened concurrently by someone else: the same file
            return Receipt(citizen_ref=derived, version=self.repository.get(derived).version, position=None)
        return Receipt(citizen_ref=derived, version=file.version, position=recordings[-1].notification.id)

    def _refs(self, cpr: Cpr) -> tuple[UUID, list[UUID]]:
        """The CPR number's reference under the current citizen key, and the references its file may have:
        the one recorded for it (by a rotation to the current key or to a previous one), else that one and
        those under the previous keys."""
        if self._citizen_key is None:
            raise RuntimeError("CITIZEN_KEY is not configured: citizen references cannot be derived")
        derived = citizen_ref(cpr, self._citizen_key)
        earlier = [citizen_ref(cpr, key) for key in self._previous_citizen_keys]
        recorded = self.recorded_refs.recorded(derived, *earlier) if self.recorded_refs is not None else None
        if recorded is not None:
            return derived, [recorded]
        return derived, [derived, *earlier]

    def _file(self, ref: UUID) -> ContactFile | None:
        try:
            found = self.repository.get(ref)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, ContactFile) else None

    def _reopened(self, file: ContactFile, cpr: Cpr, derived: UUID, actor: Actor) -> Receipt:
        """The receipt for a file found open; its reference is recorded if the current key does not derive it.
        An erased file is not opened again."""
        if file.erasure is not None:
            raise RuleViolation(
                "cpr", "this citizen's contact file was erased under an archive authorisation and cannot be reopened"
            )
        if file.id != derived and self.recorded_refs is not None:
            self.recorded_refs.record(derived, file.id)
        file.record_cpr(cpr.digits, actor, self.clock())
        if file.pending_events:
            try:
                self.save(file)
            except IntegrityError:  # changed meanwhile: the CPR number is kept the next time the file is opened
                return Receipt(citizen_ref=file.id, version=self.repository.get(file.id).version, position=None)
        return Receipt(citizen_ref=file.id, version=file.version, position=None)

    def register_phone_number(self, c: RegisterPhoneNumber) -> Receipt:
        """Records a phone number (normalised to E.164) as the citizen's."""
        e164 = normalise_phone_number(c.number)
        return self._change(c, lambda f, now: f.register_phone_number(e164, c.actor, now))

    def record_adjustment_need(self, c: RecordAdjustmentNeed) -> Receipt:
        """Records a need (e.g. dyslexia) that makes the citizen rely on certain channels."""
        return self._change(c, lambda f, now: f.record_adjustment_need(c.description, tuple(c.relies_on), c.actor, now))

    def issue_warning(self, c: IssueWarning) -> Receipt:
        """Records a warning asking the citizen to stop a named behaviour, resting on incidents."""
        incidents = list(self.incident_basis(c.incident_ids, "incident_ids").values())
        return self._change(
            c, lambda f, now: f.issue_warning(c.behaviour, c.contact_point, incidents, c.official, c.actor, now)
        )

    def issue_letter(self, c: IssueLetter, store: Callable[[Letter], str]) -> Receipt:
        """Issues a letter under every letter rule; `store` keeps its rendering and returns the content hash.

        The rendering is stored before the event is saved: a stored PDF without an event does no harm,
        an event pointing at a missing PDF would. An appointment letter is saved with its meeting, and is
        composed again if the meeting was moved meanwhile (domain/appointments/service.py).
        """
        meeting: list[Any] = []  # the meeting an appointment letter is recorded on, saved with the file

        def issue(f: ContactFile, now: datetime) -> UUID:
            if c.kind is LetterKind.APPOINTMENT:
                letter_id, meeting[:] = self.issue_appointment_letter(f, c, store, now)
                return letter_id
            incidents = self.incident_basis(letter_grounds(f, c.kind, c.subject_id), "subject_id")
            return f.issue_letter(c, list(incidents.values()), store, now)

        return self._change(c, issue, save=lambda f: self.save(f, *meeting))

    def record_dispatch(self, c: RecordDispatch) -> Receipt:
        """Records how and when a letter was sent."""
        return self._change(c, lambda f, now: f.record_dispatch(c.letter_id, c.channel.value, c.actor, now))

    def record_delivery(self, c: RecordDelivery) -> Receipt:
        """Records the evidence that a letter reached the citizen."""
        return self._change(c, lambda f, now: f.record_delivery(c.letter_id, c.evidence, c.actor, now))

    def grant_access(self, c: GrantAccess) -> Receipt:
        """Records a leader's grant letting one caseworker reach the file until a moment; its id is created_id."""
        return self._change(c, lambda f, now: f.grant_access(c.employee_id, c.reason, c.until, c.official, c.actor, now))

    def revoke_access(self, c: RevokeAccess) -> Receipt:
        """Records that a grant no longer admits its caseworker."""
        return self._change(c, lambda f, now: f.revoke_access(c.grant_id, c.official, c.actor, now))

    def erase_citizen(self, c: EraseCitizen) -> ErasureReceipt:
        """Records the erasure of the citizen's personal data and of the incidents naming them, in one save:
        the file and every incident are erased together or not at all. Destroying the keys follows
        (infra/erasure.py), and is completed after a crash from this record."""
        incidents: list[Incident] = []

        def load() -> ContactFile:
            self.check_no_meeting_pending(c.citizen_ref)
            incidents[:] = [self.get_incident(i) for i in dict.fromkeys(c.incident_ids)]
            return self.get_contact_file(c.citizen_ref)

        def erase(f: ContactFile, now: datetime) -> None:
            f.erase(c.authorisation, tuple(i.id for i in incidents), c.official, c.actor, now)
            for incident in incidents:
                incident.erase_with(f.id, c.authorisation, c.official, c.actor, now)

        _, _, position = change_now(load, lambda f: self.save(f, *incidents), self.clock, c.expected_version, erase)
        assert position is not None
        return ErasureReceipt(c.citizen_ref, position, tuple(i.id for i in incidents))

    def erase_employee(self, c: EraseEmployee) -> ErasureReceipt:
        """Records the erasure of an employee who has left; refused if it is already recorded."""
        if self._citizen_key is None:
            raise RuntimeError("CITIZEN_KEY is not configured: an employee's erasure record cannot be named")
        record_id = employee_erasure_id(c.employee_id, self._citizen_key)
        if record_id in self.repository:
            raise RuleViolation("employee_id", "this employee's erasure is already recorded")
        erasure = EmployeeErasure.record(record_id, c, self.clock())
        try:
            recordings = self.save(erasure)
        except IntegrityError:
            raise RuleViolation("employee_id", "this employee's erasure is already recorded") from None
        return ErasureReceipt(erasure.id, recordings[-1].notification.id)

    def get_contact_file(self, ref: UUID, version: int | None = None) -> ContactFile:
        return load(self.repository, ContactFile, ref, version, "no contact file with that reference")

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

    def _change(self, c: OnFile, decide: Callable[[ContactFile, datetime], Any], save: Any = None) -> Receipt:
        """Decides on the file and saves it, or has `save` save it with what it saves alongside, at once."""
        file, created_id, position = change_now(
            lambda: self.get_contact_file(c.citizen_ref), save or self.save, self.clock, c.expected_version, decide
        )
        return Receipt(citizen_ref=c.citizen_ref, version=file.version, position=position, created_id=created_id)
