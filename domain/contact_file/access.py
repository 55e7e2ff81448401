"""Who may reach a citizen's file beyond its centres: a leader's grant to a named caseworker, until a date.

A file is of the centre of the caseworker who opened it and of the centre a restriction's scope names
(`centres`); the incidents naming the citizen add theirs, which the API reads from the incident index.
A caseworker whose token names a centre reaches a file of their centre, or one a leader granted them
access to, for a stated reason, until the grant ends or is revoked. The grant covers the incidents naming
the citizen too.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from domain.errors import NotFound, RuleViolation
from domain.incident.facts import Centre
from domain.values import Actor, Official, Role, ScopeKind, Value


class Grant(Value):
    """Access a leader granted one caseworker to the file, for a reason, until a moment (or its revocation)."""

    grant_id: UUID
    employee_id: str
    reason: str
    until: datetime
    granted_by: Official
    granted_at: datetime
    revoked_at: datetime | None = None

    def admits(self, user_id: str, moment: datetime) -> bool:
        """Whether the grant lets `user_id` reach the file at `moment`."""
        return self.employee_id == user_id and self.revoked_at is None and moment < self.until


class FileAccess:
    """Mixed into the contact file: its centres and the grants on it, and the rules for granting and revoking."""

    grants: dict[UUID, Grant]
    opened_at: Centre | None
    restrictions: dict[UUID, Any]
    AccessGranted: Any
    AccessRevoked: Any
    if TYPE_CHECKING:  # the aggregate's own, never shadowed by this mixin

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def centres(self) -> set[str]:
        """The centres the file is of by itself: where it was opened, and those its restrictions' scopes name."""
        scoped = {r.terms.scope.centre for r in self.restrictions.values() if r.terms.scope.kind is ScopeKind.CENTRE}
        return {c for c in scoped if c} | ({self.opened_at.value} if self.opened_at is not None else set())

    def admits(self, user_id: str, moment: datetime) -> bool:
        """Whether a grant in force at `moment` lets `user_id` reach the file."""
        return any(grant.admits(user_id, moment) for grant in self.grants.values())

    def grant_access(
        self, employee_id: str, reason: str, until: datetime, official: Official, actor: Actor, now: datetime
    ) -> UUID:
        """Records a leader's grant to the caseworker `employee_id`; refused without a reason or a future end."""
        if actor.role is not Role.LEADER:
            raise RuleViolation("actor", "only a leader grants access to a file")
        if not employee_id.strip():
            raise RuleViolation("employee_id", "a grant names the caseworker it admits")
        if not reason.strip():
            raise RuleViolation("reason", "a grant states its reason")
        if until <= now:
            raise RuleViolation("until", "a grant ends in the future")
        grant_id = uuid4()
        self.trigger_event(
            self.AccessGranted, grant_id=grant_id, employee_id=employee_id, reason=reason, until=until,
            granted_by=official, actor=actor, effective_at=now,
        )
        return grant_id

    def revoke_access(self, grant_id: UUID, official: Official, actor: Actor, now: datetime) -> None:
        """Records that a grant no longer admits; refused for a grant the file does not hold or one revoked."""
        if actor.role is not Role.LEADER:
            raise RuleViolation("actor", "only a leader revokes access to a file")
        grant = self.grants.get(grant_id)
        if grant is None:
            raise NotFound(f"no grant {grant_id} on this contact file")
        if grant.revoked_at is not None:
            raise RuleViolation("grant_id", "the grant is revoked already")
        self.trigger_event(self.AccessRevoked, grant_id=grant_id, revoked_by=official, actor=actor, effective_at=now)
