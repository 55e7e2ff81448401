"""Evidence files: uploaded once, kept by content hash; an incident then records the hash."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import FileOpener, FileReader, ServicesDep
from domain.errors import NotFound, RuleViolation
from domain.incident_values import MAX_EVIDENCE_BYTES
from infra.access_log import Access, case_purpose

router = APIRouter(tags=["incidents"])


class StoredFile(BaseModel):
    sha256: str
    media_type: str
    size: int


@router.post(
    "/evidence", response_model=StoredFile, status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def upload_evidence(request: Request, caller: FileOpener, services: ServicesDep) -> StoredFile:
    """Stores a file (screenshot, recording, letter) as sent, by its SHA-256; attach it to an incident next."""
    content = await request.body()
    if not content:
        raise RuleViolation("body", "send the file's bytes as the request body")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise RuleViolation("body", f"files are at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB")
    media_type = request.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    sha256 = await run_in_threadpool(services.blobs.put, content, media_type)
    return StoredFile(sha256=sha256, media_type=media_type, size=len(content))


@router.get("/incidents/{incident_id}/evidence/{sha256}", response_class=Response)
def fetch_evidence(incident_id: UUID, sha256: str, caller: FileReader, services: ServicesDep) -> Response:
    """A file attached to this incident, exactly as stored."""
    incident = services.app.get_incident(incident_id)
    if sha256 not in incident.evidence:
        raise NotFound("no such evidence on this incident")
    content, media_type = services.blobs.get(sha256)
    services.access.record(Access(caller.actor, case_purpose(caller.actor), "evidence", incident.basis().citizen_ref))
    return Response(content, media_type=media_type)
