"""Evidence uploads, on SQLite and on PostgreSQL: size refused early, types checked against the bytes, served as downloads."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest

from api.app import create_app
from api.routers.evidence import MAX_BYTES
from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import incident_facts

CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00"
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + b"\x00" * 16
TEXT = "Borgeren skrev: »Jeg ved hvor du bor«\r\nSendt 20.11.2026 kl. 10.02\n".encode()
EML = b"From: borger@example.org\r\nTo: jobcenter@example.dk\r\nSubject: Dig\r\n\r\nJeg ved hvor du bor.\r\n"


def upload(client, content: bytes, content_type: str | None, headers=CASEWORKER):
    extra = {"Content-Type": content_type} if content_type is not None else {}
    return client.post("/evidence", content=content, headers={**headers, **extra})


@pytest.mark.parametrize(
    ("content", "declared", "stored"),
    [
        (PNG, "image/png", "image/png"),
        (PDF, "application/pdf", "application/pdf"),
        (JPEG, "image/jpg", "image/jpeg"),
        (WAV, "audio/x-wav", "audio/wav"),
        (M4A, "audio/mp4", "audio/mp4"),
        (TEXT, "text/plain; charset=utf-8", "text/plain"),
        (EML, "message/rfc822", "message/rfc822"),
    ],
)
def test_evidence_of_a_type_taken_is_stored_under_its_checked_type(client, content, declared, stored):
    response = upload(client, content, declared)
    assert response.status_code == 201, response.text
    assert response.json() == {"sha256": hashlib.sha256(content).hexdigest(), "media_type": stored, "size": len(content)}


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (b"<html><script>alert(1)</script></html>", "text/html"),
        (PNG, "image/svg+xml"),
        (PNG, "application/octet-stream"),
        (PNG, None),
        (PNG, "image/" + "x" * 5000),
        (PDF, "image/png"),  # the bytes are not what they are declared to be
        (PNG, "application/pdf"),
        (b"\x00\x01binary\xff\xfe", "text/plain"),
        (TEXT, "message/rfc822"),  # text, but no mail header
        (PNG, "video/mp4"),
    ],
)
def test_evidence_of_a_type_not_taken_or_not_matching_its_bytes_is_refused_and_not_stored(
    client, services, content, declared
):
    response = upload(client, content, declared)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["Content-Type"]
    assert "x" * 100 not in response.text  # the declared type is not echoed
    assert not services.blobs.exists(hashlib.sha256(content).hexdigest())


def test_evidence_is_served_as_a_download_of_its_checked_type_never_sniffed(client):
    incident_id = client.post("/incidents", json=incident_facts(None, perpetrator={"kind": "unknown"}),
                              headers=CASEWORKER).json()["incident_id"]
    stored = upload(client, TEXT, "text/plain").json()
    attached = client.post(f"/incidents/{incident_id}/evidence", json={**stored, "description": "SMS"}, headers=CASEWORKER)
    assert attached.status_code == 200, attached.text
    served = client.get(f"/incidents/{incident_id}/evidence/{stored['sha256']}", headers=LEGAL)
    assert served.status_code == 200 and served.content == TEXT
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-disposition"] == f'attachment; filename="evidence-{stored["sha256"][:16]}.txt"'
    assert served.headers["x-content-type-options"] == "nosniff"


def test_evidence_stored_before_types_were_checked_is_served_as_bytes_not_as_a_page(client, services):
    content = b"<html><script>alert(1)</script></html>"
    sha256 = services.blobs.put_upload(content, "text/html")  # what an upload could store before
    incident_id = client.post("/incidents", json=incident_facts(None, perpetrator={"kind": "unknown"}),
                              headers=CASEWORKER).json()["incident_id"]
    body = {"sha256": sha256, "media_type": "text/html", "size": len(content), "description": "Gammel fil"}
    assert client.post(f"/incidents/{incident_id}/evidence", json=body, headers=CASEWORKER).status_code == 200
    served = client.get(f"/incidents/{incident_id}/evidence/{sha256}", headers=LEGAL)
    assert served.status_code == 200 and served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")


# ---- size: refused by the declared length at once, and never read past the limit ---------------


def call(app: Any, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, dict[str, Any], int]:
    """POST /evidence straight into the ASGI app with a body sent in `chunks`: status, problem, bytes it pulled."""
    pulled, pending, sent = 0, list(chunks), []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if not pending:
            return {"type": "http.request", "body": b"", "more_body": False}
        chunk = pending.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/evidence", "raw_path": b"/evidence", "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


@pytest.fixture
def asgi_app(settings, services):
    app = create_app(settings, services)
    app.state.services = services  # what the lifespan does; the calls below bypass it
    return app


def oversized() -> list[bytes]:
    """200 MB as a PNG: the first chunk with the signature, the rest zeros."""
    return [PNG + b"\x00" * (MIB - len(PNG))] + [b"\x00" * MIB] * 199


def test_a_body_declaring_more_than_the_limit_is_refused_with_413_before_any_of_it_is_read(asgi_app, services):
    headers = {**CASEWORKER, "Content-Type": "image/png", "Content-Length": str(200 * MIB)}
    status, problem, pulled = call(asgi_app, headers, oversized())
    assert status == 413 and problem["errors"][0]["field"] == "body"
    assert pulled == 0


@pytest.mark.parametrize("declared_length", [None, "1000"])
def test_a_body_without_a_length_or_lying_about_it_is_not_read_past_the_limit(asgi_app, declared_length):
    headers = {**CASEWORKER, "Content-Type": "image/png"}
    if declared_length is not None:
        headers["Content-Length"] = declared_length
    status, problem, pulled = call(asgi_app, headers, oversized())
    assert status == 413 and problem["status"] == 413
    assert pulled <= MAX_BYTES + MIB  # stopped at the chunk that crossed the limit
