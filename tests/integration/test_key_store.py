"""The data-key store on SQLite and on real PostgreSQL: first use, destruction, a wrong master key, rotation."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from infra.database import open_database
from infra.key_cache import KeyCache
from infra.keys import KeyDestroyed, KeyStore, MasterKey, WrongMasterKey, ddl
from infra.services import Services
from tests.support.secrets import secret_env

OLD_RAW, NEW_RAW = bytes(range(32)), bytes(range(100, 132))
OLD, NEW = MasterKey(OLD_RAW), MasterKey(NEW_RAW)
SUBJECT = "citizen:2f0a4d8e-7d55-4c1e-9c52-3b8f5a0e6d11"
VAERN = str(Path(sys.executable).with_name("vaern"))


@pytest.fixture
def db(settings):
    database = open_database(settings.database_url, settings.sqlite_path)
    yield database
    database.close()


def rows(db, sql, params=()):
    with db.transaction(write=False) as cur:
        return cur.execute(sql, params).fetchall()


def test_a_subjects_key_is_made_on_first_use_and_kept_wrapped(db):
    keys = KeyStore(db, OLD)
    assert keys.existing_key(SUBJECT) is None and not keys.destroyed(SUBJECT)
    key = keys.data_key(SUBJECT)
    assert len(key) == 32 and keys.data_key(SUBJECT) == key
    assert KeyStore(db, OLD).existing_key(SUBJECT) == key  # another process, another cache
    assert KeyStore(db, OLD).data_key("incident:1") != key
    ((wrapped, key_id),) = rows(db, "SELECT wrapped, master_key_id FROM vaern_data_keys WHERE subject = %s", (SUBJECT,))
    assert key_id == OLD.id and key not in bytes(wrapped)


def test_processes_making_a_subjects_first_key_at_once_all_get_the_one_stored(db):
    stores = [KeyStore(db, OLD) for _ in range(8)]  # each with its own cache, as separate processes
    start, found, errors = threading.Barrier(len(stores)), [], []

    def first_use(store: KeyStore) -> None:
        start.wait()
        try:
            found.append(store.data_key(SUBJECT))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(found) == len(stores) and len(set(found)) == 1
    assert rows(db, "SELECT COUNT(*) FROM vaern_data_keys WHERE subject = %s", (SUBJECT,)) == [(1,)]


def test_a_destroyed_key_is_overwritten_and_never_made_again(db):
    keys, elsewhere = KeyStore(db, OLD), KeyStore(db, OLD)
    keys.data_key(SUBJECT)
    keys.destroy(SUBJECT)
    for store in (keys, elsewhere, KeyStore(db, OLD)):
        assert store.destroyed(SUBJECT) and store.existing_key(SUBJECT) is None
        with pytest.raises(KeyDestroyed):
            store.data_key(SUBJECT)
    ((wrapped, key_id, destroyed_at),) = rows(
        db, "SELECT wrapped, master_key_id, destroyed_at FROM vaern_data_keys WHERE subject = %s", (SUBJECT,)
    )
    assert wrapped is None and key_id is None and destroyed_at is not None
    keys.destroy(SUBJECT)  # again: nothing changes, the first moment stays
    assert rows(db, "SELECT destroyed_at FROM vaern_data_keys WHERE subject = %s", (SUBJECT,)) == [(destroyed_at,)]


def test_a_subject_destroyed_before_its_first_use_never_gets_a_key(db):
    keys = KeyStore(db, OLD)
    keys.destroy("incident:never-used")
    with pytest.raises(KeyDestroyed):
        KeyStore(db, OLD).data_key("incident:never-used")


def test_another_process_keeps_a_destroyed_key_only_until_its_cache_entry_expires(db):
    now = [0.0]
    reader, eraser = KeyStore(db, OLD), KeyStore(db, OLD)
    reader.cache = KeyCache(size=100, seconds=60, clock=lambda: now[0])
    key = reader.data_key(SUBJECT)
    eraser.destroy(SUBJECT)
    assert reader.existing_key(SUBJECT) == key  # within its time, as docs/encryption.md says
    now[0] = 60.0
    assert reader.existing_key(SUBJECT) is None
    with pytest.raises(KeyDestroyed):
        reader.data_key(SUBJECT)


def test_a_wrong_master_key_is_refused_at_start_not_found_later_as_unreadable_data(db):
    KeyStore(db, OLD)  # set up under OLD, before any data key
    with pytest.raises(WrongMasterKey, match=OLD.id):
        KeyStore(db, NEW)
    KeyStore(db, OLD).data_key(SUBJECT)
    with pytest.raises(WrongMasterKey, match=OLD.id):
        KeyStore(db, NEW)
    with db.transaction() as cur:  # a check value that does not open under the key of its id
        cur.execute("UPDATE vaern_master_key_checks SET check_value = %s", (NEW.check_value(),))
    with pytest.raises(WrongMasterKey):
        KeyStore(db, OLD)


def test_of_processes_setting_up_an_empty_database_with_different_master_keys_one_is_refused(db):
    with db.transaction() as cur:  # the tables, as a deployment's first start makes them
        for statement in ddl(db.dialect):
            cur.execute(statement)
    start, built, refused = threading.Barrier(6), [], []

    def build(master: MasterKey) -> None:
        start.wait()
        try:
            built.append(KeyStore(db, master).master.id)
        except WrongMasterKey:
            refused.append(master.id)

    threads = [threading.Thread(target=build, args=(key,)) for key in (OLD, NEW) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(built)) == 1 and len(built) == 3 and set(refused) == {OLD.id, NEW.id} - set(built)
    assert rows(db, "SELECT key_id FROM vaern_master_key_checks") == [(built[0],)]


def test_during_a_rotation_keys_under_the_earlier_master_key_are_read_and_new_ones_wrapped_under_the_new(db):
    key = KeyStore(db, OLD).data_key(SUBJECT)
    rotating = KeyStore(db, NEW, [OLD])
    assert rotating.data_key(SUBJECT) == key
    rotating.data_key("incident:new")
    assert rows(db, "SELECT master_key_id FROM vaern_data_keys WHERE subject = %s", ("incident:new",)) == [(NEW.id,)]


def test_rewrapping_keeps_every_key_and_the_earlier_master_key_is_no_longer_needed(db):
    old = KeyStore(db, OLD)
    keys = {f"citizen:{n}": old.data_key(f"citizen:{n}") for n in range(25)}
    old.destroy("citizen:7")
    del keys["citizen:7"]
    seen: list[tuple[int, int]] = []
    assert old.rewrap(NEW, lambda done, total: seen.append((done, total))) == 24
    assert seen[-1] == (24, 24) and len(seen) == 24
    assert rows(db, "SELECT DISTINCT master_key_id FROM vaern_data_keys WHERE wrapped IS NOT NULL") == [(NEW.id,)]
    after = KeyStore(db, NEW)  # no earlier master key given
    assert {subject: after.data_key(subject) for subject in keys} == keys
    assert after.destroyed("citizen:7")
    with pytest.raises(WrongMasterKey):
        KeyStore(db, OLD)
    assert after.rewrap(NEW) == 0  # run again: nothing left to do


def test_an_interrupted_rewrap_is_finished_by_running_it_again(db):
    old = KeyStore(db, OLD)
    keys = {f"incident:{n}": old.data_key(f"incident:{n}") for n in range(10)}

    def stop_after_four(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        KeyStore(db, OLD).rewrap(NEW, stop_after_four)
    with pytest.raises(WrongMasterKey):
        KeyStore(db, NEW)  # six keys are still under OLD
    assert KeyStore(db, NEW, [OLD]).rewrap(NEW) == 6
    after = KeyStore(db, NEW)
    assert {subject: after.data_key(subject) for subject in keys} == keys


def test_services_refuse_to_start_with_a_master_key_other_than_the_stores(settings):
    Services.build(settings).close()
    other = settings.model_copy(update={"master_key": SecretStr(base64.b64encode(NEW_RAW).decode())})
    with pytest.raises(WrongMasterKey):
        Services.build(other)


def test_the_rotate_master_command_rewraps_under_a_key_read_from_the_environment_or_a_file(settings, db, tmp_path):
    key = KeyStore.from_settings(db, settings).data_key(SUBJECT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    env |= {"VAERN_DATA_DIR": str(settings.data_dir), "VAERN_LOG_LEVEL": "WARNING", **secret_env(settings)}
    env |= {"VAERN_DATABASE_URL": settings.database_url} if settings.database_url else {}
    new_text = base64.b64encode(NEW_RAW).decode()
    done = subprocess.run([VAERN, "keys", "rotate-master"], env={**env, "VAERN_NEW_MASTER_KEY": new_text},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"rewrapped 1 data keys under master key {NEW.id}" in done.stdout and "1/1" in done.stderr
    assert new_text not in done.stdout + done.stderr
    assert KeyStore(db, NEW).data_key(SUBJECT) == key
    back = tmp_path / "master.key"
    back.write_text(base64.b64encode(OLD_RAW).decode() + "\n")
    env |= {"VAERN_MASTER_KEY": new_text}
    done = subprocess.run([VAERN, "keys", "rotate-master", "--new-key-file", str(back)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert KeyStore(db, OLD).data_key(SUBJECT) == key


def test_the_rotate_master_command_refuses_a_wrong_master_key_in_one_line(settings, db):
    KeyStore(db, OLD).data_key(SUBJECT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    env |= {"VAERN_DATA_DIR": str(settings.data_dir), **secret_env(settings)}
    env |= {"VAERN_MASTER_KEY": base64.b64encode(NEW_RAW).decode()}
    env |= {"VAERN_DATABASE_URL": settings.database_url} if settings.database_url else {}
    done = subprocess.run([VAERN, "keys", "rotate-master"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"wrapped under master key(s) {OLD.id}" in done.stderr


def test_warming_reads_every_live_key_into_the_cache_in_one_go(db):
    made = KeyStore(db, OLD)
    keys = {subject: made.data_key(subject) for subject in ("citizen:a", "citizen:b", "incident:c")}
    made.destroy("citizen:b")
    other = KeyStore(db, OLD)  # another process, its cache empty
    assert other.warm() == 2
    with db.transaction() as cur:  # had the keys been read one by one from here on, they would be gone
        cur.execute("UPDATE vaern_data_keys SET wrapped = NULL WHERE subject <> 'citizen:b'")
    assert other.existing_key("citizen:a") == keys["citizen:a"]
    assert other.existing_key("incident:c") == keys["incident:c"]
    assert other.existing_key("citizen:b") is None


def test_a_warmed_key_destroyed_before_first_use_reads_destroyed(db):
    made = KeyStore(db, OLD)
    made.data_key("citizen:a")
    other = KeyStore(db, OLD)
    assert other.warm() == 1
    other.destroy("citizen:a")  # read by `warm`, not yet unwrapped: the destruction wins
    assert other.existing_key("citizen:a") is None


def test_what_warm_read_is_not_used_longer_than_the_cache_keeps_a_key(db):
    made = KeyStore(db, OLD)
    made.data_key("citizen:a")
    other = KeyStore(db, OLD, cache_seconds=0.0)
    assert other.warm() == 1
    made.destroy("citizen:a")  # by another process: this one learns of it once its warmed copy is too old
    assert other.existing_key("citizen:a") is None


def test_reading_ahead_reads_a_batchs_missing_keys_at_once_however_many(db):
    made = KeyStore(db, OLD)
    subjects = [f"citizen:{n}" for n in range(1203)]  # more than one statement's worth
    keys = {subject: made.data_key(subject) for subject in subjects}
    made.destroy("citizen:7")
    other = KeyStore(db, OLD)  # another process, its cache empty
    other.read_ahead([*subjects, "citizen:never-made"])
    with db.transaction() as cur:  # had the keys been read one by one from here on, they would be gone
        cur.execute("UPDATE vaern_data_keys SET wrapped = NULL")
    assert other.existing_key("citizen:7") is None
    assert all(other.existing_key(s) == keys[s] for s in subjects if s != "citizen:7")
    assert other.existing_key("citizen:never-made") is None


def test_keys_made_at_once_for_many_subjects_are_used_and_existing_or_destroyed_ones_kept(db):
    earlier = KeyStore(db, OLD)
    kept = earlier.data_key("citizen:1")
    earlier.destroy("citizen:2")
    store = KeyStore(db, OLD)
    subjects = [f"citizen:{n}" for n in range(450)]  # more than one statement's worth
    store.create_all(subjects)
    with db.transaction() as cur:  # had any key been made (or read) one by one from here on, it would be gone
        cur.execute("UPDATE vaern_data_keys SET wrapped = NULL")
    made = {subject: store.data_key(subject) for subject in subjects if subject != "citizen:2"}
    assert made["citizen:1"] == kept and len(set(made.values())) == len(made) and store.existing_key("citizen:2") is None
    with pytest.raises(KeyDestroyed):
        store.data_key("citizen:2")
