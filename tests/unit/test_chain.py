"""The hash chain's arithmetic and walk, on records made up in memory (tamper-evidence.md)."""

from __future__ import annotations

from uuid import UUID

import pytest

from infra.chain import GENESIS, field, links, walk
from infra.event_chain import event_content

ID = UUID("12345678-1234-5678-1234-567812345678")


def records(n: int = 8) -> list[tuple[int, bytes]]:
    return [(p, field(f"record {p}")) for p in range(2, 2 * n + 2, 2)]  # gaps, as sequences leave them


def checked(recs: list[tuple[int, bytes]], chain: list[tuple[int, bytes]], checkpoint=None):
    return walk(iter(recs), iter(chain), checkpoint)


def test_an_events_encoding_is_its_fields_whichever_way_the_store_gives_its_originator_id():
    expected = field(ID.bytes) + field(3) + field("domain.x:Opened") + field(b"\x00state")
    for originator in (ID, ID.hex, ID.bytes):
        assert event_content(originator, 3, "domain.x:Opened", b"\x00state") == expected


def test_fields_are_length_prefixed_so_no_two_field_lists_encode_alike():
    assert field("ab") + field("c") != field("a") + field("bc")
    assert field(None) != field("") and field(0) != field(b"")


def test_an_untouched_chain_is_intact_up_to_its_last_position():
    recs = records()
    found = checked(recs, links(GENESIS, recs))
    assert (found.broken, found.head, found.count) == (None, 16, 8)


@pytest.mark.parametrize(("tamper", "position", "kind"), [
    (lambda r: r.__setitem__(3, (8, field("changed"))), 8, "altered"),
    (lambda r: r.pop(4), 10, "missing"),
    (lambda r: r.__delitem__(slice(5, None)), 12, "truncated"),
    (lambda r: r.append((99, field("slipped in"))), 99, "unlinked"),
    (lambda r: r.insert(2, (5, field("slipped in"))), 5, "unlinked"),
    (lambda r: r.__setitem__(slice(1, 6, 4), [(4, r[5][1]), (12, r[1][1])]), 4, "reordered"),
])
def test_each_kind_of_tampering_is_found_where_it_was_done(tamper, position, kind):
    recs = records()
    chain = links(GENESIS, recs)
    tamper(recs)
    found = checked(recs, chain)
    assert (found.broken.position, found.broken.kind) == (position, kind)


def test_a_checkpoint_catches_a_chain_rebuilt_over_altered_records_and_one_cut_short():
    recs = records()
    signed = links(GENESIS, recs)[5]
    recs[2] = (6, field("changed"))
    found = checked(recs, links(GENESIS, recs), checkpoint=signed)
    assert (found.broken.position, found.broken.kind) == (signed[0], "rewritten")
    short = records()[:3]
    found = checked(short, links(GENESIS, short), checkpoint=signed)
    assert found.broken.kind == "truncated"
