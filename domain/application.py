"""The Vaern application: one method per command, each loading, deciding and saving atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import EnvType, get_topic

from domain.contact_file import ContactFile
from domain.errors import NotFound, VersionConflict
from domain.identity import Cpr, citizen_ref, normalise_phone_number
from domain.model import PydanticMapper
from domain.restrictions import RestrictionTerms
from domain.values import Actor, Official

T = TypeVar("T")
_MAX_ATTEMPTS = 10


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Receipt:
    """What a write returns: the file's new version and the log position of its last event."""

    citizen_ref: UUID
    version: int
    position: int | None
    restriction_id: UUID | None = None


class Vaern(Application[UUID]):
    """Contact files of citizens and the restrictions on their contact with the administration."""

    name = "Vaern"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}

    def __init__(self, env: EnvType | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(env)
        self.clock = clock
        key = self.env.get("CITIZEN_KEY")
        self._citizen_key = key.encode("utf-8") if key else None
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

    def register_phone_number(
        self, ref: UUID, number: str, actor: Actor, expected_version: int | None = None
    ) -> Receipt:
        """Records a phone number (normalised to E.164) as the citizen's."""
        e164 = normalise_phone_number(number)
        return self._change(ref, expected_version, lambda f: f.register_phone_number(e164, actor, self.clock()))

    def decide_restriction(
        self,
        ref: UUID,
        terms: RestrictionTerms,
        official: Official,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Records a leader's decision to restrict the citizen's contact on the given terms."""
        return self._change(ref, expected_version, lambda f: f.decide_restriction(terms, official, actor, self.clock()))

    def lift_restriction(
        self,
        ref: UUID,
        restriction_id: UUID,
        reason: str,
        official: Official,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Receipt:
        """Records that a restriction no longer applies, with the reason."""
        return self._change(
            ref,
            expected_version,
            lambda f: f.lift_restriction(restriction_id, reason, official, actor, self.clock()),
        )

    def get_contact_file(self, ref: UUID, version: int | None = None) -> ContactFile:
        try:
            return self.repository.get(ref, version=version)
        except AggregateNotFoundError:
            raise NotFound("no contact file with that reference") from None

    def _change(self, ref: UUID, expected_version: int | None, decide: Callable[[ContactFile], Any]) -> Receipt:
        for _ in range(_MAX_ATTEMPTS):
            file = self.get_contact_file(ref)
            if expected_version is not None and file.version != expected_version:
                raise VersionConflict(expected_version, file.version)
            outcome = decide(file)
            try:
                recordings = self.save(file)
            except IntegrityError:
                if expected_version is not None:
                    raise VersionConflict(expected_version, self.get_contact_file(ref).version) from None
                continue  # someone else wrote first; decide again on the fresh state
            position = recordings[-1].notification.id if recordings else None
            restriction_id = outcome if isinstance(outcome, UUID) else None
            return Receipt(ref, file.version, position, restriction_id)
        raise VersionConflict(-1, self.get_contact_file(ref).version)
