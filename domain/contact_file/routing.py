"""What phone routing is in force: the one rule every reader of routing follows.

Phone terms route calls unless their rule is open (`routes_calls`). A restriction takes part in
a citizen's routing while it is decided and not ended and its terms route calls (`takes_part`): one
that leaves the phone open changes no routing, so it is neither published nor looked up. Of those, the ones whose period holds a moment route a call then,
and when several do (a number can be shared, caller ID forged) the strictest wins; of equally
strict ones the soonest to end, then the lowest id (`strictest_first`, see docs/asyncapi.yaml).

The phone-routing view's lookup, the relay's messages, the as-of reconstruction and the reference
telephony consumer all ask here, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from domain.values import PhoneRule

T = TypeVar("T")
# What routing reads of one restriction: its phone rule, its period and its id.
Terms = tuple["PhoneRule | str", datetime, datetime, Any]

SEVERITY = {
    PhoneRule.OPEN: 0,
    PhoneRule.TIME_WINDOW: 1,
    PhoneRule.NAMED_CONTACT_ONLY: 2,
    PhoneRule.BANNED: 3,
}


def routes_calls(rule: PhoneRule | str) -> bool:
    """Whether phone terms with this rule route calls at all: every rule but open does."""
    return rule != PhoneRule.OPEN  # a str enum: equal to its value, so a rule read from a row or a message compares too


def takes_part(active: bool, rule: PhoneRule | str) -> bool:
    """Whether a restriction is in the routing a citizen's messages carry: decided and not ended, routing calls."""
    return active and routes_calls(rule)


def routing_in_force(held: Iterable[T], at: datetime, terms: Callable[[T], Terms]) -> list[T]:
    """Of `held` (restrictions decided and not ended at `at`), those that route a call at `at`, strictest first.

    `terms` reads a restriction's (rule, valid_from, valid_until, restriction_id); the first of the
    answer is the routing a call gets, none means the phone is open.
    """
    found = []
    for restriction in held:
        rule, valid_from, valid_until, _ = terms(restriction)
        if routes_calls(rule) and valid_from <= at < valid_until:
            found.append(restriction)
    found.sort(key=lambda restriction: strictest_first(*_tie(terms(restriction))))
    return found


def strictest_first(rule: PhoneRule | str, valid_until: datetime, restriction_id: Any) -> tuple[int, datetime, str]:
    """The sort key of the routing order: strictest rule first; of equally strict ones the soonest to
    end, then the lowest id."""
    return -SEVERITY[PhoneRule(rule)], valid_until, str(restriction_id)


def _tie(terms: Terms) -> tuple[PhoneRule | str, datetime, Any]:
    rule, _, valid_until, restriction_id = terms
    return rule, valid_until, restriction_id
