"""Sealing, master keys, the key cache and the in-memory key store."""

import base64
import os

import pytest
from pydantic import ValidationError

from infra.key_cache import KeyCache
from infra.keys import (
    KeyDestroyed,
    MasterKey,
    MemoryKeyStore,
    UnsealError,
    citizen_subject,
    incident_subject,
    seal,
    unseal,
)
from infra.settings import Settings

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
SUBJECT = "citizen:9b1f0c52-1c1d-4c36-9a43-0c1e7b2b5a11"
REAL_SECRET = "x" * 40


def test_sealed_bytes_open_under_the_same_key_and_associated_data():
    sealed = seal(KEY, b"Jeg ved hvor du bor", b"aad")
    assert b"Jeg ved hvor du bor" not in sealed
    assert len(sealed) == 12 + len(b"Jeg ved hvor du bor") + 16  # nonce, ciphertext, tag
    assert unseal(KEY, sealed, b"aad") == b"Jeg ved hvor du bor"


def test_the_same_plaintext_seals_differently_each_time():
    assert seal(KEY, b"same", b"") != seal(KEY, b"same", b"")


@pytest.mark.parametrize(
    "opening",
    [
        lambda sealed: unseal(OTHER, sealed, b"aad"),  # a wrong key
        lambda sealed: unseal(KEY, sealed, b"other"),  # other associated data
        lambda sealed: unseal(KEY, sealed[:-1] + bytes([sealed[-1] ^ 1]), b"aad"),  # a changed byte
        lambda sealed: unseal(KEY, sealed[:20], b"aad"),  # too short
    ],
)
def test_sealed_bytes_that_do_not_open_are_a_clear_error(opening):
    with pytest.raises(UnsealError, match="wrong key|too short"):
        opening(seal(KEY, b"plaintext", b"aad"))


@pytest.mark.parametrize("key", [b"", b"x" * 16, b"x" * 33])
def test_only_a_32_byte_key_seals(key):
    with pytest.raises(ValueError, match="32 bytes"):
        seal(key, b"plaintext", b"")
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKey(key)


def test_a_master_key_wraps_a_data_key_bound_to_its_subject():
    master = MasterKey(KEY)
    wrapped = master.wrap(OTHER, SUBJECT)
    assert master.unwrap(wrapped, SUBJECT) == OTHER
    with pytest.raises(UnsealError):
        master.unwrap(wrapped, "citizen:someone-else")
    with pytest.raises(UnsealError):
        MasterKey(OTHER).unwrap(wrapped, SUBJECT)


def test_a_master_keys_id_tells_keys_apart_without_revealing_them():
    master = MasterKey(KEY)
    assert master.id == MasterKey(KEY).id != MasterKey(OTHER).id
    assert len(master.id) == 16 and KEY.hex()[:16] not in master.id
    assert KEY.hex() not in repr(master) and master.id in repr(master)


def test_a_master_keys_check_value_opens_under_it_only():
    check = MasterKey(KEY).check_value()
    assert MasterKey(KEY).opens(check)
    assert not MasterKey(OTHER).opens(check)


def test_the_master_key_is_read_from_base64_and_the_development_placeholder_is_derived():
    text = base64.b64encode(KEY).decode()
    assert MasterKey.from_settings(Settings(master_key=text)).id == MasterKey(KEY).id
    development = MasterKey.from_settings(Settings())
    assert development.id == MasterKey.from_settings(Settings()).id != MasterKey(KEY).id
    previous = Settings(previous_master_keys=f"{base64.b64encode(OTHER).decode()}, {text}")
    assert [key.id for key in MasterKey.previous(previous)] == [MasterKey(OTHER).id, MasterKey(KEY).id]


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"x" * 16).decode()])
@pytest.mark.parametrize("field", ["master_key", "previous_master_keys"])
def test_a_master_key_that_is_not_base64_of_32_bytes_is_refused_without_echoing_it(field, value):
    with pytest.raises(ValidationError, match="base64 of 32 random bytes") as refused:
        Settings(**{field: value})
    assert value not in str(refused.value)


def test_the_placeholder_master_key_is_refused_outside_development():
    with pytest.raises(ValidationError, match="VAERN_MASTER_KEY"):
        Settings(environment="production", token_secret=REAL_SECRET, citizen_key=REAL_SECRET)
    real = base64.b64encode(os.urandom(32)).decode()
    Settings(environment="production", token_secret=REAL_SECRET, citizen_key=REAL_SECRET, master_key=real)


def test_subjects_name_a_citizen_and_an_incident():
    assert citizen_subject("abc") == "citizen:abc"
    assert incident_subject("abc") == "incident:abc"


def test_the_memory_key_store_keeps_one_key_per_subject_until_destroyed():
    keys = MemoryKeyStore()
    assert keys.existing_key(SUBJECT) is None and not keys.destroyed(SUBJECT)
    key = keys.data_key(SUBJECT)
    assert len(key) == 32 and keys.data_key(SUBJECT) == key == keys.existing_key(SUBJECT)
    assert keys.data_key("incident:1") != key
    keys.destroy(SUBJECT)
    assert keys.destroyed(SUBJECT) and keys.existing_key(SUBJECT) is None
    with pytest.raises(KeyDestroyed):
        keys.data_key(SUBJECT)


def test_a_subject_destroyed_before_its_key_was_made_never_gets_one():
    keys = MemoryKeyStore()
    keys.destroy(SUBJECT)
    with pytest.raises(KeyDestroyed):
        keys.data_key(SUBJECT)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_key_cache_forgets_a_key_after_its_time():
    clock = Clock()
    cache = KeyCache(size=10, seconds=60, clock=clock)
    cache.put(SUBJECT, KEY)
    clock.now = 59.9
    assert cache.get(SUBJECT) == (True, KEY)
    clock.now = 60.0
    assert cache.get(SUBJECT) == (False, None)


def test_the_key_cache_keeps_the_most_recently_used_keys():
    cache = KeyCache(size=2, seconds=60, clock=Clock())
    cache.put("a", KEY)
    cache.put("b", KEY)
    cache.get("a")
    cache.put("c", KEY)
    assert [cache.get(name)[0] for name in "abc"] == [True, False, True]


def test_a_destroyed_key_in_the_cache_is_not_put_back_by_a_read_that_raced_it():
    cache = KeyCache(size=10, seconds=60, clock=Clock())
    cache.put(SUBJECT, None)
    cache.put(SUBJECT, KEY)
    assert cache.get(SUBJECT) == (True, None)
