"""Legal review: a case's facts in log order, as JSON or PDF (what applied at a moment: api/routers/as_of.py).

Every read here is recorded in the access log (purpose legal review) for each citizen whose data it
shows or rests on: an incident's facts naming another citizen, another contact file sharing a
number. Each answer names the event-log position it reflects: facts recorded after it are left
out. The list of who looked is the access log as it stands when asked.

A citizen's timeline shows an incident's facts while it named them, and facts recorded while it
named no citizen; facts recorded while it named another citizen are that citizen's data and
appear only as a withheld line (time, type, recorder). A superseded fact shows as recorded, and
its supersession as a fact of its own (who, why, which fields the replacement corrects).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api import roles
from api.deps import allowed
from api.paging import Page, paged, with_pages
from api.reads import Reader, ReaderDep
from api.security import Principal
from api.timeline_schemas import (
    AccessOut, AttributionOut, CitizenTimelineOut, EntryOut, IncidentTimelineOut,
)
from domain.application import utc_now
from domain.contact_file.aggregate import ContactFile
from domain.errors import NotFound
from domain.incident.aggregate import Incident
from domain.records.supersession import REGISTER_ID, SupersessionRegister
from domain.records.timeline import Entry, entries
from infra.access_log import AccessEntry
from infra.services import Services
from infra.timeline_pdf import TimelineExport, render_timeline
from projections.incident_index import Attribution, history

router = APIRouter(tags=["legal review"])
# A timeline is read up to the log's head, once the incident index has reached it.
WAITS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},  # also `format=pdf`
    503: {"description": "the incident index has not reached the log's head yet"},
}
MayCitizenTimeline = allowed(roles.CITIZEN_TIMELINE)
MayIncidentTimeline = allowed(roles.INCIDENT_TIMELINE)

Format = Annotated[Literal["json", "pdf"], Query(description="json (default) or pdf")]
PDF_HEADERS = {"Cache-Control": "no-store"}


def _contact_file(services: Services, citizen_ref: UUID, head: int) -> list[tuple[int, Any]]:
    """The contact file's facts up to `head`; none when the reference is not a contact file's."""
    facts = history(services.app, citizen_ref, stop=head)
    return facts if facts and isinstance(facts[0][1], ContactFile.Opened) else []


def _pdf(export: TimelineExport, name: str) -> Response:
    headers = {**PDF_HEADERS, "Content-Disposition": f'attachment; filename="{name}.pdf"'}
    return Response(render_timeline(export), media_type="application/pdf", headers=headers)


# ---- a citizen --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    """One read of a timeline: the facts up to `head`, for the JSON answer and the PDF alike."""

    head: int
    exported_at: datetime
    entries: list[Entry]
    attributions: list[Attribution]
    accesses: list[AccessEntry]
    perpetrators: list[UUID]
    appointment_id: UUID | None = None


def _exported(read: _Read, caller: Principal) -> dict[str, Any]:
    """What every export of a timeline states of itself: when, by whom, up to which log position."""
    return {"exported_at": read.exported_at, "exported_by": caller.actor, "position": read.head}


def _read_citizen(reader: Reader, caller: Principal, citizen_ref: UUID, what: str, page: Page | None = None) -> _Read:
    """The citizen's timeline; of the accesses, the page asked for (all of them for the PDF)."""
    services = reader.services
    head = services.events.head()
    own = _contact_file(services, citizen_ref, head)
    services.wait_for(services.incident_index.name, head)
    attributions = services.incident_index.incidents_of(services.db, citizen_ref)
    if not own and not attributions:
        raise NotFound("no contact file or incident for that citizen reference")
    facts = list(own)
    withheld: set[int] = set()
    spells: dict[UUID, list[Attribution]] = {}
    for attribution in attributions:
        spells.setdefault(attribution.incident_id, []).append(attribution)
    for incident_id, of_incident in spells.items():
        shown, hidden = _while_named(history(services.app, incident_id, stop=head), of_incident, citizen_ref)
        facts.extend(shown)
        withheld.update(p for p, _ in hidden)
        facts.extend(hidden)
    named = [citizen_ref, *_perpetrators(event for p, event in facts if p not in withheld)]
    corrections = _supersessions(services, facts, head)
    withheld.update(p for p, e in corrections if e.position in withheld)  # another citizen's data too
    facts.extend(corrections)
    reader.legal(caller, what, *named)
    accesses = services.access.entries(citizen_ref, *((page.after, page.fetch) if page else ()))
    lines = [replace(e, summary=WITHHELD, letters=()) if e.position in withheld else e for e in entries(facts)]
    return _Read(head, utc_now(), lines, attributions, accesses, list(dict.fromkeys(named)))


