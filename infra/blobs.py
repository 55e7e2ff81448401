"""A content-addressed store of documents (issued letters, incident evidence) in the view database.

A blob is kept under the SHA-256 of its bytes, so the hash an event carries names exactly one
document. Its bytes are sealed (AES-256-GCM) under the data key of the subject it belongs to (a
citizen for a letter, an incident for evidence): destroying that key erases the document, which then
reads as BlobErased. A blob is only ever inserted, or sealed again under its owner's key; bytes that
no longer open or no longer match their hash are reported as corruption, never served. Rows stored
before documents were sealed (no subject) are read as they are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timezone

from domain.errors import NotFound, RuleViolation
from infra.database import Database
from infra.keys import Keys, UnsealError, seal, unseal

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Served by the partial index vaern_blobs_unclaimed (infra/migrations/), whose condition is this one as written.
UNCLAIMED_SWEEP = "DELETE FROM vaern_blobs WHERE subject LIKE 'upload:%%' AND stored_at < %s"


class BlobCorrupted(RuntimeError):
    """Stored bytes do not open under their key or do not match the hash they are stored under."""


class BlobErased(LookupError):
    """The document was erased: the key of the subject it belonged to was destroyed."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"the document {sha256} was erased")
        self.sha256 = sha256


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _aad(digest: str, subject: str) -> bytes:
    """Binds the sealed bytes to their hash and owner: a row's content cannot be swapped for another's."""
    return f"vaern blob {digest} {subject}".encode()


class BlobStore:
    """Documents by SHA-256 on PostgreSQL or SQLite, sealed under `keys`, in the migrations' table (infra/migrations/)."""

    def __init__(
        self, db: Database, keys: Keys, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    ) -> None:
        self.db, self.keys = db, keys
        self._now = now

    def put(self, content: bytes, media_type: str, *, subject: str) -> str:
        """Stores `content` sealed under `subject`'s key unless present, and returns its SHA-256 (hex).

        The first media type and subject stored stay; a document whose subject's key was destroyed is
        stored anew under `subject`. KeyDestroyed if `subject`'s own key was destroyed.
        """
        if not media_type.strip():
            raise ValueError("a blob has a media type")
        if not subject:
            raise ValueError("a blob belongs to a subject")
        digest = sha256_hex(content)
        row = (media_type.strip(), len(content), self._sealed(content, digest, subject), self._now(), subject, digest)
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO vaern_blobs (media_type, size, content, stored_at, subject, sha256)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
                row,
            )
            inserted = cur.rowcount == 1
        if not inserted:
            try:
                self.get(digest)
            except BlobErased:
                self._replace(digest, row)
        return digest

    def put_upload(self, content: bytes, media_type: str) -> str:
        """Stores a file not yet attached to anything, sealed under a key of its own until `claim`ed."""
        return self.put(content, media_type, subject=self.upload_subject(sha256_hex(content)))

    @staticmethod
    def upload_subject(digest: str) -> str:
        return f"upload:{digest}"

    def forget_unclaimed(self, before: datetime) -> int:
        """Deletes every upload stored before `before` and never attached to anything; returns how many.

        An upload attached since is sealed under its owner's key and no longer an upload, so it stays.
        """
        with self.db.transaction() as cur:
            cur.execute(UNCLAIMED_SWEEP, (before,))
            return max(cur.rowcount, 0)

    def claim(self, sha256: str, subject: str) -> None:
        """Seals an unclaimed upload (or a plain row from before sealing) under `subject`'s key instead.

        A document already sealed under another subject's key stays there: the first owner's key governs.
        """
        digest = self._key(sha256)
        content, _, owner = self._row(digest)
        if owner == subject or owner not in (None, self.upload_subject(digest)):
            return
        sealed = self._sealed(self._opened(digest, content, owner), digest, subject)
        same_owner = "subject IS NULL" if owner is None else "subject = %s"
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE vaern_blobs SET content = %s, subject = %s WHERE sha256 = %s AND {same_owner}",
                (sealed, subject, digest) + (() if owner is None else (owner,)),
            )

    def get(self, sha256: str) -> tuple[bytes, str]:
        """The stored bytes, opened and checked against the hash, and the media type.

        NotFound if none is stored, BlobErased if its subject's key was destroyed, else BlobCorrupted.
        """
        digest = self._key(sha256)
        content, media_type, subject = self._row(digest)
        return self._opened(digest, content, subject), media_type

    def exists(self, sha256: str) -> bool:
        key = sha256.strip().lower()
        if not _SHA256.match(key):
            return False
        return bool(self.db.read("SELECT 1 FROM vaern_blobs WHERE sha256 = %s", (key,)))

    def _key(self, sha256: str) -> str:
        key = sha256.strip().lower()
        if not _SHA256.match(key):
            raise NotFound(f"no document {sha256!r}: not a SHA-256 hash")
        return key

    def _row(self, digest: str) -> tuple[bytes, str, str | None]:
        rows = self.db.read("SELECT content, media_type, subject FROM vaern_blobs WHERE sha256 = %s", (digest,))
        if not rows:
            raise NotFound(f"no document {digest}")
        content, media_type, subject = rows[0]
        return bytes(content), str(media_type), subject

    def _sealed(self, content: bytes, digest: str, subject: str) -> bytes:
        return seal(self.keys.data_key(subject), content, _aad(digest, subject))

    def _opened(self, digest: str, content: bytes, subject: str | None) -> bytes:
        if subject is not None:
            key = self.keys.existing_key(subject)
            if key is None and self.keys.destroyed(subject):
                raise BlobErased(digest)
            if key is None:
                raise BlobCorrupted(f"the document stored under {digest} has no data key")
            try:
                content = unseal(key, content, _aad(digest, subject))
            except UnsealError:
                raise BlobCorrupted(f"the document stored under {digest} does not open under its key") from None
        if sha256_hex(content) != digest:
            raise BlobCorrupted(f"the document stored under {digest} does not match its hash")
        return content

    def _replace(self, digest: str, row: tuple[object, ...]) -> None:
        """Stores an erased document anew: its former subject's key is gone, the bytes are given again."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE vaern_blobs SET media_type = %s, size = %s, content = %s, stored_at = %s, subject = %s"
                " WHERE sha256 = %s",
                row,
            )

    def require(self, sha256: str, media_type: str, size: int) -> None:
        """Refuses a reference to a file that was not stored as described."""
        try:
            content, stored_type = self.get(sha256)
        except NotFound:
            raise RuleViolation("sha256", "no stored file has this hash; upload it to /evidence first") from None
        if stored_type != media_type or len(content) != size:
            raise RuleViolation("sha256", "the stored file has another media type or size")
