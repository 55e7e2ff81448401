"""The front desk's table of meetings: each meeting still to be met, by citizen, day and centre.

The front-desk view (projections/front_desk.py) keeps it beside the restrictions, filled from the
appointment events, so that one statement answers the guard with the terms in force and today's
meetings (domain/appointments/desk.py). A row holds what the desk shows and no more: the centre, the
room, the Copenhagen day and wall times as booked, the host team, and whether the meeting is still
booked (`status`: booked, cancelled, or the outcome recorded). A meeting moved is its row rewritten.

The host is the team or contact point in clear, as a restriction's contact point is. Where the booking
chose to show the employee instead, their name is a person's: it is kept sealed under the view's own
key (AES-SIV, deterministic, so a rebuilt table equals the live one), bound to the meeting, and opened
when read. A view given no key keeps no name and shows the team. A citizen's erasure deletes their rows.

An employee's erasure takes their name off every row naming them as soon as the view applies it: the
desk shows the team. The row knows whom it names by `named_erased_as`, what the employee's texts read
as once erased (infra/sealed_events.py: a mark of their data subject, itself a keyed digest of their
user id, so it names no one), which is also what the erasure's own employee id reads as once their key
is destroyed, as it usually is before the view applies it. A rebuild after the erasure reads the booking
with the name erased and names no one either, so it gives the same table. Two employees whose marks
coincide (a chance in four billion) are both taken off by the erasure of either: the desk errs towards
naming no one.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, time
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.appointments.aggregate import Appointment
from domain.appointments.desk import DeskAppointment
from domain.employee_erasure import EmployeeErasure
from domain.event_parts import is_a
from domain.incident.facts import Centre
from infra.database import Database
from projections.erasures import reads_erased
from projections.row_writes import Sweep, Write, inserting, updating

TABLE = "front_desk_appointments"
VIEW_KEY = "view:front_desk"  # the key store's subject whose data key seals named hosts
BOOKED = "booked"

EVENTS = (
    Appointment.Booked, Appointment.Moved, Appointment.Cancelled, Appointment.OutcomeRecorded, EmployeeErasure.Recorded,
)
NEEDS = {
    Appointment.Booked: (("citizen_ref", "place", "slot", "host"), {}),
    Appointment.Moved: (("place", "slot"), {}),
    Appointment.Cancelled: ((), {}),
    Appointment.OutcomeRecorded: (("outcome",), {}),
    EmployeeErasure.Recorded: (("employee_id",), {}),
}
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " appointment_id TEXT PRIMARY KEY, citizen_ref TEXT NOT NULL, centre TEXT NOT NULL, room TEXT NOT NULL,"
    " host TEXT NOT NULL, named_host TEXT, named_erased_as TEXT, day TEXT NOT NULL, starts TEXT NOT NULL,"
    " ends TEXT NOT NULL, status TEXT NOT NULL, position BIGINT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_citizen_day ON {TABLE} (citizen_ref, day)",
)
FORGETS = (f"DELETE FROM {TABLE} WHERE citizen_ref = %s",)

_PLACE_AND_TIME = "centre text, room text, day text, starts text, ends text"
BOOK = inserting(
    "front_desk_booked", TABLE,
    f"appointment_id text, citizen_ref text, {_PLACE_AND_TIME}, host text, named_host text, named_erased_as text,"
    " status text, position bigint",
    upsert_on="appointment_id", kept=("citizen_ref",),
)
MOVE = updating("front_desk_moved", TABLE, f"{_PLACE_AND_TIME}, position bigint, appointment_id text", key="appointment_id")
SETTLE = updating("front_desk_settled", TABLE, "status text, position bigint, appointment_id text", key="appointment_id")
UNNAME = f"UPDATE {TABLE} SET named_host = NULL, named_erased_as = NULL WHERE named_erased_as = %s"
ADDED_COLUMN = "named_erased_as"  # the column a view from before it knew whom its rows name lacks

COLUMNS = ("centre", "room", "host", "named_host", "day", "starts", "ends")
"""The columns the lookup reads of a row, after the meeting's id, in this order."""