WITHHELD = "Registreret, mens hændelsen angav en anden borger som udøver: tilbageholdt"


def _while_named(
    facts: list[tuple[int, Any]], spells: list[Attribution], citizen_ref: UUID
) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]]]:
    """The incident's facts for this citizen's timeline: those shown, and those only marked as withheld.

    Shown: the facts while the citizen was named (with the corrections beginning and ending each
    spell), and facts recorded while the incident named no citizen. Withheld: facts recorded
    while it named another citizen, up to this citizen's last spell; they are that citizen's data,
    so only their time, type and recorder appear. Facts after the last spell ended stay out.
    """
    last = None if any(spell.until is None for spell in spells) else max(spell.until or 0 for spell in spells)
    shown, withheld = [], []
    named: UUID | None = None
    for position, event in facts:
        if last is not None and position > last:
            break
        before = named
        if isinstance(event, (Incident.Reported, Incident.Corrected)):
            named = event.facts.perpetrator.citizen_ref
        others = {before, named} - {None, citizen_ref}  # another citizen named before or after this fact
        ours = any(spell.covers(position) for spell in spells)
        (shown if ours or not others else withheld).append((position, event))
    return shown, withheld


def _supersessions(services: Services, facts: list[tuple[int, Any]], head: int) -> list[tuple[int, Any]]:
    """The supersessions of any of these facts, up to `head`: the timeline shows each beside the fact as recorded."""
    positions = {position for position, _ in facts}
    return [
        (position, event) for position, event in history(services.app, REGISTER_ID, stop=head)
        if isinstance(event, SupersessionRegister.EventSuperseded) and event.position in positions
    ]


def _perpetrators(events: Iterable[Any]) -> list[UUID]:
    """The citizens the incident facts among `events` name as perpetrator, in order of first mention."""
    named = (e.facts.perpetrator.citizen_ref for e in events if isinstance(e, (Incident.Reported, Incident.Corrected)))
    return [ref for ref in dict.fromkeys(named) if ref is not None]


AccessesPage = paged("timeline_accesses", datetime, int)


@router.get("/contact-files/{citizen_ref}/timeline", response_model=CitizenTimelineOut, responses=with_pages(WAITS))
def get_citizen_timeline(
    citizen_ref: UUID, caller: MayCitizenTimeline, reader: ReaderDep, page: AccessesPage, response: Response,
    format: Format = "json",
) -> Any:
    """Every fact of the citizen's contact file and of the incidents naming them, in log order, with who read the
    data: the reads a page at a time (`limit`, `cursor`), every fact on every page. The PDF has every read."""
    if format == "pdf":
        return get_citizen_timeline_pdf(citizen_ref, caller, reader)
    read = _read_citizen(reader, caller, citizen_ref, "legal_timeline", page)
    accesses, cursor = page.cut(read.accesses, lambda a: (a.at, a.entry_id), response)
    return CitizenTimelineOut(
        citizen_ref=citizen_ref, **_exported(read, caller), incidents=[AttributionOut.of(a) for a in read.attributions],
        entries=[EntryOut.of(e) for e in read.entries], accesses=[AccessOut.of(a) for a in accesses],
        accesses_next_cursor=cursor,
    )


