"""The telephony integration's re-sync: every citizen's routing state, as the topic last carried it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api import roles
from api.deps import allowed, reflecting
from api.reads import ReaderDep
from projections.routing_states import NAME as ROUTING_STATES

router = APIRouter(tags=["telephony"])
MayResync = allowed(roles.PHONE_SNAPSHOT)
Reflected = reflecting(ROUTING_STATES)

_EXAMPLE = {
    "position": 42,
    "states": [
        {
            "citizen_ref": "6f1c2a4e-8d3b-8c5e-9a7f-0b1d2e3f4a5b",
            "sequence": 5,
            "position": 40,
            "numbers": ["+4520304050"],
            "restrictions": [
                {
                    "restriction_id": "3e9b7c1a-2d4f-4a6b-8c0d-1e2f3a4b5c6d",
                    "rule": "named_contact_only",
                    "contact": "Team Nord",
                    "windows": [],
                    "valid_from": "2026-11-23T00:00:00+01:00",
                    "valid_until": "2027-05-23T00:00:00+02:00",
                }
            ],
            "change": {"restriction_id": "3e9b7c1a-2d4f-4a6b-8c0d-1e2f3a4b5c6d"},
        }
    ],
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`position`: the event-log position the states reflect at least; `states`: per citizen,"
        " the `data` of their latest message on the restrictions topic (docs/asyncapi.yaml)",
        "content": {"application/json": {"example": _EXAMPLE}},
    }
}


@router.get("/phone-routing/snapshot", response_class=Response, responses=_RESPONSES)
def phone_routing_snapshot(caller: MayResync, reader: ReaderDep, min_position: Reflected) -> Response:
    """Every citizen's phone-routing state with the log position it reflects: load it, then read the topic."""
    return Response(content=reader.routing_snapshot(caller), media_type="application/json")
