"""Per-data-subject keys for encryption at rest (envelope encryption); see docs/encryption.md.

Each data subject ("citizen:<uuid>", "incident:<uuid>", ...: opaque strings, never parsed here) has
its own random 32-byte data key. Data keys are stored wrapped (AES-256-GCM) under the master key
from the settings, in `vaern_data_keys` in the view database. Destroying a subject's key makes
everything sealed under it unreadable for good: that is how its data is erased without rewriting
the append-only event log. Sealing and the master key are in infra/sealing.py, re-exported here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.database import Cursor, Database
from infra.key_cache import KeyCache
from infra.master_keys import MasterKeyRing, WrongMasterKey
from infra.sealing import KEY_BYTES, MasterKey, UnsealError, seal, unseal
from infra.settings import Settings

__all__ = [
    "KeyDestroyed", "KeyStore", "Keys", "MasterKey", "MemoryKeyStore", "UnsealError", "WrongMasterKey",
    "citizen_subject", "incident_subject", "seal", "unseal",
]
_BINARY = {"postgresql": "BYTEA", "sqlite": "BLOB"}


class KeyDestroyed(LookupError):
    """The subject's data key was destroyed: what was sealed under it is erased for good."""

    def __init__(self, subject: str) -> None:
        super().__init__("the data key of this subject was destroyed; its data is erased")
        self.subject = subject


def citizen_subject(citizen_ref: object) -> str:
    """The subject a citizen's data is sealed under (letters, and the events of their contact file)."""
    return f"citizen:{citizen_ref}"


def incident_subject(incident_id: object) -> str:
    """The subject an incident's data is sealed under (its evidence)."""
    return f"incident:{incident_id}"


_READ_KEY = "SELECT wrapped, master_key_id FROM vaern_data_keys WHERE subject = %s"
_INSERT_KEY = "INSERT INTO vaern_data_keys (subject, wrapped, master_key_id, created_at) VALUES (%s, %s, %s, %s)"
# A first use's key stored unless the subject has a row, and the row stored returned: the new one, or the one there.
_MAKE_OR_FIND = (
    f"WITH made AS ({_INSERT_KEY} ON CONFLICT (subject) DO NOTHING RETURNING wrapped, master_key_id)"
    " SELECT wrapped, master_key_id FROM made UNION ALL"
    " SELECT wrapped, master_key_id FROM vaern_data_keys WHERE subject = %s"
)
_READ_AHEAD_CHUNK = 500  # subjects per statement: SQLite takes at most 999 parameters in older builds
_CREATE_CHUNK = 200  # new keys per statement, four parameters each


def _as_row(row: tuple[object, ...]) -> tuple[bytes | None, str | None]:
    """A stored (wrapped, master_key_id) row as bytes: a NULL `wrapped` is a destroyed key."""
    return (None if row[0] is None else bytes(row[0])), (None if row[1] is None else str(row[1]))  # type: ignore[arg-type]


class Keys(Protocol):
    """What code that seals a subject's data needs of a key store (KeyStore, MemoryKeyStore)."""

    def data_key(self, subject: str, initial: bytes | None = None) -> bytes: ...
    def existing_key(self, subject: str) -> bytes | None: ...
    def destroy(self, subject: str) -> None: ...
    def destroyed(self, subject: str) -> bool: ...


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def ddl(dialect: str) -> list[str]:
    """The data keys (a NULL `wrapped` is a destroyed key) and the check values of the master keys in use."""
    binary = _BINARY[dialect]
    return [
        "CREATE TABLE IF NOT EXISTS vaern_data_keys ("
        " subject TEXT PRIMARY KEY,"
        f" wrapped {binary},"
        " master_key_id TEXT,"
        " created_at TIMESTAMPTZ NOT NULL,"
        " destroyed_at TIMESTAMPTZ)",
        "CREATE TABLE IF NOT EXISTS vaern_master_key_checks ("
        " key_id TEXT PRIMARY KEY,"
        f" check_value {binary} NOT NULL,"
        " created_at TIMESTAMPTZ NOT NULL)",
    ]


