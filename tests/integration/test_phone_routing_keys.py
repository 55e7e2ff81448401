"""The phone-routing view finds numbers by keyed digest; a table from before, holding numbers in clear, is built again."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.contact_file.commands import RegisterPhoneNumber
from domain.values import PhoneRule
from infra.services import Services
from projections.freshness import ViewBehind
from projections.rebuild import rebuild
from tests.integration.test_views import ACTOR, open_files, restrict

NUMBER = "+4533173317"


def _restricted_holder(services: Services):
    """A citizen with NUMBER and a decided restriction (calls to a named contact only); the log's head after it."""
    (ref,) = open_files(services, 0, 1)
    services.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=NUMBER, actor=ACTOR))
    restrict(services, ref)
    return ref, services.events.head()


def _number_rows(services: Services) -> list[tuple]:
    with services.db.transaction(write=False) as cur:
        return [tuple(str(v) for v in row) for row in cur.execute("SELECT * FROM phone_routing_numbers").fetchall()]


def test_the_view_holds_a_number_only_as_its_keyed_digest_and_routes_calls_by_it(settings):
    services = Services.build(settings)
    try:
        ref, head = _restricted_holder(services)
        services.runner("phone_routing").catch_up()
        (row,) = _number_rows(services)
        assert row[:2] == (services.phone_routing.number_key(NUMBER), str(ref))
        assert not any("33173317" in value for value in row)
        answer = services.phone_routing.lookup(services.db, NUMBER, datetime.now(timezone.utc))
        assert answer.citizen_refs == {ref} and answer.routing.rule is PhoneRule.NAMED_CONTACT_ONLY
        assert services.phone_routing.holders(services.db, [NUMBER], head, besides=ref) == []
        unknown = services.phone_routing.lookup(services.db, "+4520304050", datetime.now(timezone.utc))
        assert not unknown.known_number and unknown.routing.rule is PhoneRule.OPEN
    finally:
        services.close()


def _as_before(services: Services, ref, head: int) -> None:
    """The view's tables as the code before digests left them: the number in clear, the view at the head."""
    with services.db.transaction() as cur:
        cur.execute("DROP TABLE phone_routing_numbers")
        cur.execute(
            "CREATE TABLE phone_routing_numbers (number TEXT NOT NULL, citizen_ref TEXT NOT NULL,"
            " position BIGINT NOT NULL, PRIMARY KEY (number, citizen_ref))"
        )
        cur.execute("INSERT INTO phone_routing_numbers VALUES (%s, %s, %s)", (NUMBER, str(ref), head))
        cur.execute("UPDATE vaern_positions SET position = %s WHERE name = 'phone_routing'", (head,))


@pytest.mark.parametrize("built_by", ["runner", "rebuild"])
def test_a_table_holding_numbers_in_clear_is_dropped_and_the_view_built_again(settings, built_by):
    first = Services.build(settings)
    ref, head = _restricted_holder(first)
    first.runner("phone_routing").catch_up()
    _as_before(first, ref, head)
    first.close()

    services = Services.build(settings)  # a process of the new code starts: the old table is recognised
    try:
        assert services.runner("phone_routing").position == 0 and _number_rows(services) == []
        with pytest.raises(ViewBehind):  # never answered "open" meanwhile
            services.phone_routing.lookup(services.db, NUMBER, datetime.now(timezone.utc)).routing
        if built_by == "runner":
            services.runner("phone_routing").catch_up()
        else:  # `vaern projections rebuild phone_routing`
            rebuild(services.views["phone_routing"], services.events, services.db)
        assert services.runner("phone_routing").position == head
        (row,) = _number_rows(services)
        assert row[:2] == (services.phone_routing.number_key(NUMBER), str(ref))
        answer = services.phone_routing.lookup(services.db, NUMBER, datetime.now(timezone.utc))
        assert answer.citizen_refs == {ref} and answer.routing.rule is PhoneRule.NAMED_CONTACT_ONLY
    finally:
        services.close()
