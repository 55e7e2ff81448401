"""Small-count masking with secondary suppression: single tables, declared relations, and a
brute-force reader who tries every value the masked cells could take."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from projections.statistics_figures import RESTRICTION_FLOW
from projections.statistics_masking import Cell, Key, Relation, ShownCell, adds_up, mask, mask_table


def table(*values: int) -> list[Cell]:
    return [Cell(f"c{i}", v) for i, v in enumerate(values)]


def masked(cells: list[Cell], threshold: int = 5) -> list[str]:
    return [c.category for c in mask_table(cells, threshold) if c.masked]


def possible_values(
    tables: Mapping[str, Sequence[Cell]], relations: Sequence[Relation], shown: Mapping[str, Sequence[ShownCell]],
) -> dict[Key, set[int]]:
    """Every value each masked cell can take, for a reader who knows the shown cells, knows every
    exact relation's signed sum, and knows zeros are shown (so a masked cell is at least 1, unless a
    zero was masked as the last resort)."""
    relations = [r for r in relations if r.exact]
    true = {(name, c.category): c.value for name, cells in tables.items() for c in cells}
    known = {(name, c.category): c.value for name, cells in shown.items() for c in cells if not c.masked}
    hidden = sorted(k for k in true if k not in known)
    low = 0 if any(true[k] == 0 for k in hidden) else 1
    high = 2 * max(true.values(), default=0) + 6
    sums = [sum(sign * true[k] for k, sign in r.terms.items()) for r in relations]
    found: dict[Key, set[int]] = {k: set() for k in hidden}

    def feasible(assigned: dict[Key, int]) -> bool:
        for relation, total in zip(relations, sums):
            fixed = sum(sign * (known.get(k, assigned.get(k, 0))) for k, sign in relation.terms.items()
                        if k in known or k in assigned)
            free = [sign for k, sign in relation.terms.items() if k not in known and k not in assigned]
            least = fixed + sum(sign * (low if sign > 0 else high) for sign in free)
            most = fixed + sum(sign * (high if sign > 0 else low) for sign in free)
            if not least <= total <= most:
                return False
        return True

    def search(assigned: dict[Key, int], rest: list[Key]) -> bool:
        if not rest:
            return True
        for value in range(low, high + 1):
            assigned[rest[0]] = value
            if feasible(assigned) and search(assigned, rest[1:]):
                del assigned[rest[0]]
                return True
            del assigned[rest[0]]
        return False

    for key in hidden:
        for value in range(low, high + 1):
            if feasible({key: value}) and search({key: value}, [k for k in hidden if k != key]):
                found[key].add(value)
                if len(found[key]) >= 2:
                    break
    return found


def assert_protected(tables: Mapping[str, Sequence[Cell]], relations: Sequence[Relation], threshold: int) -> None:
    shown = mask(tables, relations, threshold)
    for name, cells in tables.items():
        for cell, out in zip(cells, shown[name]):
            if 0 < cell.people < threshold:
                assert out.masked, (name, cell)
    for key, values in possible_values(tables, relations, shown).items():
        assert len(values) >= 2, (key, values, tables)


def test_a_table_with_no_small_count_is_shown_in_full():
    shown = mask_table(table(12, 7, 0, 5))
    assert [c.value for c in shown] == [12, 7, 0, 5] and not any(c.masked for c in shown)


def test_counts_from_one_to_below_the_threshold_are_masked_and_their_value_withheld():
    shown = mask_table(table(3, 20, 30))
    assert shown[0].masked and shown[0].value is None
    assert [c.value for c in shown[1:]] == [None, 30]  # the partner is withheld too (see below)


def test_a_naive_single_suppression_would_leak_and_a_partner_is_masked_instead():
    cells = table(3, 10, 12)  # total 25 is published elsewhere: 25 - 10 - 12 = 3
    assert masked(cells) == ["c0", "c1"]  # the next smallest non-zero cell goes with it


def test_the_partner_is_the_smallest_non_zero_cell_and_zeros_stay_shown():
    shown = mask_table(table(0, 2, 40, 9, 0, 15))
    assert [c.category for c in shown if c.masked] == ["c1", "c3"]
    assert shown[0].value == 0 and shown[4].value == 0 and not shown[0].masked


def test_two_small_cells_are_not_enough_when_their_sum_would_give_them_away():
    # Masking only 1 and 1 leaves their sum, 2, to subtraction: both must be 1. A large cell joins them.
    assert masked(table(1, 1, 8, 30)) == ["c0", "c1", "c2"]
    # 4 and 4 sum to 8, which under threshold 5 can only be 4 + 4.
    assert masked(table(4, 4, 12)) == ["c0", "c1", "c2"]
    # When two are masked and the next smallest is small too, the smallest large one is taken.
    assert masked(table(1, 2, 3, 9)) == ["c0", "c1", "c2", "c3"]
    assert masked(table(2, 2, 9, 7)) == ["c0", "c1", "c3"]


def test_a_masked_cell_among_zeros_only_takes_a_zero_as_its_partner():
    # The total, 3, gives the only non-zero cell away unless a zero is masked with it.
    shown = mask_table(table(0, 3, 0))
    assert [c.masked for c in shown] == [True, True, False]
    assert_protected({"table": table(0, 3, 0), "total": [Cell("all", 3)]},
                     [adds_up("table", ["c0", "c1", "c2"], ("total", "all"))], 5)


def test_a_count_resting_on_few_people_is_masked_by_its_basis():
    days = [Cell("days", 23, basis=2), Cell("employees_absent", 2)]
    assert [c.masked for c in mask_table(days)] == [True, True]
    assert not mask_table([Cell("days", 23, basis=6)])[0].masked


def test_the_threshold_is_a_setting():
    assert masked(table(3, 20, 30), threshold=3) == []
    assert masked(table(2, 20, 30), threshold=3) == ["c0", "c1"]


def flow(start: int, decided: int, lifted: int, expired: int, end: int) -> dict[str, list[Cell]]:
    values = {"in_force_at_start": start, "decided": decided, "lifted": lifted, "expired": expired,
              "in_force_at_end": end}
    return {"restrictions": [Cell(k, v) for k, v in values.items()]}


FLOW = Relation("flow", {("restrictions", k): sign for k, sign in RESTRICTION_FLOW.items()})


def test_a_partner_outside_a_hidden_relation_leaks_and_the_declared_relation_prevents_it():
    # In force during the period 20, at its end 18, decided 6, lifted 2, expired 0. Published as one
    # table masked on its own, "lifted" gets "decided" as partner, but during - at_end = lifted + expired.
    old = {"restrictions": [Cell("decided", 6), Cell("in_force_during", 20), Cell("in_force_at_end", 18),
                            Cell("lifted", 2), Cell("expired", 0)]}
    leaky = {"restrictions": mask_table(old["restrictions"])}
    hidden_relation = Relation("during", {
        ("restrictions", "in_force_during"): 1, ("restrictions", "in_force_at_end"): -1,
        ("restrictions", "lifted"): -1, ("restrictions", "expired"): -1,
    })
    assert possible_values(old, [hidden_relation], leaky)[("restrictions", "lifted")] == {2}
    # Declared, the relation is protected: "lifted" needs a partner inside it.
    assert_protected(old, [hidden_relation], 5)
    # And so it is when it overlaps another declared relation that, with it, would fix the partner.
    whole = Relation("whole", {("restrictions", c.category): 1 for c in old["restrictions"]})
    assert_protected(old, [whole, hidden_relation], 5)


def test_the_restriction_flow_masks_lifted_with_a_partner_in_the_flow():
    figures = flow(14, 6, 2, 0, 18)
    shown = {c.category: c for c in mask(figures, [FLOW], 5)["restrictions"]}
    assert shown["lifted"].masked and shown["decided"].masked
    assert not shown["expired"].masked and shown["in_force_at_start"].value == 14
    values = possible_values(figures, [FLOW], {"restrictions": list(shown.values())})
    assert len(values[("restrictions", "lifted")]) >= 2


def random_figures(rng: random.Random) -> tuple[dict[str, list[Cell]], list[Relation]]:
    """A total with breakdowns that add up to it, an overlapping table, and a restriction flow."""
    total = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 11, 14])
    tables: dict[str, list[Cell]] = {"incidents": [Cell("total", total)]}
    relations: list[Relation] = []
    for name in ("by_centre", "by_channel")[: rng.randint(1, 2)]:
        parts, left = [], total
        for _ in range(rng.randint(1, 3)):
            share = rng.randint(0, left)
            parts.append(share)
            left -= share
        parts.append(left)
        tables[name] = [Cell(f"{name}{i}", v) for i, v in enumerate(parts)]
        relations.append(adds_up(name, [c.category for c in tables[name]], ("incidents", "total")))
    tables["police"] = [Cell(f"p{i}", rng.randint(0, 7)) for i in range(rng.randint(2, 3))]
    relations.append(adds_up("police", [c.category for c in tables["police"]], exact=False))
    start, decided = rng.randint(0, 12), rng.randint(0, 8)
    lifted = rng.randint(0, start + decided)
    expired = rng.randint(0, start + decided - lifted)
    tables.update(flow(start, decided, lifted, expired, start + decided - lifted - expired))
    relations.append(FLOW)
    return tables, relations


@pytest.mark.parametrize("seed", range(60))
def test_no_masked_cell_is_determined_by_the_published_relations(seed):
    rng = random.Random(seed)
    tables, relations = random_figures(rng)
    assert_protected(tables, relations, rng.choice([3, 4, 5]))
