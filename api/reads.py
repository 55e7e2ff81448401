"""Reads of personal data, each recorded in the access log as it is made.

A route that returns a citizen's data reads it here, never from the services directly: each read
below writes its access-log entry (who, why, what, whose data) as part of reading, so a read cannot
be made without its entry. tests/integration/test_every_personal_read_logs.py lists the app's routes
and calls each one that returns personal data to show it logs; a route it has not classified fails it.

One Reader serves every request of an app: a lookup costs no allocation of its own. The guard's
front-desk lookup sends its entry to the database in the same round trip as the read.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request

from api.case_access import file_for, guard, incident_for, reaches
from api.paging import Page
from api.problems import Forbidden
from api.security import Principal
from domain.application import Receipt
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import OpenContactFile
from domain.errors import NotFound
from domain.identity import Cpr
from domain.incident.aggregate import Incident
from domain.lookup_alert import LookupAlert, RaiseLookupAlert
from domain.lookup_watch import LookupLimitReached
from infra.access_log import EVERY_CENTRE, Access, AccessReportLine, Purpose, case_purpose, lookup_what
from infra.services import Services
from projections.front_desk import OPEN_FILES, FrontDeskAnswer
from projections.phone_routing import PhoneRoutingAnswer
from projections.restriction_schedule import Scheduled
from projections.routing_states import NAME as ROUTING_STATES


NO_FILE = "no contact file is open for this CPR number"


class Reader:
    """The logged reads of one set of services: each returns the data and has recorded who read it and why."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def front_desk(self, caller: Principal, cpr: Cpr, now: datetime) -> FrontDeskAnswer:
        """The in-person terms in force for the person with `cpr` at `now`, and their meetings today at the caller's
        centre (every centre's for a caller bound to none); the entry goes in the same round trip."""
        services = self.services
        access = services.access
        ref = services.citizen_keys.derived(cpr)
        # After a rotation of the citizen key, the file may have a reference of an earlier key:
        # the statements find it themselves, in the same round trip.
        found = services.citizen_refs.ref_sql(cpr, OPEN_FILES)
        search = access.search_ref("cpr", cpr.digits)
        centre = EVERY_CENTRE if caller.centre is None else caller.centre.value  # the meetings it answers with
        entry = Access(caller.actor, Purpose.ENTRY_CHECK, "front_desk_lookup", ref, search, at=now, centre=centre)
        watch, user = services.lookup_watch, caller.actor.user_id
        logged = access.entry(
            entry, view=services.front_desk.name, freshness=services.freshness, subject_sql=found,
            refusal=watch.refusal(user, search, now),
        )
        # On the event loop, no worker thread: the work before the read is computation only.
        answer = await services.front_desk.lookup_async(
            services.db, found or ref, now, before=logged, counted=(watch.counted(user, search, now), 2),
            centre=caller.centre,
        )
        access.written(Purpose.ENTRY_CHECK)  # the lookup's statement wrote its entry
        seen, known = answer.counted
        verdict = watch.verdict(caller.actor.role, int(seen), bool(known), now)
        for kind in watch.to_raise(user, verdict):
            raise_it = RaiseLookupAlert(user, kind, verdict.window, verdict.distinct)
            watch.raised(user, kind, verdict.window, await asyncio.to_thread(services.app.raise_lookup_alert, raise_it))
        if verdict.refused:
            raise LookupLimitReached(watch.rules.limit, verdict.window.seconds_left(now))
        return answer

    def phone_routing(self, caller: Principal, number: str, now: datetime) -> PhoneRoutingAnswer:
        """How to route a call from `number` (E.164) at `now`; one entry per citizen holding the number (or none)."""
        services = self.services
        answer = services.phone_routing.lookup(services.db, number, now)
        search = services.access.search_ref("phone", number)
        what = lookup_what("phone_routing_lookup", answered=answer.behind is None)
        for ref in answer.citizen_refs or {None}:
            services.access.record(Access(caller.actor, Purpose.CALL_ROUTING, what, ref, search, answer.position, now))
        return answer

    def routing_snapshot(self, caller: Principal) -> bytes:
        """Every citizen's phone-routing state, as JSON; each citizen's read is logged beside it."""
        services = self.services

        entries: list[UUID] = []

        def logged(ref: UUID) -> tuple[str, Any]:
            entries.append(ref)
            return services.access.entry(Access(caller.actor, Purpose.CALL_ROUTING, "phone_routing_snapshot", ref))

        snapshot = services.views[ROUTING_STATES].snapshot(services.db, logged)
        services.access.written(Purpose.CALL_ROUTING, len(entries))  # written with the snapshot's read
        return snapshot

    def find_file(self, caller: Principal, cpr_text: str, purpose: str) -> UUID:
        """The reference of the citizen's open file (NotFound if none): a lookup with its purpose, creating nothing."""
        cpr = Cpr.parse(cpr_text)
        ref = self.services.app.find_contact_file(cpr)
        if ref is not None and not self._reached(caller, ref):
            # Answered as if there were none, so a search tells no one where a file they may not reach is;
            # legal still sees the attempt against the citizen.
            self.services.access.denied(caller.actor, 404, "POST /contact-files/search", ref)
            ref = None
        else:
            self._search(caller, cpr, f"contact_file_search:{purpose}", ref)
        if ref is None:
            raise NotFound(NO_FILE)
        return ref

    def open_file(self, caller: Principal, command: OpenContactFile) -> Receipt:
        """Opens the citizen's file for the purpose stated (or finds the open one): logged as a lookup, as it
        tells the caller whether the file was open already. A file open already that the caller does not reach is
        refused (403, logged as denied against the citizen) and nothing is recorded on it."""
        if caller.centre_bound and (ref := self.services.app.find_contact_file(Cpr.parse(command.cpr))) is not None:
            if not self._reached(caller, ref):
                raise Forbidden("you may not open this file; a leader can grant you access", caller.actor, ref)
        receipt = self.services.app.open_contact_file(command)
        self._search(caller, Cpr.parse(command.cpr), f"contact_file_open:{command.purpose.value}", receipt.citizen_ref)
        return receipt

    def _reached(self, caller: Principal, ref: UUID) -> bool:
        """Whether the caller reaches the open file `ref`; loaded only for a caller bound to a centre."""
        return not caller.centre_bound or reaches(self.services, caller, self.services.app.get_contact_file(ref))

    def _search(self, caller: Principal, cpr: Cpr, what: str, ref: UUID | None) -> None:
        search = self.services.access.search_ref("cpr", cpr.digits)
        self.services.access.record(Access(caller.actor, case_purpose(caller.actor), what, ref, search))

    def contact_file(self, caller: Principal, citizen_ref: UUID) -> ContactFile:
        """The contact file as it stands."""
        file = file_for(self.services, caller, citizen_ref)
        self.record(caller, case_purpose(caller.actor), "contact_file", citizen_ref)
        return file

    def access_report(self, caller: Principal, citizen_ref: UUID, page: Page) -> list[AccessReportLine]:
        """A page of when and why the citizen's data was read, this read included; never by whom."""
        self.services.app.get_contact_file(citizen_ref)
        self.record(caller, Purpose.SUBJECT_ACCESS_REQUEST, "access_report", citizen_ref)
        return self.services.access.report(citizen_ref, page.after, page.fetch)

    def letter(self, caller: Principal, citizen_ref: UUID, letter_id: UUID) -> tuple[bytes, str]:
        """The letter as issued: its stored bytes and media type."""
        guard(self.services, caller, {"citizen_ref": citizen_ref})
        content, media_type = self.services.letters.fetch(citizen_ref, letter_id)
        self.record(caller, case_purpose(caller.actor), "letter", citizen_ref)
        return content, media_type

    def incident(self, caller: Principal, incident_id: UUID) -> Incident:
        """The incident as it stands."""
        incident = incident_for(self.services, caller, incident_id)
        self.record(caller, case_purpose(caller.actor), "incident", incident.basis().citizen_ref)
        return incident

    def evidence(self, caller: Principal, incident_id: UUID, sha256: str) -> tuple[bytes, str]:
        """A file attached to the incident, as stored, with the type it was stored as."""
        incident = incident_for(self.services, caller, incident_id)
        if sha256 not in incident.evidence:
            raise NotFound("no such evidence on this incident")
        content, stored_type = self.services.blobs.get(sha256)
        self.record(caller, case_purpose(caller.actor), "evidence", incident.basis().citizen_ref)
        return content, stored_type

    def reviews_due(self, caller: Principal, within: timedelta, page: Page) -> tuple[datetime, list[Scheduled]]:
        """Now, and a page of the decided restrictions whose review falls before `within` from now; each citizen
        listed on the page is a read."""
        services = self.services
        now = services.app.clock()
        due = services.schedule.reviews_due(services.db, now + within, page.after, page.fetch)
        for ref in dict.fromkeys(d.citizen_ref for d in due[: page.limit]):
            self.record(caller, case_purpose(caller.actor), "reviews_due", ref)
        return now, due

    def lookup_alerts(self, caller: Principal, page: Page) -> list[tuple[int, LookupAlert.Raised]]:
        """A page of the alerts raised on users' front-desk lookups, with their log positions; they name users
        and count citizens, naming none."""
        after = page.after[0] if page.after else 0
        alerts = self.services.app.list_lookup_alerts(after, page.fetch)
        self.record(caller, Purpose.LEGAL_REVIEW, "lookup_alerts", None)
        return alerts

    def legal(self, caller: Principal, what: str, *subjects: UUID | None) -> None:
        """Records a legal-review read of each citizen whose data it shows or rests on (once each)."""
        for subject in dict.fromkeys(subjects):
            self.record(caller, Purpose.LEGAL_REVIEW, what, subject)

    def record(self, caller: Principal, purpose: Purpose, what: str, subject: UUID | None) -> None:
        self.services.access.record(Access(caller.actor, purpose, what, subject))


async def get_reader(request: Request) -> Reader:
    """The app's Reader, made once for its services (again if the app is given other services)."""
    state = request.app.state
    services = state.services
    reader: Reader | None = getattr(state, "reader", None)
    if reader is None or reader.services is not services:
        reader = state.reader = Reader(services)
    return reader


ReaderDep = Annotated[Reader, Depends(get_reader)]
