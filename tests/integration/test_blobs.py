"""The content-addressed document store, on SQLite and on real PostgreSQL."""

import hashlib
from datetime import date, datetime, timezone

import pytest

from domain.errors import NotFound
from domain.letters.kinds import Recipient, compose_lift_letter
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Official
from infra.blobs import UNCLAIMED_SWEEP, BlobCorrupted, BlobErased, BlobStore
from infra.database import open_database
from infra.keys import KeyStore, MasterKey
from infra.pdf import MEDIA_TYPE, render_pdf
from infra.schema import migrate

CONTENT = "Kære borger — æøå ÆØÅ".encode() + bytes(range(256))


@pytest.fixture
def db(settings):
    database = open_database(settings.database_url, settings.sqlite_path)
    migrate(database)
    yield database
    database.close()


SUBJECT = "citizen:4f7c2b0e-0000-4000-8000-000000000001"


@pytest.fixture
def keys(db):
    return KeyStore(db, MasterKey(bytes(range(32))))


@pytest.fixture
def store(db, keys):
    return BlobStore(db, keys)


def count_rows(db) -> int:
    with db.transaction(write=False) as cur:
        return cur.execute("SELECT COUNT(*) FROM vaern_blobs").fetchone()[0]


def test_stored_bytes_come_back_exactly_under_their_sha256(store):
    digest = store.put(CONTENT, "application/octet-stream", subject=SUBJECT)
    assert digest == hashlib.sha256(CONTENT).hexdigest()
    assert store.get(digest) == (CONTENT, "application/octet-stream")
    assert store.get(digest.upper()) == (CONTENT, "application/octet-stream")
    assert store.exists(digest)


def test_storing_the_same_bytes_again_keeps_one_copy_and_its_first_media_type(db, keys, store):
    first = store.put(CONTENT, "application/pdf", subject=SUBJECT)
    assert store.put(CONTENT, "application/octet-stream", subject=SUBJECT) == first
    assert BlobStore(db, keys).put(CONTENT, "application/pdf", subject=SUBJECT) == first  # a second store on the same table
    assert count_rows(db) == 1
    assert store.get(first)[1] == "application/pdf"


def test_empty_content_is_a_document_too(store):
    digest = store.put(b"", "text/plain", subject=SUBJECT)
    assert store.get(digest) == (b"", "text/plain")


@pytest.mark.parametrize("unknown", [hashlib.sha256(b"never stored").hexdigest(), "not-a-hash", ""])
def test_an_unknown_hash_is_not_found(store, unknown):
    with pytest.raises(NotFound):
        store.get(unknown)
    assert not store.exists(unknown)


def test_bytes_that_no_longer_match_their_hash_are_reported_not_served(db, store):
    digest = store.put(CONTENT, "application/octet-stream", subject=SUBJECT)
    with db.transaction() as cur:
        cur.execute("UPDATE vaern_blobs SET content = %s WHERE sha256 = %s", (b"tampered", digest))
    with pytest.raises(BlobCorrupted):
        store.get(digest)
    with pytest.raises(BlobCorrupted):
        store.put(CONTENT, "application/octet-stream", subject=SUBJECT)


def test_an_issued_letter_is_fetched_as_the_stored_pdf_not_rendered_again(store):
    terms = RestrictionTerms.model_validate(
        {
            "in_person": {"rule": "by_appointment"},
            "open_channel": "written",
            "contact_point": "Team Nord",
            "valid_from": datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc),
            "valid_until": datetime(2027, 5, 23, 22, 0, tzinfo=timezone.utc),
            "reasons": "Trusler mod medarbejdere.",
        }
    )
    letter = compose_lift_letter(
        terms,
        reference="r-1",
        recipient=Recipient(name="Jens Hansen", address=("Vesterbrogade 1, 2. th.", "1620 København V")),
        lifted_at=datetime(2027, 2, 1, 11, 0, tzinfo=timezone.utc),
        reason="Ingen episoder siden november.",
        signed_by=Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder"),
        affected_employee_ids=set(),
        issued_on=date(2027, 2, 1),
    )
    pdf = render_pdf(letter)
    digest = store.put(pdf, MEDIA_TYPE, subject=SUBJECT)
    assert store.get(digest) == (pdf, "application/pdf")


def stored_row(db, digest):
    with db.transaction(write=False) as cur:
        return cur.execute("SELECT content, subject FROM vaern_blobs WHERE sha256 = %s", (digest,)).fetchone()


