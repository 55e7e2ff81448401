"""The erasure of an employee who has left: an authorised, logged act, like a citizen's.

An employee's name, user id and title are sealed under a data subject of their own wherever they
stand (domain/personal.py), so erasing them leaves every incident, decision and letter they were
part of whole: the facts still decode, with the employee's texts read as erased.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from domain.contact_file.commands import EraseInputs, Signed
from domain.model import Aggregate
from domain.errors import RuleViolation
from domain.values import ArchiveAuthorisation, Official, ShortText


class EraseEmployeeInputs(EraseInputs):
    employee_id: ShortText = Field(description="the user id of the employee who has left", repr=False)


class EraseEmployee(EraseEmployeeInputs, Signed):
    """Erase the personal data of an employee who has left, under an archive authorisation."""


class EmployeeErasure(Aggregate):
    """The record of one employee's erasure; its id is a keyed digest of their user id, never the id."""

    TOPIC = "vaern:EmployeeErasure"

    class Event(Aggregate.Event):
        pass

    class Recorded(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:EmployeeErasure.Recorded"
        employee_id: str
        authorisation: ArchiveAuthorisation
        erased_by: Official

        def apply(self, erasure: EmployeeErasure) -> None:
            erasure.employee_id = self.employee_id

    Created = Recorded  # the library's name for the first event; stored under Recorded's topic

    @classmethod
    def record(cls, record_id: UUID, command: EraseEmployee, now: datetime) -> EmployeeErasure:
        """The erasure of `command.employee_id`, checked: on an authorisation already granted, not by themselves."""
        command.authorisation.check_granted(now)
        if command.official.user_id == command.employee_id or command.actor.user_id == command.employee_id:
            raise RuleViolation("employee_id", "an employee's erasure is recorded by someone else")
        return cls._create(
            cls.Recorded, id=record_id, employee_id=command.employee_id, authorisation=command.authorisation,
            erased_by=command.official, actor=command.actor, effective_at=now,
        )

    def __init__(self) -> None:
        self.employee_id: str = ""
