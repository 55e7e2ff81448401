"""What must hold after faults: nothing acknowledged lost, nothing applied twice, every view as a
fresh rebuild builds it, the telephony consumer's table as Vaern's snapshot, a log entry per lookup."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from consumers.messages import parse_snapshot
from consumers.telephony_table import RoutingTable
from infra.database import open_database
from infra.services import Services
from projections.positions import followers
from projections.rebuild import rebuild
from tests.support import wait_until
from tests.support.chaos_load import Ledger

# Each command kind: the event it records, and how that event shows the command's marker.
MARKED = {
    "opened": ("Opened", lambda e: re.sub(r"\D", "", str(e.cpr or ""))),
    "number": ("PhoneNumberRegistered", lambda e: str(e.number)),
    "incident": ("Reported", lambda e: str(e.facts.description)),
    "proposed": ("RestrictionProposed", lambda e: str(e.terms.reasons)),
    "hearing_skipped": ("HearingSkipped", lambda e: str(e.restriction_id)),
    "decided": ("RestrictionDecided", lambda e: str(e.restriction_id)),
}


def markers_in_log(services: Services) -> Counter[tuple[str, str]]:
    """How often each (kind, marker) is recorded in the whole event log."""
    kinds = {event_name: (kind, marker) for kind, (event_name, marker) in MARKED.items()}
    found: Counter[tuple[str, str]] = Counter()
    position, head = 0, services.events.head()
    while position < head:
        batch = services.events.read(after=position, limit=5000)
        for position, event in batch:
            kind = kinds.get(type(event).__name__)
            if kind is not None:
                found[(kind[0], kind[1](event))] += 1
        if not batch:
            break
    return found


def commands_in_log(services: Services, ledger: Ledger) -> dict[str, Any]:
    """Acknowledged commands missing from the log, and commands (any) recorded more than once."""
    found = markers_in_log(services)
    sent = {(s.kind, s.marker): s for s in ledger.commands}
    lost = [s for s in ledger.commands if s.acked and found[(s.kind, s.marker)] == 0]
    twice = {key: n for key, n in found.items() if n > 1}
    unacked_applied = sum(1 for s in ledger.commands if not s.acked and found[(s.kind, s.marker)] == 1)
    strays = [key for key in found if key not in sent]  # recorded, yet never sent by the load
    return {"lost": lost, "twice": twice, "unacked_applied": unacked_applied, "strays": strays}


def behind(services: Services, relay: str) -> dict[str, Any]:
    """The views and relay not at the head of the log: their positions and states (empty: all caught up)."""
    head = services.events.head()
    rows = {**followers(services.db, names=list(services.views)), **followers(services.db, prefix=relay)}
    missing = {name: "no row" for name in [*services.views, relay] if name not in rows}
    return {**missing, **{name: (row.position, head, row.state, row.error) for name, row in rows.items()
                          if row.position < head}}


def table_rows(services: Services, view: str) -> dict[str, list[tuple]]:
    with services.db.transaction(write=False) as cur:
        return {name: sorted(cur.execute(f"SELECT * FROM {name}").fetchall(), key=repr)  # noqa: S608
                for name in services.views[view].tables}


def views_against_rebuild(services: Services) -> dict[str, list[str]]:
    """Each view's tables as they are, against the tables a rebuild from the first event gives.

    Call with every process stopped: the rebuild then swaps in tables that nothing else writes."""
    differing = {}
    for name, view in services.views.items():
        before = table_rows(services, name)
        rebuild(view, services.events, services.db)
        after = table_rows(services, name)
        differing[name] = [table for table in before if before[table] != after[table]]
    return differing


def consumer_table(data_dir: Path) -> dict[str, Any]:
    """The telephony consumer's table (the Procfile's consumer keeps it in a SQLite file)."""
    db = open_database(None, data_dir / "telephony.sqlite", name="vaern-telephony")
    try:
        return RoutingTable(db).contents()
    finally:
        db.close()


def snapshot_table(api: str, telephony_auth: dict[str, str], scratch: Path) -> dict[str, Any]:
    """Vaern's snapshot (GET /phone-routing/snapshot), as a consumer's table taking it would hold it."""
    answer = httpx.get(f"{api}/phone-routing/snapshot", headers=telephony_auth, timeout=30)
    answer.raise_for_status()
    db = open_database(None, scratch, name="vaern-snapshot")
    try:
        table = RoutingTable(db)
        table.replace(parse_snapshot(answer.content).states)
        return table.contents()
    finally:
        db.close()


def consumer_equals_snapshot(api: str, telephony_auth: dict[str, str], data_dir: Path, timeout: float) -> bool:
    """Waits (up to `timeout`) for the consumer's table to equal the snapshot; says whether it did."""
    scratch = data_dir / "snapshot.sqlite"

    def equal() -> bool:
        scratch.unlink(missing_ok=True)
        try:
            return consumer_table(data_dir) == snapshot_table(api, telephony_auth, scratch)
        except httpx.HTTPError:
            return False

    try:
        return wait_until(equal, timeout=timeout, interval=1.0)
    except AssertionError:
        return False


def lookups_unlogged(services: Services, ledger: Ledger) -> list[str]:
    """Request ids of answered (2xx) lookups with no entry in the access log."""
    answered = [rid for rid, status in ledger.lookups.items() if status is not None and 200 <= status < 300]
    with services.db.transaction(write=False) as cur:
        rows = cur.execute(
            "SELECT DISTINCT request_id FROM vaern_access_log WHERE what = 'front_desk_lookup'"
            " AND request_id = ANY(%s)", (answered,)
        ).fetchall()
    logged = {row[0] for row in rows}
    return [rid for rid in answered if rid not in logged]
