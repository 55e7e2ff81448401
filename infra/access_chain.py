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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infra.chain import GENESIS, field, link, links, microseconds
from infra.database import Cursor, Database

CHAIN_TABLE = "vaern_access_chain"
LOCK_KEY = 7_661_657_200_001  # the advisory lock that serialises the access log's tail
BATCH = 5000
FIELDS = "id, at, user_id, role, purpose, what, subject_ref, search_ref, view_position, request_id"


def _text(column: str) -> str:
    """SQL for `field` (infra/chain.py) of a text column, written out: a function call per field cost a third."""
    return (f"CASE WHEN {column} IS NULL THEN '\\xffffffff'::bytea"
            f" ELSE int4send(octet_length(convert_to({column}, 'UTF8'))) || convert_to({column}, 'UTF8') END")


def _integer(expression: str) -> str:
    return f"CASE WHEN ({expression}) IS NULL THEN '\\xffffffff'::bytea ELSE '\\x00000008'::bytea || int8send({expression}) END"


_MICROSECONDS = ("(EXTRACT(EPOCH FROM date_trunc('second', NEW.at)))::bigint * 1000000"
                 " + EXTRACT(MICROSECONDS FROM NEW.at)::bigint % 1000000")
_CONTENT = " || ".join([
    _integer(_MICROSECONDS),
    *(_text(f"NEW.{column}") for column in ("user_id", "role", "purpose", "what", "subject_ref", "search_ref")),
    _integer("NEW.view_position"),
    f"CASE WHEN NEW.request_id IS NULL THEN ''::bytea ELSE {_text('NEW.request_id')} END",
])
# One BEFORE trigger does it all, under the lock: the id drawn, the tail read, the link appended.
_POSTGRES = (
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position BIGINT PRIMARY KEY, link BYTEA NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE}_genesis (started_at TIMESTAMPTZ NOT NULL,"
    " linked_through BIGINT NOT NULL, linked BIGINT NOT NULL)",
    "CREATE OR REPLACE FUNCTION vaern_access_log_link() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" DECLARE previous bytea; BEGIN PERFORM pg_advisory_xact_lock({LOCK_KEY});"
    " NEW.id := nextval('vaern_access_log_id_seq'::regclass);"
    f" SELECT link INTO previous FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1;"
    f" INSERT INTO {CHAIN_TABLE} VALUES (NEW.id, sha256(coalesce(previous, '\\x{GENESIS.hex()}'::bytea)"
    f" || int8send(NEW.id) || {_CONTENT})); RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS vaern_access_log_link ON vaern_access_log",
    "CREATE TRIGGER vaern_access_log_link BEFORE INSERT ON vaern_access_log"
    " FOR EACH ROW EXECUTE FUNCTION vaern_access_log_link()",
    f"DROP TRIGGER IF EXISTS vaern_access_chain_append_only ON {CHAIN_TABLE}",
    f"CREATE TRIGGER vaern_access_chain_append_only BEFORE UPDATE OR DELETE ON {CHAIN_TABLE}"
    " FOR EACH ROW EXECUTE FUNCTION vaern_access_log_append_only()",
    f"DROP TRIGGER IF EXISTS vaern_access_chain_no_truncate ON {CHAIN_TABLE}",
    f"CREATE TRIGGER vaern_access_chain_no_truncate BEFORE TRUNCATE ON {CHAIN_TABLE}"
    " FOR EACH STATEMENT EXECUTE FUNCTION vaern_access_log_append_only()",
)
_SQLITE = (
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY KEY, link BLOB NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE}_genesis (started_at TEXT NOT NULL, linked_through INTEGER NOT NULL,"
    " linked INTEGER NOT NULL)",
    "DROP TRIGGER IF EXISTS vaern_access_log_link",  # one from before request ids passed one field fewer
    "CREATE TRIGGER vaern_access_log_link AFTER INSERT ON vaern_access_log BEGIN"
    f" INSERT INTO {CHAIN_TABLE} VALUES (NEW.id, vaern_access_link((SELECT link FROM {CHAIN_TABLE}"
    " ORDER BY position DESC LIMIT 1), NEW.id, NEW.at, NEW.user_id, NEW.role, NEW.purpose, NEW.what,"
    " NEW.subject_ref, NEW.search_ref, NEW.view_position, NEW.request_id)); END",
    f"CREATE TRIGGER IF NOT EXISTS vaern_access_chain_no_update BEFORE UPDATE ON {CHAIN_TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the access chain is append-only'); END",
    f"CREATE TRIGGER IF NOT EXISTS vaern_access_chain_no_delete BEFORE DELETE ON {CHAIN_TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the access chain is append-only'); END",
)
_GENESIS = {
    "postgresql": f"INSERT INTO {CHAIN_TABLE}_genesis SELECT now(), coalesce(max(id), 0), count(*)"
    f" FROM vaern_access_log WHERE NOT EXISTS (SELECT 1 FROM {CHAIN_TABLE}_genesis) RETURNING linked_through",
    "sqlite": f"INSERT INTO {CHAIN_TABLE}_genesis SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), coalesce(max(id), 0),"
    f" count(*) FROM vaern_access_log WHERE NOT EXISTS (SELECT 1 FROM {CHAIN_TABLE}_genesis) RETURNING linked_through",
}


def entry_content(row: tuple[Any, ...]) -> bytes:
    """An entry's canonical encoding, from its columns after the id (in FIELDS' order)."""
    at, *rest, request_id = row
    encoded = field(microseconds(at)) + b"".join(field(value) for value in rest)
    return encoded if request_id is None else encoded + field(request_id)


def _sqlite_link(previous: bytes | None, position: int, at: str, *rest: Any) -> bytes:
    return link(previous or GENESIS, position, entry_content((datetime.fromisoformat(at), *rest)))


def install(db: Database, cur: Cursor) -> None:
    """Creates the chain and its triggers (in the access log's set-up transaction); links an older log once."""
    if db.dialect == "sqlite":
        db.add_function("vaern_access_link", 11, _sqlite_link)
    else:
        cur.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
    for statement in _POSTGRES if db.dialect == "postgresql" else _SQLITE:
        cur.execute(statement)
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
