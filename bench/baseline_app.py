"""The baseline that bench/front_desk.py measures Vaern against: the least a front-desk lookup costs.

A bare FastAPI app with the same request body as Vaern's `POST /front-desk/lookup`, answered with
ONE indexed SELECT (one round trip, autocommit) through a psycopg_pool ConnectionPool, from the
tables Vaern's front-desk view fills. The endpoint is a sync `def`, like Vaern's, so both run in
the same thread pool under the same uvicorn. No auth, no positions, no response model.

Run by the benchmark as
    python -m uvicorn bench.baseline_app:create_app --factory --app-dir <repo> ...
with BENCH_BASELINE_DATABASE_URL and BENCH_BASELINE_CITIZEN_KEY in the environment.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from domain.identity import Cpr, citizen_ref

# The strictest in-person rule in force now (never whether the citizen is on file, as Vaern's answer), and
# the citizen's meetings still booked today: one statement, on two indexes (front_desk_restrictions_citizen,
# front_desk_appointments_citizen_day), the meetings gathered into one JSON value by the database.
LOOKUP = """
SELECT r.rule, r.instructions, r.contact_point, r.valid_until, a.meetings
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT rule, instructions, contact_point, valid_until
    FROM front_desk_restrictions
    WHERE citizen_ref = %(ref)s AND rule <> 'open'
      AND valid_from <= %(now)s AND valid_until > %(now)s
      AND (ended_at IS NULL OR ended_at > %(now)s)
    ORDER BY CASE rule WHEN 'banned' THEN 3 WHEN 'guard_present' THEN 2 WHEN 'by_appointment' THEN 1 ELSE 0 END DESC,
             valid_until
    LIMIT 1
) AS r ON true
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('starts', starts, 'ends', ends, 'centre', centre, 'room', room, 'host', host)
                    ORDER BY starts) AS meetings
    FROM front_desk_appointments
    WHERE citizen_ref = %(ref)s AND day = %(day)s AND status = 'booked'
) AS a ON true
"""
MEETING_RULES = ("by_appointment", "guard_present")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class CprBody(BaseModel):
    cpr: str


def create_app() -> FastAPI:
    url = os.environ["BENCH_BASELINE_DATABASE_URL"]
    key = os.environ["BENCH_BASELINE_CITIZEN_KEY"].encode("utf-8")
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=int(os.environ.get("BENCH_BASELINE_POOL_SIZE", "10")),  # Vaern's default pool size
        kwargs={"autocommit": True, "application_name": "vaern-bench-baseline"},
        open=False,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=True)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(title="Vaern benchmark baseline", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/front-desk/lookup", response_model=None)  # a bare dict, no response validation
    def lookup(body: CprBody) -> dict[str, Any]:
        ref = str(citizen_ref(Cpr.parse(body.cpr), key))
        now = datetime.now(timezone.utc)
        day = now.astimezone(COPENHAGEN).date().isoformat()
        with pool.connection() as conn:
            row = conn.execute(LOOKUP, {"ref": ref, "now": now, "day": day}).fetchone()
        assert row is not None
        rule, instructions, contact_point, valid_until, meetings = row
        answer = {
            "in_person": {
                "rule": rule or "open",
                "instructions": instructions,
                "contact_point": contact_point,
                "valid_until": valid_until,
            },
            "checked_at": now,
        }
        if rule in MEETING_RULES:
            answer["appointments_today"] = meetings or []
        return answer

    return app