@router.get("/contact-files/{citizen_ref}/timeline.pdf", response_class=Response, responses=WAITS)
def get_citizen_timeline_pdf(citizen_ref: UUID, caller: MayCitizenTimeline, reader: ReaderDep) -> Response:
    """The citizen's timeline as PDF, headed by the export's time, user and log position."""
    read = _read_citizen(reader, caller, citizen_ref, "legal_timeline_pdf")
    related = [
        f"Hændelse {a.incident_id}: angivet fra logposition {a.since}"
        + (f" til en rettelse på position {a.until}" if a.until else " (stadig angivet)")
        for a in read.attributions
    ]
    export = TimelineExport(
        title="Juridisk tidslinje: borger", subject=f"Borgerreference {citizen_ref}", subject_ref=citizen_ref,
        **_exported(read, caller), entries=read.entries, related=related,
        related_heading="Hændelser, der angiver borgeren som udøver", accesses=read.accesses,
    )
    return _pdf(export, f"timeline-{citizen_ref}")


# ---- an incident ------------------------------------------------------------------------------


def _read_incident(reader: Reader, caller: Principal, incident_id: UUID, what: str) -> _Read:
    services = reader.services
    head = services.events.head()
    facts = history(services.app, incident_id, stop=head)
    if not facts or not isinstance(facts[0][1], Incident.Reported):
        raise NotFound("no incident with that id")
    perpetrators = _perpetrators(e for _, e in facts)
    # The meeting it was reported from shows with the meeting's own fact of the link, read as the meeting's citizen's.
    linked = services.app.meeting_reported_from(incident_id, stop=head)
    meeting = [linked] if linked else []
    read_of = list(dict.fromkeys([*perpetrators, *(event.citizen_ref for _, event in meeting)]))
    reader.legal(caller, what, *(read_of or [None]))
    lines = entries([*facts, *meeting, *_supersessions(services, facts, head)])
    appointment_id = linked[1].originator_id if linked else None
    return _Read(head, utc_now(), lines, [], [], perpetrators, appointment_id)


@router.get("/incidents/{incident_id}/timeline", response_model=IncidentTimelineOut, responses=WAITS)
def get_incident_timeline(incident_id: UUID, caller: MayIncidentTimeline, reader: ReaderDep, format: Format = "json") -> Any:
    """Every fact of the incident in log order: both times, who recorded it, a readable line."""
    if format == "pdf":
        return get_incident_timeline_pdf(incident_id, caller, reader)
    read = _read_incident(reader, caller, incident_id, "incident_timeline")
    return IncidentTimelineOut(
        incident_id=incident_id, perpetrator_refs=read.perpetrators, appointment_id=read.appointment_id,
        **_exported(read, caller), entries=[EntryOut.of(e) for e in read.entries],
    )


@router.get("/incidents/{incident_id}/timeline.pdf", response_class=Response, responses=WAITS)
def get_incident_timeline_pdf(incident_id: UUID, caller: MayIncidentTimeline, reader: ReaderDep) -> Response:
    """The incident's timeline as PDF, headed by the export's time, user and log position."""
    read = _read_incident(reader, caller, incident_id, "incident_timeline_pdf")
    export = TimelineExport(
        title="Juridisk tidslinje: hændelse", subject=f"Hændelse {incident_id}", subject_ref=incident_id,
        **_exported(read, caller), entries=read.entries,
        related=[f"Borgerreference {ref}" for ref in read.perpetrators]
        + ([f"Anmeldt fra mødet {read.appointment_id}"] if read.appointment_id else []),
        related_heading="Borgere angivet som udøver" + (" og mødet, hændelsen er anmeldt fra" if read.appointment_id else ""),
    )
    return _pdf(export, f"incident-timeline-{incident_id}")
