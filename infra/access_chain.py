"""The access log's hash chain: each entry linked to the one before, by the database, as it is written.

Entries are written in many ways (beside a lookup in the same statement, judged by the view's
freshness in the same statement, or alone), so the database itself links them: a trigger on
`vaern_access_log` appends the entry's link to `vaern_access_chain` in the inserting transaction,
over the entry as written (infra/chain.py; `at` as microseconds since 1970). On PostgreSQL a
BEFORE trigger first takes a transaction-level advisory lock and only then draws the entry's id
and links it, so ids follow the one serialised tail; on SQLite (one writer at a time) the link is computed by a
function the connection registers (`Database.add_function`), so a connection without it cannot
add entries at all. A log that held entries before its chain existed is linked once, as the event
log is (infra/event_chain.py), recorded in `vaern_access_chain_genesis`.

The request id came later than the chain: an entry that has one has it encoded as one more field at
the end, and an entry without one (every entry from before) is encoded as it always was, so links
made before it still verify. Fields are length-prefixed, so the two cannot be mistaken for each other.
The centre a front-desk lookup was answered for came later still: an entry that has one has the request id
encoded after the fields (NULL if it has none) and then the centre; an entry without one is encoded as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infra.chain import GENESIS, field, link, links, microseconds
from infra.database import Database

CHAIN_TABLE = "vaern_access_chain"
LOCK_KEY = 7_661_657_200_001  # the advisory lock that serialises the access log's tail
BATCH = 5000
FIELDS = "id, at, user_id, role, purpose, what, subject_ref, search_ref, view_position, request_id, centre"


_GENESIS = {
    "postgresql": f"INSERT INTO {CHAIN_TABLE}_genesis SELECT now(), coalesce(max(id), 0), count(*)"
    f" FROM vaern_access_log WHERE NOT EXISTS (SELECT 1 FROM {CHAIN_TABLE}_genesis) RETURNING linked_through",
    "sqlite": f"INSERT INTO {CHAIN_TABLE}_genesis SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), coalesce(max(id), 0),"
    f" count(*) FROM vaern_access_log WHERE NOT EXISTS (SELECT 1 FROM {CHAIN_TABLE}_genesis) RETURNING linked_through",
}


def entry_content(row: tuple[Any, ...]) -> bytes:
    """An entry's canonical encoding, from its columns after the id (in FIELDS' order; the request id and the
    centre may be left off, as the columns of a log from before them)."""
    at, *rest = row[:8]
    request_id, centre = (*row[8:], None, None)[:2]
    encoded = field(microseconds(at)) + b"".join(field(value) for value in rest)
    if centre is not None:
        return encoded + field(request_id) + field(centre)
    return encoded if request_id is None else encoded + field(request_id)


def _sqlite_link(previous: bytes | None, position: int, at: str, *rest: Any) -> bytes:
    return link(previous or GENESIS, position, entry_content((datetime.fromisoformat(at), *rest)))


def install(db: Database) -> None:
    """Lets the connections link entries (on SQLite: the trigger's function); links an older log once.

    The chain's tables and triggers are the migrations' (infra/migrations/).
    """
    if db.dialect == "sqlite":  # any number of arguments: the trigger passes the centre from migration 0003 on
        db.add_function("vaern_access_link", -1, _sqlite_link)
    with db.transaction() as cur:
        if db.dialect == "postgresql":
            cur.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        started = cur.execute(_GENESIS[db.dialect]).fetchone()
        after, previous = 0, GENESIS
        while started is not None and after < started[0]:
            rows = cur.execute(f"SELECT {FIELDS} FROM vaern_access_log WHERE id > %s AND id <= %s ORDER BY id LIMIT %s",
                               (after, started[0], BATCH)).fetchall()
            if not rows:
                break
            chained = links(previous, ((row[0], entry_content(row[1:])) for row in rows))
            for position, value in chained:
                cur.execute(f"INSERT INTO {CHAIN_TABLE} VALUES (%s, %s)", (position, value))
            after, previous = chained[-1]
