"""The two lookups people act on: the front desk's and the telephony integration's."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api import roles
from api.deps import allowed, reflecting
from api.problems import CANNOT_TELL, LOOKUP_LIMIT
from api.reads import ReaderDep
from api.schemas import CprBody, FrontDeskOut, InPersonOut, PhoneNumberBody, PhoneRoutingOut, desk_meetings
from domain.application import utc_now
from domain.identity import Cpr, normalise_phone_number
from domain.values import InPersonRule
from projections.front_desk import NAME as FRONT_DESK
from projections.front_desk import InPersonTerms
from projections.phone_routing import NAME as PHONE_ROUTING

router = APIRouter(tags=["lookups"])
MayCheckEntry = allowed(roles.FRONT_DESK)
MayRouteCalls = allowed(roles.PHONE_LOOKUP)
FrontDeskReflects = reflecting(FRONT_DESK)
PhoneRoutingReflects = reflecting(PHONE_ROUTING)


def _in_person(terms: InPersonTerms) -> InPersonOut:
    return InPersonOut(
        rule=terms.rule,
        instructions=terms.instructions,
        contact_point=terms.contact_point,
        valid_until=terms.valid_until,
        scope=terms.scope,
    )


@router.post("/front-desk/lookup", response_model=FrontDeskOut, responses={**CANNOT_TELL, **LOOKUP_LIMIT})
async def front_desk_lookup(
    body: CprBody, caller: MayCheckEntry, reader: ReaderDep, min_position: FrontDeskReflects
) -> Response:
    """May this person come in, and on what terms? Terms only: never the reasons, nor whether the person
    is on file (someone without a file and someone without a restriction get the same answer).

    For a person restricted to `by_appointment` or `guard_present`, their meetings today (Copenhagen day)
    at the caller's centre, in local wall time with room and host team; `no appointment today` when none.

    When the view cannot be served as current (its runner is stopped, or it has not applied events
    in the log in time) the answer is 503 `cannot_tell`, never "open": follow the local procedure.

    Lookups are watched per user and clock hour: past `VAERN_WATCH_LOOKUP_LIMIT_PER_HOUR` different
    citizens the answer is 429 (citizens already looked up this hour are still answered)."""
    now = utc_now()
    answer = await reader.front_desk(caller, Cpr.parse(body.cpr), now)
    headline = _in_person(answer.headline) if answer.headline else InPersonOut(rule=InPersonRule.OPEN)
    out = FrontDeskOut(
        in_person=headline,
        also_in_force=[_in_person(t) for t in answer.in_force[1:]],
        checked_at=now,
        position=answer.position,
        **desk_meetings(headline.rule, answer.appointments),
    )
    return _json(out)



@router.post("/phone-routing/lookup", response_model=PhoneRoutingOut, responses=CANNOT_TELL)
def phone_routing_lookup(
    body: PhoneNumberBody, caller: MayRouteCalls, reader: ReaderDep, min_position: PhoneRoutingReflects
) -> PhoneRoutingOut:
    """How to route a call from this number now. Routing only: never who or why.

    503 `cannot_tell` when the view cannot be served as current: route by your own table (docs/telephony.md)."""
    now = utc_now()
    answer = reader.phone_routing(caller, normalise_phone_number(body.number), now)
    routing = answer.routing  # raises ViewBehind (503 cannot tell) when the view is stopped or behind
    return PhoneRoutingOut(
        rule=routing.rule,
        contact=routing.contact,
        windows=list(routing.windows),
        valid_until=routing.valid_until,
        known_number=answer.known_number,
        checked_at=now,
        position=answer.position,
    )


def _json(out: FrontDeskOut | PhoneRoutingOut) -> Response:
    # Built and checked once here; returning the model would have FastAPI validate it a second time.
    return Response(out.model_dump_json(), media_type="application/json")