class HostSeal:
    """Seals and opens a named host under the view's key, bound to the meeting; without a key, names no one.

    `erased_as` gives what an employee's texts read as once they are erased, from their user id (None where
    facts are not sealed per data subject: no employee can be erased there)."""

    def __init__(self, key: bytes | None = None, erased_as: Callable[[str], str] | None = None) -> None:
        derived = None if key is None else HKDF(hashes.SHA256(), 64, salt=None, info=b"vaern front_desk siv").derive(key)
        self._siv = None if derived is None else AESSIV(derived)
        self.erased_as = erased_as

    def sealed(self, appointment_id: str, name: str) -> str | None:
        if self._siv is None:
            return None
        return base64.b64encode(self._siv.encrypt(name.encode("utf-8"), [_aad(appointment_id)])).decode("ascii")

    def opened(self, appointment_id: str, sealed: str) -> str:
        if self._siv is None:
            raise RuntimeError("the front-desk view has no key to open a named host: build it through Services")
        return self._siv.decrypt(base64.b64decode(sealed), [_aad(appointment_id)]).decode("utf-8")


def _aad(appointment_id: str) -> bytes:
    return f"front_desk/{appointment_id}".encode("utf-8")


def _place_and_time(event: Any) -> tuple[str, str, str, str, str]:
    place, slot = event.place, event.slot
    return place.centre.value, place.room, slot.date.isoformat(), slot.starts.isoformat(), slot.ends.isoformat()


def appointment_writes(event: Any, position: int, seal: HostSeal) -> list[Write]:
    """The row an appointment event writes: booked (inserted), moved, or settled (cancelled, or its outcome)."""
    aid = str(event.originator_id)
    key = ("appointment", aid)
    if is_a(event, Appointment.Booked):
        named, erased_as = _named_host(aid, event.host, seal)
        params = (aid, str(event.citizen_ref), *_place_and_time(event), event.host.team, named, erased_as, BOOKED, position)
        return [(BOOK, key, params)]
    if is_a(event, Appointment.Moved):
        return [(MOVE, key, (*_place_and_time(event), position, aid))]
    if is_a(event, Appointment.Cancelled):
        return [(SETTLE, key, ("cancelled", position, aid))]
    if is_a(event, Appointment.OutcomeRecorded):
        return [(SETTLE, key, (event.outcome.value, position, aid))]
    return []


def _named_host(appointment_id: str, host: Any, seal: HostSeal) -> tuple[str | None, str | None]:
    """The employee named as host, sealed, and what their texts read as once erased; nothing where the booking
    named no one, or named an employee since erased (a rebuild reads their name erased)."""
    employee = host.employee
    if not host.name_employee or employee is None or reads_erased(employee.name):
        return None, None
    named = seal.sealed(appointment_id, employee.name)
    if named is None or seal.erased_as is None:
        return named, None
    return named, seal.erased_as(employee.user_id)


def host_sweeps(event: Any, seal: HostSeal) -> list[Sweep]:
    """An employee's erasure takes their name off the rows naming them, however its employee id reads."""
    if not is_a(event, EmployeeErasure.Recorded):
        return []
    employee_id = event.employee_id
    erased_as = employee_id if reads_erased(employee_id) else seal.erased_as and seal.erased_as(employee_id)
    return [(UNNAME, (erased_as,))] if erased_as else []


def todays_rows(ref: str, centre: Centre | None) -> str:
    """The SELECT of the citizen's (`ref`, a SQL expression) meetings still booked on a day (one %s), at
    `centre` (one more %s) or any; its columns line up with the restrictions' in the lookup's union."""
    at_centre = " AND a.centre = %s" if centre is not None else ""
    return (
        f"SELECT a.appointment_id, 'appointment', NULL, NULL, NULL, NULL, NULL, {', '.join('a.' + c for c in COLUMNS)}"
        f" FROM {TABLE} a WHERE a.citizen_ref = {ref} AND a.day = %s AND a.status = '{BOOKED}'{at_centre}"
    )


def desk_appointment(row: tuple[Any, ...], seal: HostSeal) -> DeskAppointment:
    """A row of the lookup's appointment branch (the meeting's id, then COLUMNS) as the desk shows it."""
    appointment_id, centre, room, host, named_host, day, starts, ends = row
    return DeskAppointment(
        appointment_id=UUID(str(appointment_id)), centre=Centre(centre), room=room,
        host=seal.opened(str(appointment_id), named_host) if named_host else host,
        day=date.fromisoformat(day), starts=time.fromisoformat(starts), ends=time.fromisoformat(ends),
    )


def citizens_meetings(db: Database, citizen_ref: UUID) -> list[UUID]:
    """The ids of the meetings the view holds for a citizen, whatever their state."""
    return [UUID(str(row[0])) for row in db.read(f"SELECT appointment_id FROM {TABLE} WHERE citizen_ref = %s",
                                                 (str(citizen_ref),))]
