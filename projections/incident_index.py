"""IncidentIndexView: which incidents name a citizen as perpetrator, now or before a correction.

A citizen's legal timeline shows the incidents they caused beside their contact file. Who the
perpetrator is can change by a correction, so the index keeps each attribution with the log
position it began at and, once corrected away, the position it ended at: a restriction may have
rested on an incident later attributed to someone else, and the timeline must still show it.
Each spell is its own row: an incident named A, then B, then A again keeps both of A's spells.

The module also reads one aggregate's events with their log positions (the store's notification
ids), on either store, so a timeline can say where each fact stands in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.application import Vaern
from domain.incident.aggregate import Incident
from infra.database import Cursor, Database
from projections.view import DeclaredView

NAME = "incident_index"
ATTRIBUTES = (Incident.Reported, Incident.Corrected)  # the facts that name (or rename) the perpetrator


@dataclass(frozen=True)
class Attribution:
    """An incident attributed to the citizen from `since` (a log position) until a correction, if any.

    One incident can have several spells for the same citizen (named, corrected away, named again).
    """

    incident_id: UUID
    since: int
    until: int | None

    @property
    def current(self) -> bool:
        return self.until is None

    def covers(self, position: int) -> bool:
        """Whether the fact at `position` lies in the spell; the correction that ended it included."""
        return self.since <= position and (self.until is None or position <= self.until)


class IncidentIndexView(DeclaredView):
    """Incidents per perpetrating citizen, from incident reports and corrections."""

    name = NAME
    tables = ("incident_index",)
    handles = ATTRIBUTES
    schema = (
        "CREATE TABLE IF NOT EXISTS incident_index ("
        " incident_id TEXT NOT NULL, citizen_ref TEXT NOT NULL,"
        " since_position BIGINT NOT NULL, until_position BIGINT,"
        " PRIMARY KEY (citizen_ref, incident_id, since_position))",
        "CREATE INDEX IF NOT EXISTS incident_index_incident ON incident_index (incident_id)",
    )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if isinstance(event, ATTRIBUTES):
            self._attribute(cur, str(event.originator_id), event.facts.perpetrator.citizen_ref, position)

    def _attribute(self, cur: Cursor, incident_id: str, citizen_ref: UUID | None, position: int) -> None:
        ref = str(citizen_ref) if citizen_ref else None
        cur.execute(
            "UPDATE incident_index SET until_position = %s"
            " WHERE incident_id = %s AND until_position IS NULL AND citizen_ref <> %s",
            (position, incident_id, ref or ""),
        )
        if ref is None:
            return
        # A new spell only: a correction that keeps the same perpetrator continues the open one.
        cur.execute(
            "INSERT INTO incident_index (incident_id, citizen_ref, since_position) SELECT %s, %s, %s"
            " WHERE NOT EXISTS (SELECT 1 FROM incident_index WHERE incident_id = %s AND citizen_ref = %s"
            " AND until_position IS NULL) ON CONFLICT DO NOTHING",
            (incident_id, ref, position, incident_id, ref),
        )

    def incidents_of(self, db: Database, citizen_ref: UUID) -> list[Attribution]:
        """The citizen's spells as perpetrator of incidents, now or formerly, in the order they began."""
        rows = db.read(
            "SELECT incident_id, since_position, until_position FROM incident_index WHERE citizen_ref = %s"
            " ORDER BY since_position",
            (str(citizen_ref),),
        )
        return [Attribution(UUID(str(i)), int(since), None if until is None else int(until)) for i, since, until in rows]


def history(app: Vaern, originator_id: UUID, stop: int | None = None) -> list[tuple[int, Any]]:
    """The aggregate's events, each with its log position, in order; up to position `stop` if given."""
    notifications = [n for n in _notifications(app, originator_id) if stop is None or n.id <= stop]
    return [(n.id, app.mapper.to_domain_event(n)) for n in notifications]


def _notifications(app: Vaern, originator_id: UUID) -> list[Notification]:
    recorder = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder, originator_id)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, originator_id)
    return _scan(app, originator_id)  # the in-memory store: small by nature


def _postgres(recorder: PostgresApplicationRecorder, originator_id: UUID) -> list[Notification]:
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{}"
        " WHERE originator_id = %s ORDER BY originator_version"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    key: Any = originator_id if recorder.datastore.originator_id_type == "uuid" else str(originator_id)
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, (key,))
        return [_notification(row["notification_id"], row) for row in curs.fetchall()]


def _sqlite(recorder: SQLiteApplicationRecorder, originator_id: UUID) -> list[Notification]:
    statement = (
        f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name}"
        " WHERE originator_id = ? ORDER BY originator_version"
    )
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, (originator_id.hex,))
        return [_notification(row["rowid"], row) for row in c.fetchall()]


def _notification(position: int, row: Any) -> Notification:
    return Notification(
        id=int(position), originator_id=UUID(str(row["originator_id"])), originator_version=row["originator_version"],
        topic=row["topic"], state=bytes(row["state"]),
    )


def _scan(app: Vaern, originator_id: UUID) -> list[Notification]:
    found: list[Notification] = []
    start = 0
    while batch := app.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False):
        found.extend(n for n in batch if n.originator_id == originator_id)
        start = batch[-1].id
    return found
