"""Rotating the citizen key (docs/encryption.md): every citizen keeps their reference, and is found by it.

Files are opened and phone numbers registered under key A: most files keep their CPR number, one
("legacy") is opened as before files kept it. The key is rotated to B, with A previous; the legacy
file's citizen comes to the desk while A is still configured; `vaern keys rekey-citizens` runs and
the phone-routing view is rebuilt; then A is dropped. Throughout, the front desk finds each citizen's
terms by CPR number, calls are routed by number, and telephony is told of each file under the
reference it always had; a file opened under B gets B's reference.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from consumers.messages import routed, to_message
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.identity import citizen_ref
from domain.values import InPersonRule, PhoneRule, Role
from infra.keys import citizen_subject
from infra.services import Services
from infra.settings import Settings
from projections.freshness import ViewBehind
from projections.rebuild import rebuild
from tests.integration.conftest import bearer
from tests.integration.test_views import ACTOR, cpr, restrict
from tests.integration.test_statistics import CPRS, MANAGEMENT, caught_up, cells, first_of_month, report
from tests.integration.test_statistics import restrict as restrict_for_statistics
from tests.support.cases import decide
from tests.support.secrets import secret_env

VAERN = str(Path(sys.executable).with_name("vaern"))
KEY_A = "the-first-citizen-key-0123456789abcdef"
KEY_B = "the-next-citizen-key-0123456789abcdef"
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
NUMBERS = ["+4520304050", "+4521436587", "+4533173317"]


def _under(settings: Settings, current: str, previous: str = "") -> Services:
    keys = {"citizen_key": SecretStr(current), "previous_citizen_keys": SecretStr(previous)}
    services = Services.build(settings.model_copy(update=keys))
    services.start_views()
    return services


def _desk(services: Services, n: int) -> dict:
    """The front desk's answer for citizen `n`, as the guard gets it once the view has caught up."""
    services.runner("front_desk").catch_up()
    with TestClient(create_app(services.settings, services)) as http:
        answer = http.post("/front-desk/lookup", json={"cpr": cpr(n).digits}, headers=GUARD)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _calls(services: Services, number: str):
    services.runner("phone_routing").catch_up()
    return services.phone_routing.lookup(services.db, number, datetime.now(timezone.utc))


def _opened(services: Services, n: int):
    return services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(n).digits, actor=ACTOR))


