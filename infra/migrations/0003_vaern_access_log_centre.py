"""The centre a front-desk lookup was answered for, kept with its access-log entry, and linked in the chain.

A guard is shown the meetings of their own centre; legal review rebuilds that answer from the entry, so
the entry keeps the centre (`*` for a guard bound to none, who was shown every centre's). Entries from
before have none (NULL). The chain encodes the centre after the request id, only when there is one, the
request id then always (a missing one as NULL): links made before still verify, and the length-prefixed
fields cannot be mistaken for each other (infra/access_chain.py). The SQL is frozen here.
"""

import sqlite3

from yoyo import step

GENESIS_LINK = "\\x" + "00" * 32  # infra/chain.py's GENESIS: the link before the first entry
LOCK_KEY = 7_661_657_200_001  # infra/access_chain.py's lock on the access log's tail


def _text(column):
    return (f"CASE WHEN {column} IS NULL THEN '\\xffffffff'::bytea"
            f" ELSE int4send(octet_length(convert_to({column}, 'UTF8'))) || convert_to({column}, 'UTF8') END")


def _integer(expression):
    return (f"CASE WHEN ({expression}) IS NULL THEN '\\xffffffff'::bytea"
            f" ELSE '\\x00000008'::bytea || int8send({expression}) END")


_MICROSECONDS = ("(EXTRACT(EPOCH FROM date_trunc('second', NEW.at)))::bigint * 1000000"
                 " + EXTRACT(MICROSECONDS FROM NEW.at)::bigint % 1000000")
_CONTENT = " || ".join([
    _integer(_MICROSECONDS),
    *(_text(f"NEW.{column}") for column in ("user_id", "role", "purpose", "what", "subject_ref", "search_ref")),
    _integer("NEW.view_position"),
    f"CASE WHEN NEW.centre IS NOT NULL THEN {_text('NEW.request_id')} || {_text('NEW.centre')}"
    f" WHEN NEW.request_id IS NULL THEN ''::bytea ELSE {_text('NEW.request_id')} END",
])

POSTGRESQL = (
    "ALTER TABLE vaern_access_log ADD COLUMN IF NOT EXISTS centre TEXT",
    "CREATE OR REPLACE FUNCTION vaern_access_log_link() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" DECLARE previous bytea; BEGIN PERFORM pg_advisory_xact_lock({LOCK_KEY});"
    " NEW.id := nextval('vaern_access_log_id_seq'::regclass);"
    " SELECT link INTO previous FROM vaern_access_chain ORDER BY position DESC LIMIT 1;"
    f" INSERT INTO vaern_access_chain VALUES (NEW.id, sha256(coalesce(previous, '{GENESIS_LINK}'::bytea)"
    f" || int8send(NEW.id) || {_CONTENT})); RETURN NEW; END $$",
)

# The trigger passes the centre too; the function it calls is the connection's own (infra/access_chain.py).
SQLITE_LINK = (
    "DROP TRIGGER IF EXISTS vaern_access_log_link",
    "CREATE TRIGGER vaern_access_log_link AFTER INSERT ON vaern_access_log BEGIN"
    " INSERT INTO vaern_access_chain VALUES (NEW.id, vaern_access_link((SELECT link FROM vaern_access_chain"
    " ORDER BY position DESC LIMIT 1), NEW.id, NEW.at, NEW.user_id, NEW.role, NEW.purpose, NEW.what,"
    " NEW.subject_ref, NEW.search_ref, NEW.view_position, NEW.request_id, NEW.centre)); END",
)


def apply(conn):
    cursor = conn.cursor()
    if isinstance(conn, sqlite3.Connection):
        present = {row[1] for row in cursor.execute("PRAGMA table_info(vaern_access_log)").fetchall()}
        if "centre" not in present:
            cursor.execute("ALTER TABLE vaern_access_log ADD COLUMN centre TEXT")
        statements = SQLITE_LINK
    else:
        statements = POSTGRESQL
    for statement in statements:
        cursor.execute(statement)


steps = [step(apply)]