class KeyStore(MasterKeyRing):
    """Data keys in the view database (PostgreSQL or SQLite), wrapped under the master key.

    Built, it creates its tables and refuses a master key that is not the one the stored keys are
    wrapped under (WrongMasterKey), rather than leave the data silently unreadable. `previous` master
    keys are read too, during a rotation; new keys are always wrapped under `master`.
    """

    def __init__(
        self, db: Database, master: MasterKey, previous: Sequence[MasterKey] = (), *, cache_size: int = 100_000,
        cache_seconds: float = 60.0, now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.db, self.master, self._now = db, master, now
        self._masters = {key.id: key for key in (*previous, master)}
        self.cache = KeyCache(cache_size, cache_seconds)
        self._warmed: dict[str, tuple[bytes, str, float]] = {}  # read by `warm`, not yet unwrapped
        with db.transaction() as cur:
            for statement in ddl(db.dialect):
                cur.execute(statement)
        self._check_master_keys()

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> KeyStore:
        return cls(
            db, MasterKey.from_settings(settings), MasterKey.previous(settings),
            cache_size=settings.key_cache_size, cache_seconds=settings.key_cache_seconds,
        )

    def data_key(self, subject: str, initial: bytes | None = None) -> bytes:
        """The subject's data key, created (and committed) on first use, random or `initial`; KeyDestroyed once destroyed."""
        found, key = self._at_hand(subject)
        if not found:
            key = self._unwrapped(subject, self._made_or_found(subject, initial))
        if key is None:
            raise KeyDestroyed(subject)
        return key

    def key_or_new(self, subject: str, unread: bool = False) -> tuple[bytes, tuple[str, bytes, str, datetime] | None]:
        """The subject's key, and if it has none a new one with its row, NOT stored: for a save to store it in its
        own transaction (infra/new_keys.py), before which it must not be used. KeyDestroyed once destroyed.
        `unread`: a key not at hand is taken to be missing, unread (the save's insert finds out if it was not)."""
        found, key = self._at_hand(subject)
        if not found:
            rows = [] if unread else self.db.read(_READ_KEY, (subject,))
            if not rows:
                new = AESGCM.generate_key(bit_length=8 * KEY_BYTES)
                return new, (subject, self.master.wrap(new, subject), self.master.id, self._now())
            key = self._unwrapped(subject, _as_row(rows[0]))
        if key is None:
            raise KeyDestroyed(subject)
        return key, None

    def _made_or_found(self, subject: str, initial: bytes | None) -> tuple[bytes | None, str | None]:
        """The subject's stored row; if there is none, a new key's, stored and committed first.

        On PostgreSQL one statement, so one round trip: it inserts unless a row is there (a live or a
        destroyed key: kept as it is) and returns the row stored. A row a concurrent first use committed
        after the statement began is not in its snapshot: the statement is run again, and then finds it."""
        new = (subject, self.master.wrap(initial or AESGCM.generate_key(bit_length=8 * KEY_BYTES), subject),
               self.master.id, self._now())
        if self.db.dialect != "postgresql":  # no INSERT in a WITH clause; a local file has no round trips to save
            with self.db.transaction() as cur:
                cur.execute(_INSERT_KEY + " ON CONFLICT (subject) DO NOTHING", new)
                row = self._row(cur, subject)
            assert row is not None
            return row
        for _ in range(5):
            rows = self.db.write(_MAKE_OR_FIND, (*new, subject))
            if rows:
                return _as_row(rows[0])
        raise LookupError("the data key of this subject was neither stored nor found")

    def create_all(self, subjects: Iterable[str]) -> None:
        """Makes the keys of many subjects at once, before their facts are sealed: a bulk import (the
        benchmarks' seeding) then costs a statement a few hundred new subjects, not a few round trips each.
        A subject whose key exists, or was destroyed, keeps it as it is (as `data_key` would); the keys
        are read back as `read_ahead` does, for `data_key` to find them at hand."""
        fresh = [s for s in dict.fromkeys(subjects) if not self.cache.get(s)[0] and s not in self._warmed]
        now = self._now()
        for start in range(0, len(fresh), _CREATE_CHUNK):
            chunk = fresh[start:start + _CREATE_CHUNK]
            rows = [(s, self.master.wrap(AESGCM.generate_key(bit_length=8 * KEY_BYTES), s), self.master.id, now)
                    for s in chunk]
            with self.db.transaction() as cur:
                cur.execute(
                    "INSERT INTO vaern_data_keys (subject, wrapped, master_key_id, created_at) VALUES "
                    + ", ".join(["(%s, %s, %s, %s)"] * len(rows)) + " ON CONFLICT (subject) DO NOTHING",
                    [value for row in rows for value in row],
                )
        self.read_ahead(fresh)

    def existing_key(self, subject: str) -> bytes | None:
        """The subject's data key; None if it was never created or was destroyed."""
        found, key = self._at_hand(subject)
        if found:
            return key
        rows = self.db.read(_READ_KEY, (subject,))
        return self._unwrapped(subject, _as_row(rows[0]) if rows else None)

    def _at_hand(self, subject: str) -> tuple[bool, bytes | None]:
        """(found, key) from the cache or what `warm`/`read_ahead` read, without a read; a found None is destroyed."""
        found, key = self.cache.get(subject)
        if found:
            return True, key
        warmed = self._warmed.pop(subject, None)
        if warmed is not None and warmed[2] > time.monotonic():
            return True, self._unwrapped(subject, warmed[:2])
        return False, None

    def read_ahead(self, subjects: Iterable[str]) -> None:
        """Reads the keys of `subjects` not already at hand in one statement a few hundred, for a batch of
        facts about to be decoded (unwrapped when first asked for, as `warm`'s). However many subjects
        the log holds, and however few of them the cache can keep, a batch costs one read, not one a subject."""
        missing = [s for s in dict.fromkeys(subjects) if s not in self._warmed and not self.cache.get(s)[0]]
        until = time.monotonic() + self.cache.seconds
        for start in range(0, len(missing), _READ_AHEAD_CHUNK):
            chunk = missing[start:start + _READ_AHEAD_CHUNK]
            rows = self.db.read(
                "SELECT subject, wrapped, master_key_id FROM vaern_data_keys"
                f" WHERE subject IN ({', '.join(['%s'] * len(chunk))})", chunk,
            )
            for subject, wrapped, key_id in rows:
                if wrapped is None:
                    self.cache.put(str(subject), None)  # destroyed
                else:
                    self._warmed[str(subject)] = (bytes(wrapped), key_id, until)

    def warm(self) -> int:
        """Reads every live data key (up to the cache's size) in one statement; how many.

        A view's rebuild, or a runner far behind, decodes facts of thousands of subjects: one read
        here instead of one per subject. A key is unwrapped when first asked for, not here: a reader
        of parts of facts may need a fraction of them. What was read is used no longer than the cache
        would keep it (a key destroyed meanwhile by another process is known to be gone as soon)."""
        with self.db.transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT subject, wrapped, master_key_id FROM vaern_data_keys WHERE wrapped IS NOT NULL"
                " ORDER BY created_at DESC LIMIT %s", (self.cache.size,),
            ).fetchall()
        until = time.monotonic() + self.cache.seconds
        self._warmed = {str(subject): (bytes(wrapped), key_id, until) for subject, wrapped, key_id in rows}
        return len(rows)

    def destroy(self, subject: str) -> None:
        """Overwrites the wrapped key with NULL and records when; a never-created key is recorded destroyed too."""
        now = self._now()
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO vaern_data_keys (subject, wrapped, master_key_id, created_at, destroyed_at)"
                " VALUES (%s, NULL, NULL, %s, %s) ON CONFLICT (subject) DO UPDATE SET wrapped = NULL,"
                " master_key_id = NULL, destroyed_at = COALESCE(vaern_data_keys.destroyed_at, excluded.destroyed_at)",
                (subject, now, now),
            )
        self._warmed.pop(subject, None)
        self.cache.put(subject, None)

    def destroyed(self, subject: str) -> bool:
        """Whether the subject's key was destroyed (False for one never made)."""
        found, key = self.cache.get(subject)
        if found and key is None:
            return True
        rows = self.db.read("SELECT destroyed_at FROM vaern_data_keys WHERE subject = %s", (subject,))
        return bool(rows) and rows[0][0] is not None

    def _row(self, cur: Cursor, subject: str) -> tuple[bytes | None, str | None] | None:
        row = cur.execute("SELECT wrapped, master_key_id FROM vaern_data_keys WHERE subject = %s", (subject,)).fetchone()
        return None if row is None else _as_row(row)

    def _unwrapped(self, subject: str, row: tuple[bytes | None, str | None] | None) -> bytes | None:
        """The key a row holds, cached (None: destroyed, also cached); a row that is not there is not cached."""
        if row is None:
            return None
        wrapped, key_id = row
        key = None if wrapped is None else self._master(key_id).unwrap(wrapped, subject)
        self.cache.put(subject, key)
        found, cached = self.cache.get(subject)
        return cached if found else key

class MemoryKeyStore:
    """The KeyStore's interface in memory, for unit tests of code that seals with keys."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def data_key(self, subject: str, initial: bytes | None = None) -> bytes:
        with self._lock:
            key = self._keys.setdefault(subject, initial or AESGCM.generate_key(bit_length=8 * KEY_BYTES))
        if key is None:
            raise KeyDestroyed(subject)
        return key

    def existing_key(self, subject: str) -> bytes | None:
        return self._keys.get(subject)

    def destroy(self, subject: str) -> None:
        self._keys[subject] = None

    def destroyed(self, subject: str) -> bool:
        return subject in self._keys and self._keys[subject] is None
