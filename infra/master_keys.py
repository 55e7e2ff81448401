"""The master keys a key store wraps its data keys under: the check that the configured ones are the
right ones, and rotation to a new one (rewrapping every data key); see docs/encryption.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from infra.database import Cursor, Database
from infra.sealing import MasterKey

__all__ = ["MasterKeyRing", "WrongMasterKey"]


class WrongMasterKey(RuntimeError):
    """The configured master keys are not those the stored data keys are wrapped under."""


class MasterKeyRing:
    """The master keys of a key store (mixed into infra/keys.py's KeyStore, which sets the attributes below)."""

    db: Database
    master: MasterKey
    _masters: dict[str, MasterKey]
    _now: Callable[[], datetime]

    def rewrap(self, new: MasterKey, progress: Callable[[int, int], None] | None = None) -> int:
        """Wraps every data key under `new`, one row per transaction (safe to stop and run again); the events
        and documents sealed under the data keys are untouched. Returns how many keys were rewrapped."""
        self._masters[new.id] = new
        with self.db.transaction() as cur:
            self._record_check(cur, new)
        total = self.db.read(
            "SELECT COUNT(*) FROM vaern_data_keys WHERE wrapped IS NOT NULL AND master_key_id <> %s", (new.id,)
        )[0][0]
        done, after = 0, ""
        while batch := self.db.read(
            "SELECT subject FROM vaern_data_keys WHERE wrapped IS NOT NULL AND master_key_id <> %s AND subject > %s"
            " ORDER BY subject LIMIT 500", (new.id, after),
        ):
            for (subject,) in batch:
                done += self._rewrap_one(subject, new)
                if progress is not None:
                    progress(done, max(total, done))
            after = batch[-1][0]
        self._forget_unused_checks(new)
        return done

    def _rewrap_one(self, subject: str, new: MasterKey) -> int:
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""  # SQLite's write transaction locks already
        with self.db.transaction() as cur:
            row = cur.execute(
                f"SELECT wrapped, master_key_id FROM vaern_data_keys WHERE subject = %s{lock}", (subject,)
            ).fetchone()
            if row is None or row[0] is None or row[1] == new.id:
                return 0  # destroyed or rewrapped meanwhile
            key = self._master(row[1]).unwrap(bytes(row[0]), subject)
            cur.execute(
                "UPDATE vaern_data_keys SET wrapped = %s, master_key_id = %s WHERE subject = %s",
                (new.wrap(key, subject), new.id, subject),
            )
        return 1

    def _master(self, key_id: str | None) -> MasterKey:
        if key_id not in self._masters:
            raise WrongMasterKey(
                f"a data key is wrapped under master key {key_id}, which is not configured (VAERN_MASTER_KEY is"
                f" {self.master.id}); add it to VAERN_PREVIOUS_MASTER_KEYS until `vaern keys rotate-master` is done"
            )
        return self._masters[key_id]

    def _check_master_keys(self) -> None:
        """Refuses master keys that do not open the stored keys; records the check value of a new master key.

        One transaction, and on PostgreSQL a lock that processes starting at once take in turn: of two
        processes setting up an empty database with different master keys, the second is refused.
        """
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":
                cur.execute("LOCK TABLE vaern_master_key_checks IN SHARE ROW EXCLUSIVE MODE")
            in_use = {r[0] for r in cur.execute(
                "SELECT DISTINCT master_key_id FROM vaern_data_keys WHERE master_key_id IS NOT NULL").fetchall()}
            checks = {key_id: bytes(value) for key_id, value in cur.execute(
                "SELECT key_id, check_value FROM vaern_master_key_checks").fetchall()}
            self._refuse_wrong_master_keys(in_use, checks)
            if self.master.id not in checks:
                self._record_check(cur, self.master)

    def _refuse_wrong_master_keys(self, in_use: set[str], checks: dict[str, bytes]) -> None:
        configured = ", ".join(self._masters)
        if missing := sorted(in_use - set(self._masters)):
            raise WrongMasterKey(
                f"data keys are wrapped under master key(s) {', '.join(missing)}, but the configured master keys"
                f" are {configured}: set VAERN_MASTER_KEY (and, during a rotation, VAERN_PREVIOUS_MASTER_KEYS) right"
            )
        opened = [key_id for key_id in checks if key_id in self._masters]
        if any(not self._masters[key_id].opens(checks[key_id]) for key_id in opened) or (checks and not opened):
            raise WrongMasterKey(
                f"this database's data keys were set up under master key(s) {', '.join(sorted(checks))}; the"
                f" configured master keys ({configured}) are not those"
            )

    def _record_check(self, cur: Cursor, master: MasterKey) -> None:
        cur.execute(
            "INSERT INTO vaern_master_key_checks (key_id, check_value, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (key_id) DO NOTHING",
            (master.id, master.check_value(), self._now()),
        )

    def _forget_unused_checks(self, new: MasterKey) -> None:
        """After a rotation, an earlier master key that wraps no data key is no longer accepted at start."""
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM vaern_master_key_checks WHERE key_id <> %s AND key_id NOT IN"
                " (SELECT master_key_id FROM vaern_data_keys WHERE master_key_id IS NOT NULL)",
                (new.id,),
            )
