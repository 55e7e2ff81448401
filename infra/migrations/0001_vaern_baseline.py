"""The durable tables as the release before migrations created them: the access log with its hash chain and
the lookups it counts, blobs, statistics releases and followers' positions.

Every statement holds on a database that release (or an earlier one) already made: tables and indexes
IF NOT EXISTS, functions replaced, triggers dropped and made again, and the columns later releases added
(ADD COLUMN IF NOT EXISTS; on SQLite, added when missing). The SQL is frozen here: a later change is a
new migration, never an edit of this one.
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


# An access-log entry as infra/access_chain.py encodes it (the request id last, only when there is one).
_MICROSECONDS = ("(EXTRACT(EPOCH FROM date_trunc('second', NEW.at)))::bigint * 1000000"
                 " + EXTRACT(MICROSECONDS FROM NEW.at)::bigint % 1000000")
_CONTENT = " || ".join([
    _integer(_MICROSECONDS),
    *(_text(f"NEW.{column}") for column in ("user_id", "role", "purpose", "what", "subject_ref", "search_ref")),
    _integer("NEW.view_position"),
    f"CASE WHEN NEW.request_id IS NULL THEN ''::bytea ELSE {_text('NEW.request_id')} END",
])

# A front-desk lookup's entry, answered or not (not one refused for the hourly limit), counts towards the limit.
COUNTED = ("NEW.purpose = 'entry_check' AND NEW.what IN ('front_desk_lookup', 'front_desk_lookup_unanswered')"
           " AND NEW.search_ref IS NOT NULL")

POSTGRESQL = (
    # The access log, append-only whatever connects.
    "CREATE TABLE IF NOT EXISTS vaern_access_log (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL,"
    " user_id TEXT NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL,"
    " subject_ref TEXT, search_ref TEXT, view_position BIGINT)",
    "ALTER TABLE vaern_access_log ADD COLUMN IF NOT EXISTS view_position BIGINT",
    "ALTER TABLE vaern_access_log ADD COLUMN IF NOT EXISTS request_id TEXT",
    "CREATE INDEX IF NOT EXISTS vaern_access_log_subject ON vaern_access_log (subject_ref, at)",
    "CREATE OR REPLACE FUNCTION vaern_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$",
    "DROP TRIGGER IF EXISTS vaern_access_log_append_only ON vaern_access_log",
    "CREATE TRIGGER vaern_access_log_append_only BEFORE UPDATE OR DELETE ON vaern_access_log"
    " FOR EACH ROW EXECUTE FUNCTION vaern_access_log_append_only()",
    # Its hash chain: one BEFORE trigger draws the entry's id under the tail's lock and appends its link.
    "CREATE TABLE IF NOT EXISTS vaern_access_chain (position BIGINT PRIMARY KEY, link BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS vaern_access_chain_genesis (started_at TIMESTAMPTZ NOT NULL,"
    " linked_through BIGINT NOT NULL, linked BIGINT NOT NULL)",
    "CREATE OR REPLACE FUNCTION vaern_access_log_link() RETURNS trigger LANGUAGE plpgsql AS $$"
    f" DECLARE previous bytea; BEGIN PERFORM pg_advisory_xact_lock({LOCK_KEY});"
    " NEW.id := nextval('vaern_access_log_id_seq'::regclass);"
    " SELECT link INTO previous FROM vaern_access_chain ORDER BY position DESC LIMIT 1;"
    f" INSERT INTO vaern_access_chain VALUES (NEW.id, sha256(coalesce(previous, '{GENESIS_LINK}'::bytea)"
    f" || int8send(NEW.id) || {_CONTENT})); RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS vaern_access_log_link ON vaern_access_log",
    "CREATE TRIGGER vaern_access_log_link BEFORE INSERT ON vaern_access_log"
    " FOR EACH ROW EXECUTE FUNCTION vaern_access_log_link()",
    "DROP TRIGGER IF EXISTS vaern_access_chain_append_only ON vaern_access_chain",
    "CREATE TRIGGER vaern_access_chain_append_only BEFORE UPDATE OR DELETE ON vaern_access_chain"
    " FOR EACH ROW EXECUTE FUNCTION vaern_access_log_append_only()",
    "DROP TRIGGER IF EXISTS vaern_access_chain_no_truncate ON vaern_access_chain",
    "CREATE TRIGGER vaern_access_chain_no_truncate BEFORE TRUNCATE ON vaern_access_chain"
    " FOR EACH STATEMENT EXECUTE FUNCTION vaern_access_log_append_only()",
    # Each user's first lookup of each citizen per clock hour (infra/lookup_watch.py), kept by a trigger on
    # the log: BEFORE, and named to fire before the chain's trigger, whose lock it need not wait for.
    "CREATE TABLE IF NOT EXISTS vaern_lookup_firsts (user_id TEXT NOT NULL, window_start TIMESTAMPTZ NOT NULL,"
    " search_ref TEXT NOT NULL, PRIMARY KEY (user_id, window_start, search_ref))",
    "CREATE OR REPLACE FUNCTION vaern_lookup_first() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO vaern_lookup_firsts VALUES (NEW.user_id, date_trunc('hour', NEW.at AT TIME ZONE 'UTC')"
    " AT TIME ZONE 'UTC', NEW.search_ref) ON CONFLICT DO NOTHING; RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS vaern_access_log_count ON vaern_access_log",
    f"CREATE TRIGGER vaern_access_log_count BEFORE INSERT ON vaern_access_log FOR EACH ROW WHEN ({COUNTED})"
    " EXECUTE FUNCTION vaern_lookup_first()",
    # Documents by SHA-256, sealed under their subject's key (NULL subject: stored before sealing began).
    "CREATE TABLE IF NOT EXISTS vaern_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL,"
    " size BIGINT NOT NULL, content BYTEA NOT NULL, stored_at TIMESTAMPTZ NOT NULL, subject TEXT)",
    "ALTER TABLE vaern_blobs ADD COLUMN IF NOT EXISTS subject TEXT",
    # Every figure set given out.
    "CREATE TABLE IF NOT EXISTS statistics_releases (release_id TEXT PRIMARY KEY, period_from TEXT NOT NULL,"
    " period_to TEXT NOT NULL, position BIGINT NOT NULL, min_cell INTEGER NOT NULL, requested_by TEXT NOT NULL,"
    " requested_at TIMESTAMPTZ NOT NULL, sha256 TEXT NOT NULL, stocks_at TIMESTAMPTZ, figures TEXT)",
    "ALTER TABLE statistics_releases ADD COLUMN IF NOT EXISTS stocks_at TIMESTAMPTZ",
    "ALTER TABLE statistics_releases ADD COLUMN IF NOT EXISTS figures TEXT",
    # How far each follower (view, relay, rebuild) has got, and how it fares.
    "CREATE TABLE IF NOT EXISTS vaern_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL,"
    " updated_at TIMESTAMPTZ, state TEXT, error TEXT, stopped_at BIGINT, alive_at TIMESTAMPTZ,"
    " current_at TIMESTAMPTZ)",
    *(f"ALTER TABLE vaern_positions ADD COLUMN IF NOT EXISTS {column}"
      for column in ("state TEXT", "error TEXT", "stopped_at BIGINT", "alive_at TIMESTAMPTZ", "current_at TIMESTAMPTZ")),
)

SQLITE = (
    "CREATE TABLE IF NOT EXISTS vaern_access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TIMESTAMPTZ NOT NULL,"
    " user_id TEXT NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL,"
    " subject_ref TEXT, search_ref TEXT, view_position BIGINT)",
    "CREATE INDEX IF NOT EXISTS vaern_access_log_subject ON vaern_access_log (subject_ref, at)",
    "CREATE TRIGGER IF NOT EXISTS vaern_access_log_no_update BEFORE UPDATE ON vaern_access_log"
    " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS vaern_access_log_no_delete BEFORE DELETE ON vaern_access_log"
    " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    "CREATE TABLE IF NOT EXISTS vaern_access_chain (position INTEGER PRIMARY KEY, link BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS vaern_access_chain_genesis (started_at TEXT NOT NULL, linked_through INTEGER NOT NULL,"
    " linked INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS vaern_access_chain_no_update BEFORE UPDATE ON vaern_access_chain"
    " BEGIN SELECT RAISE(ABORT, 'the access chain is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS vaern_access_chain_no_delete BEFORE DELETE ON vaern_access_chain"
    " BEGIN SELECT RAISE(ABORT, 'the access chain is append-only'); END",
    "CREATE TABLE IF NOT EXISTS vaern_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL,"
    " size BIGINT NOT NULL, content BLOB NOT NULL, stored_at TIMESTAMPTZ NOT NULL, subject TEXT)",
    "CREATE TABLE IF NOT EXISTS statistics_releases (release_id TEXT PRIMARY KEY, period_from TEXT NOT NULL,"
    " period_to TEXT NOT NULL, position BIGINT NOT NULL, min_cell INTEGER NOT NULL, requested_by TEXT NOT NULL,"
    " requested_at TIMESTAMPTZ NOT NULL, sha256 TEXT NOT NULL, stocks_at TIMESTAMPTZ, figures TEXT)",
    "CREATE TABLE IF NOT EXISTS vaern_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL,"
    " updated_at TIMESTAMPTZ, state TEXT, error TEXT, stopped_at BIGINT, alive_at TIMESTAMPTZ,"
    " current_at TIMESTAMPTZ)",
)
# SQLite has no ADD COLUMN IF NOT EXISTS: the columns later releases added, added where missing.
SQLITE_ADDED = {
    "vaern_access_log": ("view_position BIGINT", "request_id TEXT"),
    "vaern_blobs": ("subject TEXT",),
    "statistics_releases": ("stocks_at TIMESTAMPTZ", "figures TEXT"),
    "vaern_positions": ("state TEXT", "error TEXT", "stopped_at BIGINT", "alive_at TIMESTAMPTZ", "current_at TIMESTAMPTZ"),
}
# Made after the columns: it passes the request id. The function it calls is the connection's own
# (infra/access_chain.py registers it), so a connection without it cannot add entries at all.
SQLITE_LINK = (
    "DROP TRIGGER IF EXISTS vaern_access_log_link",
    "CREATE TRIGGER vaern_access_log_link AFTER INSERT ON vaern_access_log BEGIN"
    " INSERT INTO vaern_access_chain VALUES (NEW.id, vaern_access_link((SELECT link FROM vaern_access_chain"
    " ORDER BY position DESC LIMIT 1), NEW.id, NEW.at, NEW.user_id, NEW.role, NEW.purpose, NEW.what,"
    " NEW.subject_ref, NEW.search_ref, NEW.view_position, NEW.request_id)); END",
    # The lookups counted per user and hour, with the entry that counted each (infra/lookup_watch.py).
    "CREATE TABLE IF NOT EXISTS vaern_lookup_firsts (user_id TEXT NOT NULL, window_start TIMESTAMPTZ NOT NULL,"
    " search_ref TEXT NOT NULL, access_id INTEGER NOT NULL, PRIMARY KEY (user_id, window_start, search_ref))",
    f"CREATE TRIGGER IF NOT EXISTS vaern_access_log_count AFTER INSERT ON vaern_access_log FOR EACH ROW WHEN {COUNTED}"
    " BEGIN INSERT OR IGNORE INTO vaern_lookup_firsts VALUES (NEW.user_id,"
    " substr(NEW.at, 1, 13) || ':00:00.000000+00:00', NEW.search_ref, NEW.id); END",
)


def _sqlite(cursor):
    for statement in SQLITE:
        cursor.execute(statement)
    for table, columns in SQLITE_ADDED.items():
        present = {row[1] for row in cursor.execute(f"PRAGMA table_info({table})").fetchall()}
        for column in columns:
            if column.split()[0] not in present:
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    for statement in SQLITE_LINK:
        cursor.execute(statement)


def apply(conn):
    cursor = conn.cursor()
    if isinstance(conn, sqlite3.Connection):
        _sqlite(cursor)
    else:
        for statement in POSTGRESQL:
            cursor.execute(statement)


steps = [step(apply)]
