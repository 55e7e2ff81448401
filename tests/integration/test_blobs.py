"""The content-addressed document store, on SQLite and on real PostgreSQL."""

import hashlib
from datetime import date, datetime, timezone

import pytest

from domain.errors import NotFound
from domain.letters.kinds import Recipient, compose_lift_letter
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Official
from infra.blobs import BlobCorrupted, BlobStore
from infra.database import open_database
from infra.pdf import MEDIA_TYPE, render_pdf

CONTENT = "Kære borger — æøå ÆØÅ".encode() + bytes(range(256))


@pytest.fixture
def db(settings):
    database = open_database(settings.database_url, settings.sqlite_path)
    yield database
    database.close()


@pytest.fixture
def store(db):
    return BlobStore(db)


def count_rows(db) -> int:
    with db.transaction(write=False) as cur:
        return cur.execute("SELECT COUNT(*) FROM vaern_blobs").fetchone()[0]


def test_stored_bytes_come_back_exactly_under_their_sha256(store):
    digest = store.put(CONTENT, "application/octet-stream")
    assert digest == hashlib.sha256(CONTENT).hexdigest()
    assert store.get(digest) == (CONTENT, "application/octet-stream")
    assert store.get(digest.upper()) == (CONTENT, "application/octet-stream")
    assert store.exists(digest)


def test_storing_the_same_bytes_again_keeps_one_copy_and_its_first_media_type(db, store):
    first = store.put(CONTENT, "application/pdf")
    assert store.put(CONTENT, "application/octet-stream") == first
    assert BlobStore(db).put(CONTENT, "application/pdf") == first  # a second store on the same table
    assert count_rows(db) == 1
    assert store.get(first)[1] == "application/pdf"


def test_empty_content_is_a_document_too(store):
    digest = store.put(b"", "text/plain")
    assert store.get(digest) == (b"", "text/plain")


@pytest.mark.parametrize("unknown", [hashlib.sha256(b"never stored").hexdigest(), "not-a-hash", ""])
def test_an_unknown_hash_is_not_found(store, unknown):
    with pytest.raises(NotFound):
        store.get(unknown)
    assert not store.exists(unknown)


def test_bytes_that_no_longer_match_their_hash_are_reported_not_served(db, store):
    digest = store.put(CONTENT, "application/octet-stream")
    with db.transaction() as cur:
        cur.execute("UPDATE vaern_blobs SET content = %s WHERE sha256 = %s", (b"tampered", digest))
    with pytest.raises(BlobCorrupted):
        store.get(digest)
    with pytest.raises(BlobCorrupted):
        store.put(CONTENT, "application/octet-stream")


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
    digest = store.put(pdf, MEDIA_TYPE)
    assert store.get(digest) == (pdf, "application/pdf")
