"""RoutingStatesView: each citizen's phone routing exactly as the relay last published it.

It is what GET /phone-routing/snapshot serves: a consumer that loads it and then reads the topic
ends with the same table as one that read the whole topic. So a row is written from the very
change the relay would publish for the event (consumers/changes.py, the same RoutingFollower: the
routing moved along by the event and compared with the one before), and only when the relay would
publish one; a row holds the `data` of the citizen's latest message, byte for byte as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from consumers.changes import Loader, RoutingFollower
from infra.database import Cursor, Database

Entry = tuple[str, Sequence[Any]]

NAME = "routing_states"


class RoutingStatesView:
    """The latest published routing state per citizen, and the log position the table reflects."""

    name = NAME
    tables = ("routing_states",)

    def __init__(self, load: Loader) -> None:
        self._follower = RoutingFollower(load)

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS routing_states ("
            " citizen_ref TEXT PRIMARY KEY, sequence BIGINT NOT NULL, position BIGINT NOT NULL, state TEXT NOT NULL)"
        )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        change = self._follower.update(event, position)
        if change is None:
            return
        cur.execute(
            "INSERT INTO routing_states (citizen_ref, sequence, position, state) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (citizen_ref) DO UPDATE SET sequence = excluded.sequence, position = excluded.position,"
            " state = excluded.state WHERE routing_states.sequence < excluded.sequence",
            (str(change.citizen_ref), change.sequence, position, change.data),
        )

    def snapshot(self, db: Database, logged: Callable[[UUID], Entry] | None = None) -> bytes:
        """Every state and the position they reflect, as JSON: {"position": n, "states": [data, ...]}.

        `logged(citizen_ref)` gives the access-log entry for each citizen whose state is read; the
        entries are written in the transaction of the read, so nothing is served unlogged.
        """
        # One statement, so the position and the rows come from one snapshot of the database.
        with db.transaction() as cur:
            rows = cur.execute(
                "SELECT p.position, s.citizen_ref, s.state FROM vaern_positions p"
                " LEFT JOIN routing_states s ON 1 = 1 WHERE p.name = %s ORDER BY s.citizen_ref",
                (NAME,),
            ).fetchall()
            states = [(ref, state) for _, ref, state in rows if state is not None]
            for ref, _ in states if logged else ():
                cur.execute(*logged(UUID(ref)))
        position = int(rows[0][0]) if rows else 0
        return f'{{"position":{position},"states":[{",".join(state for _, state in states)}]}}'.encode()
