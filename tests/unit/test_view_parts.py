"""Views decode only the part of each event they read (domain/event_parts.py), and write exactly what the
whole event would have them write; a sealed fact's part opens only the subjects whose text it holds."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from domain.appointments.aggregate import Appointment
from domain.appointments.values import AppointmentKind, Host, Outcome, Place, Slot
from domain.bounds import from_log_json
from domain.incident.facts import Person
from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a, kind_of
from domain.model import PydanticMapper
from infra.keys import MemoryKeyStore
from infra.sealed_events import SealingMapper
from projections.erasures import erased_citizen
from domain.employee_erasure import EmployeeErasure, EraseEmployee
from infra.sealed_events import erased_text
from projections.front_desk import FrontDeskView
from projections.front_desk_appointments import HostSeal
from tests.support.cases import AUTHORISATION, OFFICIAL
from projections.phone_routing import PhoneRoutingView
from tests.unit.test_routing_follower import LEADER, rich_log

def front_desk() -> FrontDeskView:
    """The front-desk view as Services gives it: a key to seal named hosts, and employees' erased marks."""
    view = FrontDeskView()
    view.seal = HostSeal(b"a view key for the tests only...", lambda user_id: erased_text(f"employee:{user_id}"))
    return view


VIEWS = (front_desk(), PhoneRoutingView(key=b"a number key for the tests only.."))


@pytest.fixture(scope="module")
def log() -> list[tuple[int, Any]]:
    events = rich_log(seed=7)
    return events + meetings(events[-1][0], [e.originator_id for _, e in events if isinstance(e, ContactFile.Opened)])


def meetings(after: int, citizens: list[Any]) -> list[tuple[int, Any]]:
    """Meetings with the citizens, booked, moved, cancelled, and held, in log positions after `after`."""
    now, day = datetime(2026, 3, 2, 9, tzinfo=timezone.utc), date(2026, 3, 20)
    made = []
    for n, citizen in enumerate(citizens[:8]):
        host = Host(team="Team Nord", employee=Person(user_id="c9", name="Carl Berg"), name_employee=n % 2 == 0)
        slot = Slot(date=day, starts=time(9 + n), ends=time(9 + n, 45))
        meeting = Appointment._create(  # noqa: SLF001 -- as the application books one
            Appointment.Booked, id=uuid4(), citizen_ref=citizen, place=Place(centre="JKI", room=f"Lokale {n}"),
            slot=slot, host=host, kind=AppointmentKind.JOB_INTERVIEW, arranged_with_citizen=True, actor=LEADER,
            effective_at=now,
        )
        if n % 3 == 0:
            meeting.move(Place(centre="JKA", room="Lokale 1"), slot, False, None, LEADER, now)
        if n % 3 == 1:
            meeting.cancel("Syg", LEADER, now)
        if n % 3 == 2:
            meeting.record_outcome(Outcome.HELD, None, LEADER, slot.starts_at)
        made.extend(meeting.collect_events())
    erasure = EraseEmployee(employee_id="c9", authorisation=AUTHORISATION, official=OFFICIAL, actor=LEADER)
    made.extend(EmployeeErasure.record(uuid4(), erasure, datetime(2026, 12, 1, tzinfo=timezone.utc)).collect_events())
    return [(after + i, event) for i, event in enumerate(made, start=1)]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_each_view_reads_a_part_of_every_event_it_handles_and_of_nothing_else(view: Any) -> None:
    assert set(view.parts) == set(view.topics)
    assert {kind_of(part.model_construct()) for part in view.parts.values()} == set(view.handles)


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_a_view_writes_the_same_rows_from_the_part_as_from_the_whole_event(view: Any, log: Any) -> None:
    handled = [(p, e) for p, e in log if get_topic(type(e)) in view.parts]
    assert {type(e) for _, e in handled} == set(view.handles)  # the log holds every kind the view handles
    written = 0
    for position, event in handled:
        part = from_log_json(view.parts[get_topic(type(event))], event.model_dump_json())
        assert type(part) is not type(event) and is_a(part, type(event))
        assert view.writes(part, position) == view.writes(event, position)
        assert erased_citizen(part) == erased_citizen(event)
        assert view.sweeps(part) == view.sweeps(event)
        written += bool(view.writes(event, position)) + bool(view.sweeps(event))
    assert written > 100


def test_a_sealed_facts_part_opens_only_the_subjects_whose_text_it_holds(log: Any) -> None:
    opened: list[str] = []

    class Watched(MemoryKeyStore):
        def existing_key(self, subject: str) -> bytes | None:
            opened.append(subject)
            return super().existing_key(subject)

    mapper = SealingMapper.over(PydanticMapper(transcoder=JSONTranscoder()), Watched(), b"a citizen key for the tests only")
    front_desk, phone = VIEWS
    decided = next(e for _, e in log if isinstance(e, ContactFile.RestrictionDecided))
    stored = mapper.to_stored_event(decided)

    assert mapper.decode(front_desk.parts[get_topic(ContactFile.RestrictionDecided)], stored).terms.in_person == (
        decided.terms.in_person
    )
    assert opened == [f"citizen:{decided.originator_id}"]  # the deciding official's key was not looked up

    opened.clear()
    opened_file = mapper.to_stored_event(next(e for _, e in log if isinstance(e, ContactFile.Opened)))
    assert mapper.decode(front_desk.parts[get_topic(ContactFile.Opened)], opened_file).originator_id is not None
    assert opened == []  # a part of no personal text opens no key at all

    assert mapper.to_domain_event(stored) == decided
    assert len(opened) == 2  # the whole fact opens both subjects: the citizen's and the official's
