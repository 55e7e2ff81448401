"""What a letter to the citizen may say about an incident: its structured facts, nothing typed about it.

An incident's description, its other_description and its notes are written by and for staff; they
can name bystanders and colleagues. A letter never quotes them. It describes the behaviour from the
facts recorded as choices (kinds, channel, when, whom it was aimed at), which name no one, and from
the words a leader writes to the citizen with a proposal (`Grounds.described_to_citizen`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from domain.incident.facts import ExposureForm, IncidentChannel, IncidentFacts, IncidentKind, ThreatTarget
from domain.values import Value


class Conduct(Value):
    """The behaviour of one incident as a letter may state it: no free text, no names."""

    kinds: tuple[IncidentKind, ...] = Field(min_length=1)
    channel: IncidentChannel
    platform: str | None = None
    occurred_at: datetime
    occurred_until: datetime | None = None
    threat_targets: tuple[ThreatTarget, ...] = ()
    death_threat: bool = False
    exposure: tuple[ExposureForm, ...] = ()
    employees: int = Field(1, ge=1, description="how many employees it was aimed at")
    breach_of_restriction: bool = False

    @classmethod
    def of(cls, facts: IncidentFacts) -> Conduct:
        threat = facts.threat
        return cls(
            kinds=facts.kinds, channel=facts.channel, platform=facts.platform, occurred_at=facts.occurred_at,
            occurred_until=facts.occurred_until, threat_targets=threat.targets if threat else (),
            death_threat=bool(threat and threat.death_threat), exposure=facts.exposure,
            employees=len(facts.affected), breach_of_restriction=facts.breach_of_restriction,
        )

    @property
    def needs_words(self) -> bool:
        """Whether the facts alone cannot say what happened (only the kind other): a leader must."""
        return set(self.kinds) == {IncidentKind.OTHER}
