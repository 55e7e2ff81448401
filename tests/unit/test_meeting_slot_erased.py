"""A meeting's time once its citizen is erased: a slot stored with its zone sealed reads that zone as erased,
and its instants are still those of its Copenhagen wall time (lists of overdue post-meetings rest on them)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from uuid import uuid4

from domain.appointments.aggregate import Appointment
from domain.appointments.values import Host, Place, Slot
from domain.personal import personal_text
from tests.support.cases import LEADER


def test_a_slot_whose_zone_reads_as_erased_keeps_its_copenhagen_instants():
    erased = Slot(date=date(2026, 7, 1), starts=time(10), ends=time(11), zone="⟨slettet⟩ 62650e43")
    assert erased.starts_at == datetime(2026, 7, 1, 8, tzinfo=timezone.utc)
    assert erased.ends_at == datetime(2026, 7, 1, 9, tzinfo=timezone.utc)


def test_the_zone_of_a_slot_is_kept_readable_as_it_names_no_one_and_the_room_is_sealed_as_the_citizens():
    slot = Slot(date=date(2026, 7, 1), starts=time(10), ends=time(11))
    booked = Appointment._create(
        Appointment.Booked, id=uuid4(), citizen_ref=uuid4(), place=Place(centre="JKI", room="Lokale 1"), slot=slot,
        host=Host(team="Team Nord"), kind="other", arranged_with_citizen=True, case=None, actor=LEADER,
        effective_at=datetime.now(timezone.utc),
    ).collect_events()[0]
    sealed = {path: (text, subject.kind) for path, text, subject in personal_text(booked)}
    assert ("slot", "zone") not in sealed
    assert sealed[("place", "room")] == ("Lokale 1", "citizen")
