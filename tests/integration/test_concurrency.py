"""Concurrent edits on SQLite and PostgreSQL: nothing acknowledged is lost, a stale version is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.errors import VersionConflict
from domain.identity import Cpr
from infra.services import Services
from tests.support.cases import LEADER


def test_concurrent_writes_without_a_version_are_all_kept(settings):
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    numbers = [f"+45203040{n:02d}" for n in range(12)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        receipts = list(pool.map(lambda n: services.app.register_phone_number(
            RegisterPhoneNumber(citizen_ref=ref, number=n, actor=LEADER)
        ), numbers))
    file = services.app.get_contact_file(ref)
    assert sorted(file.phone_numbers) == sorted(numbers)
    assert file.version == 1 + len(numbers)
    assert sorted(r.version for r in receipts) == list(range(2, 2 + len(numbers)))
    services.close()


def test_a_write_against_a_stale_version_is_refused_and_records_nothing(settings):
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    services.app.register_phone_number(
        RegisterPhoneNumber(citizen_ref=ref, number="+4520304050", actor=LEADER, expected_version=1)
    )
    with pytest.raises(VersionConflict):
        services.app.register_phone_number(
            RegisterPhoneNumber(citizen_ref=ref, number="+4520304051", actor=LEADER, expected_version=1)
        )
    assert services.app.get_contact_file(ref).phone_numbers == ["+4520304050"]
    services.close()
