"""The event log's and the access log's hash chains, on SQLite and PostgreSQL: what each kind of tampering shows as.

Tampering is done the way an intruder with the database's rights would: straight SQL on the tables,
and (as the database superuser, or the owner of the SQLite file) with the chains' triggers out of
the way. Every case must be found at the position where it was done, by what kind of break it is.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.values import Actor, Role
from infra import checkpoint as checkpoints
from infra.access_log import Access, Purpose
from infra.chain import GENESIS, link
from infra.event_chain import event_content
from infra.services import Services
from infra.tamper import EVENT_POSITION, EVENTS_TABLE, verify
from tests.support.cases import report_incident
from tests.support.secrets import secret_env

GUARD = Actor(user_id="g1", name="Gitte Vagt", role=Role.GUARD)


@pytest.fixture
def services(settings):
    built = Services.build(settings)
    yield built
    built.close()


@pytest.fixture
def logged(services):
    """Twelve incidents reported (an event each) and four reads in the access log."""
    for _ in range(12):
        report_incident(services.app, uuid4())
    for n in range(4):
        services.access.record(Access(GUARD, Purpose.ENTRY_CHECK, f"read_{n}", subject_ref=uuid4()))
    return services


def events(services) -> list[int]:
    dialect = services.db.dialect
    column = EVENT_POSITION[dialect]
    return [r[0] for r in services.db.read(f"SELECT {column} FROM {EVENTS_TABLE[dialect]} ORDER BY {column}")]


def entries(services) -> list[int]:
    return [r[0] for r in services.db.read("SELECT id FROM vaern_access_log ORDER BY id")]


def as_superuser(services, *statements: tuple[str, tuple]) -> None:
    """Runs statements with the append-only triggers out of the way, as the database's owner could."""
    with services.db.transaction() as cur:
        if services.db.dialect == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
        else:
            for name in ("vaern_event_chain_no_delete", "vaern_access_log_link", "vaern_access_log_no_update", "vaern_access_log_no_delete",
                         "vaern_access_chain_no_delete", "vaern_access_chain_no_update"):
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement, params in statements:
            cur.execute(statement, params)


def event_sql(services, statement: str) -> str:
    dialect = services.db.dialect
    return statement.format(events=EVENTS_TABLE[dialect], pos=EVENT_POSITION[dialect])


def broken(services, log: str = "events", checkpoint=None):
    found = verify(services.db, checkpoint, size=3)  # small batches: the walk crosses batch edges
    return found[log].broken


def test_the_walk_reads_the_table_the_librarys_recorder_writes(services):
    assert services.app.recorder.events_table_name == EVENTS_TABLE[services.db.dialect]


def test_an_untouched_log_verifies_intact_up_to_its_head(logged):
    found = verify(logged.db, size=4)
    assert found["events"].broken is None and found["events"].head == events(logged)[-1]
    assert found["events"].count == len(events(logged)) == 12
    assert found["access_log"].broken is None and found["access_log"].head == entries(logged)[-1]
    assert found["access_log"].count == 4


def test_one_altered_byte_of_an_events_stored_state_is_found_at_its_position(logged):
    position = events(logged)[5]
    state = bytes(logged.db.read(event_sql(logged, "SELECT state FROM {events} WHERE {pos} = %s"), (position,))[0][0])
    altered = state[:3] + bytes([state[3] ^ 1]) + state[4:]
    with logged.db.transaction() as cur:
        cur.execute(event_sql(logged, "UPDATE {events} SET state = %s WHERE {pos} = %s"), (altered, position))
    found = broken(logged)
    assert (found.position, found.kind) == (position, "altered")


def test_a_deleted_event_is_found_missing_at_its_position(logged):
    position = events(logged)[3]
    with logged.db.transaction() as cur:
        cur.execute(event_sql(logged, "DELETE FROM {events} WHERE {pos} = %s"), (position,))
    found = broken(logged)
    assert (found.position, found.kind) == (position, "missing")


def test_two_events_with_their_contents_swapped_are_found_reordered(logged):
    first, second = events(logged)[2], events(logged)[7]
    columns = "originator_id, originator_version, topic, state"
    select = event_sql(logged, f"SELECT {columns} FROM {{events}} WHERE {{pos}} = %s")
    update = event_sql(logged, "UPDATE {events} SET originator_id = %s, originator_version = %s, topic = %s,"
                               " state = %s WHERE {pos} = %s")
    a, b = logged.db.read(select, (first,))[0], logged.db.read(select, (second,))[0]
    with logged.db.transaction() as cur:  # the first out of the key's way, then each given the other's contents
        cur.execute(event_sql(logged, "UPDATE {events} SET originator_version = -1 WHERE {pos} = %s"), (first,))
        cur.execute(update, (*a, second))
        cur.execute(update, (*b, first))
    found = broken(logged)
    assert (found.position, found.kind) == (first, "reordered")
    assert str(second) in found.detail


