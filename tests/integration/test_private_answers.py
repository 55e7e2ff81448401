"""Every answer, on SQLite and on PostgreSQL: never stored by a browser or proxy, never sniffed."""

from __future__ import annotations

from domain.values import Role
from tests.integration.conftest import bearer
from tests.support import wait_until
from tests.support.cases import RECIPIENT, decide_over_http


def current(ask):
    """A view's answer once the view has caught up (a loaded machine may first answer 503 cannot-tell)."""
    answered = []
    wait_until(lambda: answered.append(ask()) or answered[-1].status_code != 503, 30, interval=0.2,
               message=lambda: answered[-1].text)
    return answered[-1]

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")
MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Chef")


def test_answers_holding_personal_data_and_errors_are_not_stored_and_not_sniffed(client):
    ref = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    letter = client.post(
        f"/contact-files/{ref}/letters", json={"kind": "decision", "subject_id": decided["restriction_id"], "recipient": RECIPIENT},
        headers=LEADER,
    ).json()["created_id"]
    answers = {
        "front desk": client.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD),
        "phone routing": client.post("/phone-routing/lookup", json={"number": "20304050"}, headers=TELEPHONY),
        "snapshot": client.get("/phone-routing/snapshot", headers=TELEPHONY),
        "contact file": client.get(f"/contact-files/{ref}", headers=CASEWORKER),
        "write": client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER),
        "letter": client.get(f"/contact-files/{ref}/letters/{letter}", headers=LEGAL),
        "timeline": client.get(f"/contact-files/{ref}/timeline", headers=LEGAL),
        "timeline pdf": client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL),
        "statistics csv": client.get("/statistics.csv?from=2026-01-01&to=2026-02-01", headers=MANAGEMENT),
        "invalid": client.post("/front-desk/lookup", json={"cpr": "nope"}, headers=GUARD),
        "unauthenticated": client.get(f"/contact-files/{ref}"),
        "forbidden": client.get(f"/contact-files/{ref}", headers=GUARD),
        "not found": client.get("/incidents/00000000-0000-4000-8000-000000000000", headers=LEGAL),
        "health": client.get("/health"),
        "openapi": client.get("/openapi.json"),
    }
    for what, response in answers.items():
        assert response.status_code < 500, (what, response.text)
        assert response.headers.get("cache-control") == "no-store", what
        assert response.headers.get("x-content-type-options") == "nosniff", what


def test_the_guards_page_assets_may_be_cached_but_are_never_sniffed(client):
    asset = client.get("/front-desk/assets/front-desk.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "no-cache"  # revalidated, as the page sets it
    assert asset.headers["x-content-type-options"] == "nosniff"