def test_a_document_is_stored_sealed_under_its_subjects_key_not_in_plain(db, keys, store):
    digest = store.put(CONTENT, "application/octet-stream", subject=SUBJECT)
    content, subject = stored_row(db, digest)
    assert subject == SUBJECT
    assert CONTENT not in bytes(content) and CONTENT[:16] not in bytes(content)
    assert keys.existing_key(SUBJECT) is not None
    assert store.get(digest) == (CONTENT, "application/octet-stream")


def test_a_document_whose_subjects_key_is_destroyed_reads_as_erased(keys, store):
    digest = store.put(CONTENT, "application/pdf", subject=SUBJECT)
    keys.destroy(SUBJECT)
    with pytest.raises(BlobErased):
        store.get(digest)
    assert store.exists(digest)  # the row stays; its bytes are unreadable for good
    other = "incident:4f7c2b0e-0000-4000-8000-000000000002"
    assert store.put(CONTENT, "application/pdf", subject=other) == digest  # given again, stored anew
    assert store.get(digest) == (CONTENT, "application/pdf")
    assert stored_row(store.db, digest)[1] == other


def test_sealed_bytes_moved_to_another_hash_do_not_open(db, store):
    first = store.put(CONTENT, "application/octet-stream", subject=SUBJECT)
    second = store.put(b"other", "application/octet-stream", subject=SUBJECT)
    sealed_first = stored_row(db, first)[0]
    with db.transaction() as cur:
        cur.execute("UPDATE vaern_blobs SET content = %s WHERE sha256 = %s", (sealed_first, second))
    with pytest.raises(BlobCorrupted):
        store.get(second)


def test_a_plain_row_stored_before_sealing_still_reads_and_is_sealed_when_claimed(db, store):
    digest = hashlib.sha256(CONTENT).hexdigest()
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO vaern_blobs (sha256, media_type, size, content, stored_at) VALUES (%s, %s, %s, %s, %s)",
            (digest, "text/plain", len(CONTENT), CONTENT, datetime.now(timezone.utc)),
        )
    assert store.get(digest) == (CONTENT, "text/plain")
    store.claim(digest, SUBJECT)
    assert stored_row(db, digest)[1] == SUBJECT and bytes(stored_row(db, digest)[0]) != CONTENT
    assert store.get(digest) == (CONTENT, "text/plain")


def test_an_upload_is_sealed_under_a_key_of_its_own_until_claimed_then_under_its_owners(db, keys, store):
    digest = store.put_upload(CONTENT, "image/png")
    assert stored_row(db, digest)[1] == store.upload_subject(digest)
    store.claim(digest, SUBJECT)
    assert stored_row(db, digest)[1] == SUBJECT
    store.claim(digest, "incident:4f7c2b0e-0000-4000-8000-000000000003")  # the first owner's key governs
    assert stored_row(db, digest)[1] == SUBJECT
    keys.destroy(SUBJECT)
    with pytest.raises(BlobErased):
        store.get(digest)


def test_a_table_made_before_sealing_gains_its_subject_column(settings, keys):
    old = open_database(settings.database_url, settings.data_dir / "old.sqlite")
    try:
        with old.transaction() as cur:
            cur.execute("DROP TABLE IF EXISTS vaern_blobs")
            for yoyo_table in ("_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock"):  # (no migrations then)
                cur.execute(f"DROP TABLE IF EXISTS {yoyo_table}")
            cur.execute(
                "CREATE TABLE vaern_blobs (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, size BIGINT NOT NULL,"
                f" content {'BYTEA' if old.dialect == 'postgresql' else 'BLOB'} NOT NULL, stored_at TIMESTAMPTZ NOT NULL)"
            )
        migrate(old)  # the first migration gives it the column
        store = BlobStore(old, keys)
        digest = store.put(CONTENT, "text/plain", subject=SUBJECT)
        assert store.get(digest) == (CONTENT, "text/plain")
    finally:
        old.close()


def test_the_sweep_of_unclaimed_uploads_can_read_their_index_instead_of_every_document(db):
    with db.transaction() as cur:
        if db.dialect == "postgresql":
            cur.execute("SET LOCAL enable_seqscan = off")  # an empty table would be read whole anyway
            plan = cur.execute(f"EXPLAIN {UNCLAIMED_SWEEP}", (datetime.now(timezone.utc),)).fetchall()
        else:
            plan = cur.execute(f"EXPLAIN QUERY PLAN {UNCLAIMED_SWEEP}", (datetime.now(timezone.utc),)).fetchall()
    assert "vaern_blobs_unclaimed" in " ".join(str(part) for row in plan for part in row)
