"""RoutingStatesView: each citizen's phone routing exactly as the relay last published it.

It is what GET /phone-routing/snapshot serves: a consumer that loads it and then reads the topic
ends with the same table as one that read the whole topic. So a row is written from the very
change the relay would publish for the event (consumers/changes.py, the same RoutingFollower: the
routing moved along by the event and compared with the one before), and only when the relay would
publish one; a row holds the `data` of the citizen's latest message, byte for byte as sent.

The messages carry the citizen's phone numbers (the telephony contract), so each row is sealed
under the view's own key from the key store, bound to its citizen; the snapshot opens them. The
sealing is deterministic (AES-SIV, RFC 5297): the same state seals to the same bytes, so a rebuilt
table equals the live one byte for byte, and all it shows is which rows hold the same state. A
row written before rows were sealed (plain JSON) is served as it is until rewritten or the view is
rebuilt (`vaern projections rebuild routing_states`).

A citizen's erasure is published as their tombstone, so the view deletes their row: the snapshot no
longer lists them, as a compacted topic no longer holds them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consumers.changes import Loader, RoutingFollower
from infra.database import Cursor, Database
from projections.erasures import forget

Entry = tuple[str, Sequence[Any]]

NAME = "routing_states"
VIEW_KEY = "view:routing_states"  # the key store's subject whose data key seals this view's rows
FORGETS = ("DELETE FROM routing_states WHERE citizen_ref = %s",)


class RoutingStatesView:
    """The latest published routing state per citizen, and the log position the table reflects."""

    name = NAME
    tables = ("routing_states",)

    def __init__(self, load: Loader, key: bytes) -> None:
        self._follower = RoutingFollower(load)
        # `key`: the key store's data key of the subject VIEW_KEY (Services); AES-SIV takes two AES-256 keys.
        self._siv = AESSIV(HKDF(hashes.SHA256(), 64, salt=None, info=b"vaern routing_states siv").derive(key))

    def _sealed(self, citizen_ref: str, data: str) -> str:
        return base64.b64encode(self._siv.encrypt(data.encode("utf-8"), [_aad(citizen_ref)])).decode("ascii")

    def _opened(self, citizen_ref: str, state: str) -> str:
        if state.startswith("{"):  # written before rows were sealed
            return state
        return self._siv.decrypt(base64.b64decode(state), [_aad(citizen_ref)]).decode("utf-8")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS routing_states ("
            " citizen_ref TEXT PRIMARY KEY, sequence BIGINT NOT NULL, position BIGINT NOT NULL, state TEXT NOT NULL)"
        )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        change = self._follower.update(event, position)
        if change is None:
            return
        if change.data is None:  # the citizen's tombstone
            forget(cur, FORGETS, str(change.citizen_ref))
            return
        cur.execute(
            "INSERT INTO routing_states (citizen_ref, sequence, position, state) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (citizen_ref) DO UPDATE SET sequence = excluded.sequence, position = excluded.position,"
            " state = excluded.state WHERE routing_states.sequence < excluded.sequence",
            (str(change.citizen_ref), change.sequence, position, self._sealed(str(change.citizen_ref), change.data)),
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
        opened = ",".join(self._opened(ref, state) for ref, state in states)
        return f'{{"position":{position},"states":[{opened}]}}'.encode()


def _aad(citizen_ref: str) -> bytes:
    return f"{NAME}/{citizen_ref}".encode("utf-8")
