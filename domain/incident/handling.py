"""The handling of an incident: informing a leader, follow-ups, corrections, closing and reopening."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.errors import NotFound, RuleViolation
from domain.incident.facts import (
    MAX_ABSENCE_DAYS,
    MAX_EVIDENCE_BYTES,
    Person,
    SupportAnswer,
    SupportKind,
    TakedownAddressee,
    TakedownOutcome,
    check_facts,
    corrected_facts,
    local_day,
)
from domain.incident.state import IncidentChecks, IncidentState, stated
from domain.values import Actor

# Absence beyond the day of the incident must reach the Working Environment Authority within 9 days.
NOTIFY_AUTHORITY_WITHIN = timedelta(days=9)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_LINK = re.compile(r"^https?://\S+$")


class IncidentHandling(IncidentChecks):
    """The commands that handle an incident after its report (mixed into `Incident`)."""

    def inform_leader(self: IncidentState, leader: Person, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records that a leader was told about the incident (once per leader)."""
        if any(notice.leader.user_id == leader.user_id for notice in self.leader_notices):
            raise RuleViolation("leader", "this leader is already recorded as informed")
        self.record_at(self.LeaderInformed, actor, now, at, leader=leader)

    def correct(self: IncidentState, changes: dict[str, Any], reason: str, actor: Actor, now: datetime) -> None:
        """Records new values for some facts, with the reason; the old values stay in the history."""
        self.check_handling()
        text = stated(reason, "reason", "a correction states its reason")
        facts, fields = corrected_facts(self.facts, changes)
        if not fields:
            raise RuleViolation("changes", "the correction changes nothing")
        check_facts(facts, now)
        self.trigger_event(self.Corrected, fields=fields, facts=facts, reason=text, actor=actor, effective_at=now)

    def close(self: IncidentState, reason: str | None, actor: Actor, now: datetime) -> None:
        """Closes the incident; it must be open and a leader must have been informed."""
        self.check_handling()
        if not self.leader_informed:
            raise RuleViolation("leader", "an incident is closed only once a leader has been informed")
        text = reason.strip() if reason else None
        self.trigger_event(self.Closed, reason=text or None, actor=actor, effective_at=now)

    def reopen(self: IncidentState, reason: str, actor: Actor, now: datetime) -> None:
        """Reopens a closed incident, with the reason."""
        if not self.is_closed:
            raise RuleViolation("status", "only a closed incident can be reopened")
        text = stated(reason, "reason", "a reopening states its reason")
        self.trigger_event(self.Reopened, reason=text, actor=actor, effective_at=now)

    def offer_support(
        self: IncidentState, employee_id: str, kind: SupportKind, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records support of one kind offered to an affected employee."""
        self.check_handling()
        self.check_affected(employee_id)
        offer = self.support.get((employee_id, kind))
        if offer is not None and offer.answer is not SupportAnswer.DECLINED:
            raise RuleViolation("kind", f"{kind.value} is already offered to {employee_id}")
        self.record_at(self.SupportOffered, actor, now, at, employee_id=employee_id, kind=kind)

    def accept_support(
        self: IncidentState, employee_id: str, kind: SupportKind, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records that the employee accepted the support offered."""
        self._answer_support(self.SupportAccepted, employee_id, kind, actor, now, at)

    def decline_support(
        self: IncidentState, employee_id: str, kind: SupportKind, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records that the employee declined the support offered."""
        self._answer_support(self.SupportDeclined, employee_id, kind, actor, now, at)

    def hold_debriefing(
        self: IncidentState, employee_ids: tuple[str, ...], summary: str, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records a debriefing with affected employees, written up."""
        self.check_for_employees(employee_ids)
        text = stated(summary, "summary", "a debriefing is written up")
        self.record_at(self.DebriefingHeld, actor, now, at, employee_ids=employee_ids, summary=text)

    def add_note(self: IncidentState, text: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records information given orally, as of when it was given."""
        self.record_at(self.NoteAdded, actor, now, at, text=stated(text, "text", "a note has a text"))

    def attach_evidence(
        self: IncidentState, sha256: str, media_type: str, size: int, description: str, actor: Actor, now: datetime
    ) -> None:
        """Records a file kept elsewhere, by the SHA-256 of its content."""
        digest, media = sha256.strip().lower(), media_type.strip().lower()
        if not _SHA256.match(digest):
            raise RuleViolation("sha256", "a SHA-256 digest is 64 hexadecimal digits")
        if digest in self.evidence:
            raise RuleViolation("sha256", "this file is already attached")
        if not _MEDIA_TYPE.match(media):
            raise RuleViolation("media_type", "a media type is written type/subtype, e.g. image/png")
        if not 1 <= size <= MAX_EVIDENCE_BYTES:
            raise RuleViolation("size", f"a file has from one byte to {MAX_EVIDENCE_BYTES} bytes")
        shows = stated(description, "description", "evidence says what it shows")
        self.trigger_event(
            self.EvidenceAttached, sha256=digest, media_type=media, size=size, description=shows, actor=actor, effective_at=now
        )

    def request_takedown(
        self: IncidentState,
        addressee: TakedownAddressee,
        platform: str,
        link: str,
        actor: Actor,
        now: datetime,
        at: datetime | None = None,
    ) -> UUID:
        """Records a request to the platform or the citizen that a post be taken down."""
        self.check_handling()
        if not self.facts.involves_social_media:
            raise RuleViolation("link", "takedowns are requested only for incidents on social media")
        name = stated(platform, "platform", "a takedown names the platform")
        if not _LINK.match(link.strip()):
            raise RuleViolation("link", "a takedown links to the post (http or https)")
        takedown_id = uuid4()
        fields = {"takedown_id": takedown_id, "addressee": addressee, "platform": name, "link": link.strip()}
        self.record_at(self.TakedownRequested, actor, now, at, **fields)
        return takedown_id

    def record_post_removed(
        self: IncidentState, takedown_id: UUID, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records that the post a takedown asked for was removed."""
        moment = self._settled_at(takedown_id, now, at)
        self.trigger_event(self.PostRemoved, takedown_id=takedown_id, actor=actor, effective_at=moment)

    def record_takedown_refused(
        self: IncidentState, takedown_id: UUID, reason: str | None, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records that a takedown was refused, with the reason given if any."""
        moment = self._settled_at(takedown_id, now, at)
        text = reason.strip() if reason else None
        self.trigger_event(self.TakedownRefused, takedown_id=takedown_id, reason=text or None, actor=actor, effective_at=moment)

    def record_absence(
        self: IncidentState, employee_id: str, first_day: date, days: int, actor: Actor, now: datetime
    ) -> None:
        """Records an affected employee's absence: the first day and how many days."""
        self.check_affected(employee_id)
        if not 1 <= days <= MAX_ABSENCE_DAYS:
            raise RuleViolation("days", f"an absence lasts from 1 to {MAX_ABSENCE_DAYS} days; record a longer one again")
        if first_day < self.incident_day:
            raise RuleViolation("first_day", "may not lie before the day of the incident")
        if first_day > local_day(now):
            raise RuleViolation("first_day", "may not lie in the future")
        self.trigger_event(
            self.AbsenceRecorded, employee_id=employee_id, first_day=first_day, days=days, actor=actor, effective_at=now
        )

    def authority_notification_due(self: IncidentState) -> dict[str, date]:
        """Per employee with absence beyond the day of the incident: the last day to notify the authority."""
        due: dict[str, date] = {}
        for absence in self.absences:
            if absence.first_day == self.incident_day and absence.days < 2:
                continue  # the day of the incident alone is not notifiable
            deadline = absence.first_day + NOTIFY_AUTHORITY_WITHIN
            due[absence.employee_id] = min(deadline, due.get(absence.employee_id, deadline))
        return due

    def answer_support(self: IncidentState, employee_id: str, kind: SupportKind, answer: SupportAnswer, at: datetime) -> None:
        offer = self.support[(employee_id, kind)]
        self.support[(employee_id, kind)] = offer.model_copy(update={"answer": answer, "answered_at": at})

    def settle_takedown(self: IncidentState, takedown_id: UUID, outcome: TakedownOutcome, at: datetime, reason: str | None) -> None:
        takedown = self.takedowns[takedown_id]
        update = {"outcome": outcome, "outcome_at": at, "outcome_reason": reason}
        self.takedowns[takedown_id] = takedown.model_copy(update=update)

    def _answer_support(
        self: IncidentState,
        event: Any,
        employee_id: str,
        kind: SupportKind,
        actor: Actor,
        now: datetime,
        at: datetime | None,
    ) -> None:
        self.check_handling()
        offer = self.support.get((employee_id, kind))
        if offer is None:
            raise RuleViolation("kind", f"{kind.value} has not been offered to {employee_id}")
        if offer.answer is not None:
            raise RuleViolation("kind", f"{employee_id} has already answered the offer of {kind.value}")
        moment = self.moment(at, now, after=offer.offered_at)
        self.trigger_event(event, employee_id=employee_id, kind=kind, actor=actor, effective_at=moment)

    def _settled_at(self: IncidentState, takedown_id: UUID, now: datetime, at: datetime | None) -> datetime:
        self.check_handling()
        takedown = self.takedowns.get(takedown_id)
        if takedown is None:
            raise NotFound(f"no takedown request {takedown_id} on this incident")
        if takedown.outcome is not None:
            raise RuleViolation("takedown_id", f"the takedown request is already {takedown.outcome.value}")
        return self.moment(at, now, after=takedown.requested_at)