def test_a_cut_off_tail_is_found_truncated_and_with_its_links_cut_too_by_the_checkpoint(logged):
    key = Ed25519PrivateKey.generate()
    signed = checkpoints.sign({n: (w.head, w.link) for n, w in verify(logged.db).items()}, key)
    heads = {n: (c["position"], bytes.fromhex(c["link"])) for n, c in signed["checkpoint"]["chains"].items()}
    cut = events(logged)[-3]
    with logged.db.transaction() as cur:
        cur.execute(event_sql(logged, "DELETE FROM {events} WHERE {pos} >= %s"), (cut,))
    found = broken(logged)
    assert (found.position, found.kind) == (cut, "truncated")
    as_superuser(logged, ("DELETE FROM vaern_event_chain WHERE position >= %s", (cut,)))
    assert broken(logged) is None  # consistent again, as far as the database alone can tell
    found = broken(logged, checkpoint=heads)
    assert found.kind == "truncated" and str(heads["events"][0]) in found.detail


def test_a_rewritten_chain_passes_alone_but_not_against_a_signed_checkpoint(logged):
    key = Ed25519PrivateKey.generate()
    heads = {n: (w.head, w.link) for n, w in verify(logged.db).items()}
    path_heads = checkpoints.sign(heads, key)["checkpoint"]["chains"]
    assert path_heads["events"]["position"] == heads["events"][0]
    target = events(logged)[4]
    rows = logged.db.read(event_sql(logged, "SELECT {pos}, originator_id, originator_version, topic, state"
                                            " FROM {events} ORDER BY {pos}"))
    previous, rewritten = GENESIS, []
    for position, originator, version, topic, state in rows:
        state = b"rewritten" if position == target else bytes(state)
        previous = link(previous, position, event_content(originator, version, topic, state))
        rewritten.append((position, previous))
    as_superuser(
        logged,
        (event_sql(logged, "UPDATE {events} SET state = %s WHERE {pos} = %s"), (b"rewritten", target)),
        ("DELETE FROM vaern_event_chain", ()),
        *(("INSERT INTO vaern_event_chain VALUES (%s, %s)", row) for row in rewritten),
    )
    assert broken(logged) is None
    found = broken(logged, checkpoint=heads)
    assert (found.position, found.kind) == (heads["events"][0], "rewritten")


def test_a_forged_checkpoint_is_rejected_and_a_signed_one_with_another_link_does_not_match(logged, tmp_path):
    key, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    heads = {n: (w.head, w.link) for n, w in verify(logged.db).items()}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(checkpoints.sign(heads, forger)))
    with pytest.raises(checkpoints.CheckpointError, match="not validly signed"):
        checkpoints.read(forged, key.public_key())
    wrong = {**heads, "events": (heads["events"][0], bytes(32))}
    found = broken(logged, checkpoint=wrong)
    assert (found.position, found.kind) == (heads["events"][0], "rewritten")


def test_concurrent_writers_make_one_unbroken_chain(services):
    def write(n: int) -> None:
        report_incident(services.app, uuid4())
        services.access.record(Access(GUARD, Purpose.ENTRY_CHECK, f"read_{n}"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, range(36)))
    found = verify(services.db, size=7)
    assert found["events"].broken is None and found["events"].count == len(events(services))
    assert found["access_log"].broken is None and found["access_log"].count == 36


def test_an_altered_or_deleted_access_log_entry_is_found_at_its_position(logged):
    altered, deleted = entries(logged)[1], entries(logged)[2]
    as_superuser(logged, ("UPDATE vaern_access_log SET user_id = 'someone else' WHERE id = %s", (altered,)))
    found = broken(logged, "access_log")
    assert (found.position, found.kind) == (altered, "altered")
    as_superuser(logged, ("UPDATE vaern_access_log SET user_id = 'g1' WHERE id = %s", (altered,)),
                 ("DELETE FROM vaern_access_log WHERE id = %s", (deleted,)))
    found = broken(logged, "access_log")
    assert (found.position, found.kind) == (deleted, "missing")


def test_a_lookups_centre_altered_or_blanked_is_found_at_its_position(logged):
    logged.access.record(Access(GUARD, Purpose.ENTRY_CHECK, "front_desk_lookup", subject_ref=uuid4(), centre="JKA"))
    lookup = entries(logged)[-1]
    assert broken(logged, "access_log") is None
    for centre in ("JKI", None):  # another centre's meetings, or the answer made to look older than it is
        as_superuser(logged, ("UPDATE vaern_access_log SET centre = %s WHERE id = %s", (centre, lookup)))
        found = broken(logged, "access_log")
        assert (found.position, found.kind) == (lookup, "altered")