def _rekey(settings: Settings, current: str = KEY_B, previous: str = KEY_A) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    env |= {"VAERN_DATA_DIR": str(settings.data_dir), "VAERN_LOG_LEVEL": "WARNING", **secret_env(settings),
            "VAERN_CITIZEN_KEY": current, "VAERN_PREVIOUS_CITIZEN_KEYS": previous}
    env |= {"VAERN_DATABASE_URL": settings.database_url} if settings.database_url else {}
    done = subprocess.run([VAERN, "keys", "rekey-citizens"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_every_citizen_keeps_their_reference_and_is_found_by_it_across_a_rotation(settings):
    a = _under(settings, KEY_A)
    refs = [_opened(a, n).citizen_ref for n in range(3)]
    assert refs == [citizen_ref(cpr(n), KEY_A.encode()) for n in range(3)]
    for ref, number in zip(refs, NUMBERS):
        a.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=number, actor=ACTOR))
    restrict(a, refs[0])
    decide(a.app, refs[1], phone={"rule": "banned"})
    legacy, forgotten = (citizen_ref(cpr(n), KEY_A.encode()) for n in (3, 4))  # opened before files kept CPR numbers
    for ref in (legacy, forgotten):
        a.app.save(ContactFile.open(ref, ACTOR, datetime.now(timezone.utc)))
    restrict(a, legacy)
    assert _desk(a, 0)["in_person"]["rule"] == InPersonRule.BANNED.value
    a.close()

    b = _under(settings, KEY_B, KEY_A)  # every process now runs with B, A previous
    try:
        assert _desk(b, 0)["in_person"]["rule"] == InPersonRule.BANNED.value  # found through A, before re-keying
        assert _calls(b, NUMBERS[1]).citizen_refs == {refs[1]}
        reopened = _opened(b, 3)  # the legacy citizen comes by: the file keeps their CPR number from now on
        assert reopened.citizen_ref == legacy and reopened.position is None
        assert b.app.get_contact_file(legacy).cpr_on_file
    finally:
        b.close()

    done = _rekey(settings)
    assert "4 contact files opened under earlier citizen keys are found under the current key" in done.stdout
    assert "1 contact files keep no CPR number" in done.stdout
    assert "re-keying citizen references" in done.stderr
    assert KEY_A not in done.stdout + done.stderr and KEY_B not in done.stdout + done.stderr
    assert "4 contact files" in _rekey(settings).stdout  # run again, it finds the same and records nothing twice

    b = _under(settings, KEY_B, KEY_A)
    try:
        rebuild(b.views["phone_routing"], b.events, b.db)  # every number under B's digest
        fresh = _opened(b, 5)
        assert fresh.citizen_ref == citizen_ref(cpr(5), KEY_B.encode()) and fresh.position is not None
    finally:
        b.close()

    final = _under(settings, KEY_B)  # A dropped from every process
    try:
        assert [_opened(final, n).citizen_ref for n in range(4)] == [*refs, legacy]
        assert _opened(final, 5).citizen_ref == fresh.citizen_ref
        assert _desk(final, 0)["in_person"]["rule"] == InPersonRule.BANNED.value
        assert _desk(final, 3)["in_person"]["rule"] == InPersonRule.BANNED.value
        assert [e.what for e in final.access.entries(refs[0])].count("front_desk_lookup") == 3  # all under its ref
        assert _desk(final, 2)["in_person"]["rule"] == InPersonRule.OPEN.value
        for ref, number in zip(refs, NUMBERS):
            assert _calls(final, number).citizen_refs == {ref}
        assert _calls(final, NUMBERS[1]).routing.rule is PhoneRule.BANNED

        before = final.app.get_contact_file(refs[2])
        added = final.app.register_phone_number(
            RegisterPhoneNumber(citizen_ref=refs[2], number="+4540506070", actor=ACTOR)
        )
        after = final.app.get_contact_file(refs[2])
        message = to_message(_last_event(final, refs[2]), after, added.position, routed(before))
        assert message is not None and message.key == str(refs[2]).encode()  # telephony's key: the same reference
        final.runner("routing_states").catch_up()
        with TestClient(create_app(final.settings, final)) as http:
            telephony = bearer(Role.TELEPHONY, "tel", "Telefoni")
            snapshot = http.get("/phone-routing/snapshot", headers=telephony)
        assert snapshot.status_code == 200, snapshot.text
        assert {s["citizen_ref"] for s in snapshot.json()["states"]} >= {str(ref) for ref in (*refs, legacy)}
    finally:
        final.close()


def _last_event(services: Services, ref):
    return list(services.app.repository.event_store.get(ref))[-1]


def _digests(services: Services) -> set[str]:
    with services.db.transaction(write=False) as cur:
        found = cur.execute("SELECT citizen_key FROM statistics_restriction_decisions").fetchall()
        found += cur.execute("SELECT employee_key FROM statistics_incident_employees").fetchall()
    return {str(digest) for (digest,) in found}


