"""The reference consumer's table orders restrictions exactly as Vaern's own phone-routing view, and forgets an
erased citizen on their tombstone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from consumers.messages import MalformedMessage, RestrictionRouting, RoutingState, Tombstone, parse_record
from consumers.telephony_table import RoutingTable
from domain.values import PhoneRule
from infra.database import SqliteDatabase

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
SHARED = "+4520304050"


def restriction(rule: str, contact: str, days: int, restriction_id: UUID | None = None) -> RestrictionRouting:
    return RestrictionRouting(
        restriction_id=restriction_id or uuid4(), rule=rule, contact=contact, windows=(),
        valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=days),
    )


@pytest.fixture
def table(tmp_path):
    db = SqliteDatabase(tmp_path / "telephony.sqlite")
    yield RoutingTable(db)
    db.close()


def hold(table: RoutingTable, *restrictions: RestrictionRouting) -> None:
    """Each restriction on its own citizen, all holding the shared number."""
    with table.db.transaction() as cur:
        for r in restrictions:
            table.apply(cur, RoutingState(citizen_ref=uuid4(), sequence=1, position=1, numbers=(SHARED,), restrictions=(r,)))


def test_the_strictest_rule_wins_whatever_its_period(table):
    hold(table, restriction("named_contact_only", "Team Nord", 90), restriction("banned", "Vagten", 5))
    assert table.lookup(SHARED, NOW).rule is PhoneRule.BANNED


def test_of_equally_strict_ones_the_one_ending_first_wins(table):
    hold(table, restriction("named_contact_only", "Team Nord", 90), restriction("named_contact_only", "Team Syd", 30))
    assert table.lookup(SHARED, NOW).contact == "Team Syd"


def test_a_full_tie_goes_to_the_smallest_restriction_id_as_vaerns_view_does(table):
    low, high = sorted((uuid4(), uuid4()), key=str)
    hold(table, restriction("named_contact_only", "Team Høj", 30, high), restriction("named_contact_only", "Team Lav", 30, low))
    assert table.lookup(SHARED, NOW).contact == "Team Lav"


def test_a_tombstone_deletes_the_citizens_state_and_numbers_only_and_again_deletes_nothing(table):
    erased, kept = uuid4(), uuid4()
    with table.db.transaction() as cur:
        for ref, rule in ((erased, "banned"), (kept, "named_contact_only")):
            state = RoutingState(citizen_ref=ref, sequence=4, position=9, numbers=(SHARED, "+4587654321"),
                                 restrictions=(restriction(rule, "Team Nord", 30),))
            table.apply(cur, state)
    for _ in range(2):  # a redelivered tombstone
        with table.db.transaction() as cur:
            table.erase(cur, erased)
        contents = table.contents()
        assert set(contents["citizens"]) == {str(kept)}
        assert {ref for _, ref in contents["numbers"]} == {str(kept)}
        assert table.lookup(SHARED, NOW).rule is PhoneRule.NAMED_CONTACT_ONLY


def test_a_record_without_a_value_is_the_tombstone_its_key_names():
    ref = uuid4()
    assert parse_record(None, str(ref).encode()) == Tombstone(ref)
    for key in (None, b"", b"not a reference", b"\xff"):
        with pytest.raises(MalformedMessage, match="key is not a citizen reference"):
            parse_record(None, key)
