"""Evidence files: uploaded once, kept by content hash; an incident then records the hash."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api import evidence_types, roles
from api.deps import ServicesDep, allowed
from api.problems import ERASED_DESCRIPTION, PROBLEM, TooLarge
from api.reads import ReaderDep
from domain.errors import RuleViolation
from domain.incident.facts import MAX_EVIDENCE_BYTES

router = APIRouter(tags=["incidents"])
MayUploadEvidence = allowed(roles.UPLOAD_EVIDENCE)
MayReadEvidence = allowed(roles.READ_EVIDENCE)
MAX_BYTES = MAX_EVIDENCE_BYTES
_TOO_LARGE = f"files are at most {MAX_BYTES // (1024 * 1024)} MB"  # what a 413 says, and the document
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_UPLOAD = {"requestBody": {"content": {name: _BINARY for name in evidence_types.TYPES}, "required": True}}
_REFUSALS: dict[int | str, dict[str, str]] = {
    413: {"description": _TOO_LARGE},
    415: {"description": "the media type is not one taken as evidence, or the bytes are not of that type"},
    422: {"description": "an empty body"},
}
_DOWNLOAD: dict[int | str, dict[str, object]] = {
    200: {
        "description": "the file, as a download; application/octet-stream for one stored before types were checked",
        "content": {name: _BINARY for name in (*evidence_types.TYPES, "application/octet-stream")},
    },
    410: {"description": ERASED_DESCRIPTION, "content": {PROBLEM: {}}},
    500: {"description": "the stored file no longer matches its hash"},
}


class StoredFile(BaseModel):
    sha256: str
    media_type: str
    size: int


@router.post(
    "/evidence", response_model=StoredFile, status_code=status.HTTP_201_CREATED, openapi_extra=_UPLOAD,
    responses=_REFUSALS,
)
async def upload_evidence(request: Request, caller: MayUploadEvidence, services: ServicesDep) -> StoredFile:
    """Stores a file (PDF, image, text, e-mail, audio, video) by its SHA-256, if its bytes are of the type sent.

    The Content-Type names the file's type; attach the file to an incident next.
    """
    kind = evidence_types.declared(request.headers.get("content-type"))
    content = await _body(request)
    if not content:
        raise RuleViolation("body", "send the file's bytes as the request body")
    evidence_types.check(kind, content)
    sha256 = await run_in_threadpool(services.blobs.put_upload, content, kind.name)
    return StoredFile(sha256=sha256, media_type=kind.name, size=len(content))


async def _body(request: Request) -> bytes:
    """The body, refused by its declared length at once, and never read past the limit whatever it declares."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise TooLarge("body", _TOO_LARGE)
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > MAX_BYTES:
            raise TooLarge("body", _TOO_LARGE)
    return bytes(content)


@router.get("/incidents/{incident_id}/evidence/{sha256}", response_class=Response, responses=_DOWNLOAD)
def fetch_evidence(incident_id: UUID, sha256: str, caller: MayReadEvidence, reader: ReaderDep) -> Response:
    """A file attached to this incident, as stored, as a download of its checked type."""
    content, stored_type = reader.evidence(caller, incident_id, sha256)
    media_type, extension = evidence_types.served_as(stored_type)
    # Never shown in the browser as a page: a download, of the type checked at upload, never sniffed.
    disposition = f'attachment; filename="evidence-{sha256[:16]}.{extension}"'
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=media_type, headers=headers)
