"""The phone-routing view's number digests: keyed, of their own key, never the number."""

from __future__ import annotations

from projections.number_keys import number_key, phone_routing_key
from projections.statistics import statistics_key


def test_a_number_digest_is_the_same_for_the_same_number_and_key_and_shows_nothing_of_the_number():
    key = phone_routing_key("citizen-key")
    digest = number_key(key, "+4520304050")
    assert digest == number_key(phone_routing_key("citizen-key"), "+4520304050")
    assert digest != number_key(key, "+4520304051") and "20304050" not in digest
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_the_key_depends_on_the_citizen_key_and_is_neither_it_nor_another_purposes_key():
    key = phone_routing_key("citizen-key")
    assert key != phone_routing_key("another-citizen-key")
    assert key not in (b"citizen-key", statistics_key("citizen-key"))
    assert number_key(key, "+4520304050") != number_key(phone_routing_key("another-citizen-key"), "+4520304050")
