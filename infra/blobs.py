"""A content-addressed store of documents (issued letters, incident evidence) in the view database.

A blob is kept under the SHA-256 of its bytes, so the hash an event carries names exactly one
document. Rows are only ever inserted: storing the same bytes again changes nothing, and bytes that
no longer match their hash are reported as corruption, never served.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timezone

from domain.errors import NotFound, RuleViolation
from infra.database import Cursor, Database

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_TYPE = {"postgresql": "BYTEA", "sqlite": "BLOB"}


class BlobCorrupted(RuntimeError):
    """Stored bytes do not match the hash they are stored under."""


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def ddl(dialect: str) -> str:
    return (
        "CREATE TABLE IF NOT EXISTS vaern_blobs ("
        " sha256 TEXT PRIMARY KEY,"
        " media_type TEXT NOT NULL,"
        " size BIGINT NOT NULL,"
        f" content {_CONTENT_TYPE[dialect]} NOT NULL,"
        " stored_at TIMESTAMPTZ NOT NULL)"
    )


class BlobStore:
    """Documents by SHA-256 on PostgreSQL or SQLite; creates its table when built."""

    def __init__(self, db: Database, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.db = db
        self._now = now
        with db.transaction() as cur:
            cur.execute(ddl(db.dialect))

    def put(self, content: bytes, media_type: str) -> str:
        """Stores `content` unless present and returns its SHA-256 (hex); the first media type stored stays."""
        if not media_type.strip():
            raise ValueError("a blob has a media type")
        digest = sha256_hex(content)
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO vaern_blobs (sha256, media_type, size, content, stored_at) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (sha256) DO NOTHING",
                (digest, media_type.strip(), len(content), content, self._now()),
            )
            if cur.rowcount == 0:
                self._verified(cur, digest)
        return digest

    def get(self, sha256: str) -> tuple[bytes, str]:
        """The stored bytes and media type, checked against the hash; NotFound if none is stored."""
        with self.db.transaction(write=False) as cur:
            return self._verified(cur, self._key(sha256))

    def exists(self, sha256: str) -> bool:
        key = sha256.strip().lower()
        if not _SHA256.match(key):
            return False
        with self.db.transaction(write=False) as cur:
            return cur.execute("SELECT 1 FROM vaern_blobs WHERE sha256 = %s", (key,)).fetchone() is not None

    def _key(self, sha256: str) -> str:
        key = sha256.strip().lower()
        if not _SHA256.match(key):
            raise NotFound(f"no document {sha256!r}: not a SHA-256 hash")
        return key

    def _verified(self, cur: Cursor, digest: str) -> tuple[bytes, str]:
        row = cur.execute("SELECT content, media_type FROM vaern_blobs WHERE sha256 = %s", (digest,)).fetchone()
        if row is None:
            raise NotFound(f"no document {digest}")
        content = bytes(row[0])
        if sha256_hex(content) != digest:
            raise BlobCorrupted(f"the document stored under {digest} does not match its hash")
        return content, str(row[1])

    def require(self, sha256: str, media_type: str, size: int) -> None:
        """Refuses a reference to a file that was not stored as described."""
        try:
            content, stored_type = self.get(sha256)
        except NotFound:
            raise RuleViolation("sha256", "no stored file has this hash; upload it to /evidence first") from None
        if stored_type != media_type or len(content) != size:
            raise RuleViolation("sha256", "the stored file has another media type or size")