def test_the_statistics_view_is_built_again_under_the_new_key_and_a_release_still_reproduces(settings):
    a = _under(settings.model_copy(update={"statistics_min_cell": 3}), KEY_A)
    citizens = [a.app.open_contact_file(OpenContactFile(purpose="incident", cpr=c, actor=ACTOR)).citizen_ref for c in CPRS]
    incidents = [report(a, citizens[j % 3], -1, (j + 1, j + 2)) for j in range(6)]
    for n, citizen in enumerate(citizens):
        restrict_for_statistics(a, citizen, incidents[n])
        restrict_for_statistics(a, citizen, incidents[n + 3], scope={"kind": "centre", "centre": "JKA"})
    caught_up(a)
    whole = {"from": first_of_month(-2).isoformat(), "to": first_of_month(1).isoformat()}
    with TestClient(create_app(a.settings, a)) as http:
        given = http.get("/statistics", params=whole, headers=MANAGEMENT)
    assert given.status_code == 200, given.text
    assert cells(given.json(), "restrictions")["decided"] == 6  # shown: three distinct citizens, by digest
    under_a = _digests(a)
    a.close()

    b = _under(settings.model_copy(update={"statistics_min_cell": 3}), KEY_B, KEY_A)
    try:
        caught_up(b)  # started again from the first event on start, under B
        assert under_a and not under_a & _digests(b)  # every digest derived again, under B
        with TestClient(create_app(b.settings, b)) as http:
            again = http.get(f"/statistics/releases/{given.json()['release']['id']}", headers=MANAGEMENT)
        assert again.status_code == 200 and again.headers["X-Release-Verified"] == "true", again.text
        assert again.text == given.text
    finally:
        b.close()


def test_dropping_the_previous_key_before_the_phone_routing_view_is_rebuilt_builds_it_again_never_answering_open(
    settings,
):
    a = _under(settings, KEY_A)
    (ref,) = [_opened(a, 0).citizen_ref]
    a.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=NUMBERS[0], actor=ACTOR))
    decide(a.app, ref, phone={"rule": "banned"})
    assert _calls(a, NUMBERS[0]).routing.rule is PhoneRule.BANNED
    a.close()
    b = _under(settings, KEY_B, KEY_A)
    b.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=NUMBERS[1], actor=ACTOR))
    assert _calls(b, NUMBERS[0]).citizen_refs == _calls(b, NUMBERS[1]).citizen_refs == {ref}  # under A, and under B
    head = b.events.head()
    b.close()

    final = Services.build(settings.model_copy(update={"citizen_key": SecretStr(KEY_B)}))  # A dropped, no rebuild
    try:
        assert final.runner("phone_routing").position == 0
        with pytest.raises(ViewBehind):
            final.phone_routing.lookup(final.db, NUMBERS[0], datetime.now(timezone.utc)).routing
        assert final.runner("phone_routing").catch_up() and final.runner("phone_routing").position == head
        for number in NUMBERS[:2]:
            assert _calls(final, number).citizen_refs == {ref}
            assert _calls(final, number).routing.rule is PhoneRule.BANNED
    finally:
        final.close()


def test_a_second_rotation_finds_every_file_before_and_after_it_is_re_keyed(settings):
    key_c = "a-third-citizen-key-0123456789abcdef"
    a = _under(settings, KEY_A)
    ref, erased = (_opened(a, n).citizen_ref for n in (0, 1))
    restrict(a, ref)
    a.keys.destroy(citizen_subject(erased))  # the citizen is erased: their CPR number with the rest
    a.close()
    done = _rekey(settings)  # the first rotation records the file under B's reference
    assert "1 contact files opened under earlier" in done.stdout and "1 files' CPR numbers are erased" in done.stdout
    c = _under(settings, key_c, KEY_B)  # the second, before it is re-keyed: A is gone, and B derives nothing open
    try:
        assert _desk(c, 0)["in_person"]["rule"] == InPersonRule.BANNED.value
        assert _opened(c, 0).citizen_ref == ref
    finally:
        c.close()
    _rekey(settings, key_c, KEY_B)
    last = _under(settings, key_c)
    try:
        assert _desk(last, 0)["in_person"]["rule"] == InPersonRule.BANNED.value
        assert _opened(last, 0).citizen_ref == ref
        assert [e.what for e in last.access.entries(ref)].count("front_desk_lookup") == 2
        with last.db.transaction(write=False) as cur:  # the first rotation's row is gone: no key finds it any more
            assert cur.execute("SELECT COUNT(*) FROM vaern_citizen_refs").fetchone()[0] == 1
    finally:
        last.close()