def test_an_access_log_entry_slipped_in_around_the_chain_is_found_unlinked(logged):
    as_superuser(logged, ("INSERT INTO vaern_access_log (id, at, user_id, role, purpose, what)"
                          " SELECT max(id) + 100, max(at), 'x', 'guard', 'entry_check', 'x' FROM vaern_access_log", ()))
    found = broken(logged, "access_log")
    assert found.kind == "unlinked" and found.position == entries(logged)[-1]


# The access log as releases before its hash chain made it (before request ids too).
PRE_CHAIN_ACCESS_LOG = {
    dialect: f"CREATE TABLE vaern_access_log (id {key}, at TIMESTAMPTZ NOT NULL, user_id TEXT NOT NULL,"
    " role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL, subject_ref TEXT, search_ref TEXT,"
    " view_position BIGINT)"
    for dialect, key in (("postgresql", "BIGSERIAL PRIMARY KEY"), ("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT"))
}


def test_a_store_from_before_the_chains_is_linked_once_from_a_recorded_genesis(settings):
    from datetime import datetime, timezone

    from domain.application import Vaern
    from infra.database import open_database
    from infra.eventstore import event_store_env

    env = {k: v for k, v in event_store_env(settings).items() if k != "APPLICATION_RECORDER_TOPIC"}
    for _ in range(3):
        report_incident(Vaern(env=env), uuid4())  # written by a Vaern without the chain
    db = open_database(settings.database_url, settings.sqlite_path)
    with db.transaction() as cur:
        cur.execute(PRE_CHAIN_ACCESS_LOG[db.dialect])
        cur.execute("INSERT INTO vaern_access_log (at, user_id, role, purpose, what) VALUES (%s, %s, %s, %s, %s)",
                    (datetime.now(timezone.utc), "g1", "guard", "entry_check", "old_read"))
    db.close()
    services = Services.build(settings)
    try:
        report_incident(services.app, uuid4())
        found = verify(services.db)
        assert (found["events"].broken, found["events"].count) == (None, 4)
        assert (found["access_log"].broken, found["access_log"].count) == (None, 1)
        genesis = services.db.read("SELECT linked_through, linked FROM vaern_event_chain_genesis")
        assert [tuple(row) for row in genesis] == [(3, 3)]
        assert [tuple(r) for r in services.db.read("SELECT linked FROM vaern_access_chain_genesis")] == [(1,)]
    finally:
        services.close()


def test_vaern_verify_and_checkpoint_on_the_command_line(logged, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization

    key_file, out = tmp_path / "key.pem", tmp_path / "checkpoint.json"
    key_file.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    settings = logged.settings
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "VAERN_DATA_DIR": str(settings.data_dir),
           **secret_env(settings), "VAERN_DATABASE_URL": settings.database_url or "", "VAERN_CHECKPOINT_KEY_FILE": str(key_file)}
    vaern = [sys.executable, "-c", "from infra.cli import main; main()"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*vaern, *args], env=env, capture_output=True, text=True, timeout=60)

    assert run("checkpoint", "--out", str(out)).returncode == 0
    (tmp_path / "public.pem").write_text(run("checkpoint", "--public-key").stdout)
    intact = run("verify", "--checkpoint", str(out), "--public-key", str(tmp_path / "public.pem"))
    assert intact.returncode == 0, intact.stderr
    assert f"events: intact up to {events(logged)[-1]}" in intact.stdout
    position = events(logged)[6]
    with logged.db.transaction() as cur:
        cur.execute(event_sql(logged, "DELETE FROM {events} WHERE {pos} = %s"), (position,))
    found = run("verify", "--checkpoint", str(out))
    assert found.returncode == 1
    assert f"events: BROKEN at position {position}: missing" in found.stdout


def test_access_log_entries_swapped_or_cut_off_are_found_where_it_was_done(logged):
    ids = entries(logged)
    columns = "at, user_id, role, purpose, what, subject_ref, search_ref, view_position"
    first, second = (logged.db.read(f"SELECT {columns} FROM vaern_access_log WHERE id = %s", (i,))[0] for i in ids[:2])
    update = ("UPDATE vaern_access_log SET at = %s, user_id = %s, role = %s, purpose = %s, what = %s,"
              " subject_ref = %s, search_ref = %s, view_position = %s WHERE id = %s")
    as_superuser(logged, (update, (*second, ids[0])), (update, (*first, ids[1])))
    found = broken(logged, "access_log")
    assert (found.position, found.kind) == (ids[0], "reordered")
    as_superuser(logged, (update, (*first, ids[0])), (update, (*second, ids[1])),
                 ("DELETE FROM vaern_access_log WHERE id >= %s", (ids[2],)))
    found = broken(logged, "access_log")
    assert (found.position, found.kind) == (ids[2], "truncated")
