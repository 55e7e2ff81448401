"""Small-count masking with secondary suppression: single tables, declared relations and bounds, and a
brute-force reader who tries every value the masked cells could take."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from projections.statistics_figures import RESTRICTION_FLOW, relations
from projections.statistics_masking import AtMost, Cell, Key, Known, Relation, ShownCell, adds_up, mask

TOTAL: Key = ("total", "all")


def table(*values: int) -> list[Cell]:
    return [Cell(f"c{i}", v) for i, v in enumerate(values)]


def with_total(*values: int) -> tuple[dict[str, list[Cell]], list[Known]]:
    """One table and its published total."""
    tables = {"table": table(*values), "total": [Cell("all", sum(values))]}
    return tables, [adds_up("table", [f"c{i}" for i in range(len(values))], TOTAL)]


def masked(values: Sequence[int], threshold: int = 5) -> list[str]:
    tables, known = with_total(*values)
    return [c.category for c in mask(tables, known, threshold)["table"] if c.masked]


def possible_values(
    tables: Mapping[str, Sequence[Cell]], known: Sequence[Known], shown: Mapping[str, Sequence[ShownCell]],
    threshold: int,
) -> dict[Key, set[int]]:
    """Values each masked cell can take, for a reader who knows the shown cells; every relation's
    signed sum, also of those that only nearly add up (the worst case: the overlap guessed right);
    every bound; that counts are whole and not negative; and that zeros are shown, so a masked cell
    is at least 1. Values are tried up to the largest count plus the threshold. For each cell the
    search stops once it has one value of at least the threshold and one other."""
    true = {(name, c.category): c.value for name, cells in tables.items() for c in cells}
    known_values = {(name, c.category): c.value for name, cells in shown.items() for c in cells if not c.masked}
    hidden = sorted(k for k in true if k not in known_values)
    high = max(true.values(), default=0) + threshold
    rows = [(dict(item.terms), 0 if isinstance(item, AtMost) else sum(s * true[k] for k, s in item.terms.items()),
             isinstance(item, AtMost)) for item in known]

    def feasible(assigned: dict[Key, int]) -> bool:
        for terms, total, at_most in rows:
            fixed = sum(s * known_values.get(k, assigned.get(k, 0)) for k, s in terms.items()
                        if k in known_values or k in assigned)
            free = [s for k, s in terms.items() if k not in known_values and k not in assigned]
            least = fixed + sum(s * (1 if s > 0 else high) for s in free)
            most = fixed + sum(s * (high if s > 0 else 1) for s in free)
            if least > total or (not at_most and most < total):
                return False
        return True

    def completes(assigned: dict[Key, int], rest: list[Key]) -> bool:
        if not rest:
            return True
        for value in range(1, high + 1):
            assigned[rest[0]] = value
            if feasible(assigned) and completes(assigned, rest[1:]):
                del assigned[rest[0]]
                return True
            del assigned[rest[0]]
        return False

    def linked(key: Key) -> list[Key]:
        """The masked cells tied to `key` through rows, nearest first. The others are independent of
        it: their true values solve their own rows whatever `key` is."""
        order, i = [key], 0
        while i < len(order):
            for terms, _, _ in rows:
                if order[i] in terms:
                    order += [k for k in terms if k in hidden and k not in order]
            i += 1
        return order

    def possible(key: Key, value: int) -> bool:
        tied = linked(key)
        assigned = {k: true[k] for k in hidden if k not in tied} | {key: value}
        return feasible(assigned) and completes(assigned, tied[1:])

    found: dict[Key, set[int]] = {}
    for key in hidden:
        large = next((v for v in range(threshold, high + 1) if possible(key, v)), None)
        found[key] = set() if large is None else {large}
        other = next((v for v in range(1, high + 1) if v not in found[key] and possible(key, v)), None)
        if other is not None:
            found[key].add(other)
    return found


def all_values(tables: Mapping[str, Sequence[Cell]], known: Sequence[Known], shown: Mapping[str, Sequence[ShownCell]],
               key: Key, threshold: int) -> set[int]:
    """Every value one masked cell can take (for small tables only)."""
    true = {(name, c.category): c.value for name, cells in tables.items() for c in cells}
    hidden = [k for name, cells in shown.items() for c in cells if c.masked for k in [(name, c.category)]]
    high = max(true.values()) + threshold
    values = set()
    for assignment in _assignments(len(hidden), high):
        values |= {assignment[hidden.index(key)]} if _consistent(dict(zip(hidden, assignment)), true, known) else set()
    return values


def _assignments(n: int, high: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for _ in range(n):
        out = [a + (v,) for a in out for v in range(1, high + 1)]
    return out


def _consistent(assigned: dict[Key, int], true: dict[Key, int], known: Sequence[Known]) -> bool:
    value = {**true, **assigned}
    for item in known:
        if isinstance(item, AtMost):
            if value[item.smaller] > value[item.larger]:
                return False
        elif sum(s * value[k] for k, s in item.terms.items()) != sum(s * true[k] for k, s in item.terms.items()):
            return False
    return True


def assert_protected(tables: Mapping[str, Sequence[Cell]], known: Sequence[Known], threshold: int) -> None:
    shown = mask(tables, known, threshold)
    for name, cells in tables.items():
        for cell, out in zip(cells, shown[name]):
            if 0 < cell.people < threshold:
                assert out.masked, (name, cell)
            if cell.value == 0:
                assert not out.masked, (name, cell)
    for key, values in possible_values(tables, known, shown, threshold).items():
        assert len(values) >= 2 and max(values) >= threshold, (key, values, tables)


def test_a_table_with_no_small_count_is_shown_in_full():
    tables, known = with_total(12, 7, 0, 5)
    shown = mask(tables, known)["table"]
    assert [c.value for c in shown] == [12, 7, 0, 5] and not any(c.masked for c in shown)


def test_counts_from_one_to_below_the_threshold_are_masked_and_their_value_withheld():
    tables, known = with_total(3, 20, 30)
    shown = mask(tables, known)["table"]
    assert shown[0].masked and shown[0].value is None
    assert [c.value for c in shown[1:]] == [None, 30]  # the partner is withheld too (see below)


def test_a_naive_single_suppression_would_leak_and_a_partner_is_masked_instead():
    assert masked([3, 10, 12]) == ["c0", "c1"]  # alone, c0 = 25 - 10 - 12; with c1, anything from 1 to 12


def test_the_partner_is_the_smallest_that_protects_and_zeros_stay_shown():
    tables, known = with_total(0, 2, 40, 9, 0, 15)
    shown = mask(tables, known)["table"]
    assert [c.category for c in shown if c.masked] == ["c1", "c3"]
    assert shown[0].value == 0 and shown[4].value == 0 and not shown[0].masked


def test_masked_cells_whose_sum_keeps_them_all_small_get_a_large_partner():
    # Masking only 1 and 1 leaves their sum, 2, to subtraction: both must be 1. A larger cell joins them.
    assert masked([1, 1, 8, 30]) == ["c0", "c1", "c2"]
    # 1, 2 and 3 sum to 6: none of them could be 5 or more. The 9 joins them.
    assert masked([1, 2, 3, 9]) == ["c0", "c1", "c2", "c3"]
    # 2 and 2 sum to 4; the 7 is the smallest partner with which either could be 5 or more.
    assert masked([2, 2, 9, 7]) == ["c0", "c1", "c3"]
    # 4 and 4 sum to 8: either could be anything from 1 to 7, so they protect each other.
    assert masked([4, 4, 12]) == ["c0", "c1"]


def test_two_masked_cells_summing_to_one_above_the_threshold_leave_every_split_open():
    # Working hours 5 and 1 with the total 6 shown: both masked, and the reader cannot tell 1 + 5
    # from 2 + 4 or 3 + 3 (the published rule no longer says one of them is not small).
    hours = {"incidents": [Cell("total", 6)],
             "hours": [Cell("inside_working_hours", 5), Cell("outside_working_hours", 1)]}
    known = [adds_up("hours", ["inside_working_hours", "outside_working_hours"], ("incidents", "total"))]
    shown = mask(hours, known, 5)
    assert [c.masked for c in shown["hours"]] == [True, True] and not shown["incidents"][0].masked
    assert all_values(hours, known, shown, ("hours", "outside_working_hours"), 5) == {1, 2, 3, 4, 5}


def test_a_cell_the_total_would_give_away_among_zeros_masks_the_total_not_a_zero():
    # 3 is small, and so is the total 3: both masked, the zeros shown.
    tables, known = with_total(0, 3, 0)
    shown = mask(tables, known)
    assert [c.masked for c in shown["table"]] == [False, True, False] and shown["total"][0].masked
    assert_protected(tables, known, 5)


def test_a_count_resting_on_few_people_is_masked_by_its_basis():
    people = {"employees_affected": [Cell("distinct_employees", 40)],
              "absence": [Cell("days", 23, basis=2), Cell("employees_absent", 2)]}
    known = [AtMost("absent", ("absence", "employees_absent"), ("employees_affected", "distinct_employees")),
             AtMost("a day each", ("absence", "employees_absent"), ("absence", "days"))]
    assert [c.masked for c in mask(people, known)["absence"]] == [True, True]
    assert not mask({"absence": [Cell("days", 23, basis=6)]}, [])["absence"][0].masked


def test_one_employee_in_five_police_reports_is_masked_as_one_person():
    police = {"police_reports": [Cell("reported_privately", 5, basis=1), Cell("not_reported", 9, basis=7)]}
    shown = mask(police, [])["police_reports"]
    assert shown[0].masked and shown[0].value is None and shown[1].value == 9


def test_the_threshold_is_a_setting():
    assert masked([3, 20, 30], threshold=3) == []
    assert masked([2, 20, 30], threshold=3) == ["c0", "c1"]


def flow(start: int, decided: int, lifted: int, expired: int, end: int, overdue: int = 0) -> dict[str, list[Cell]]:
    values = {"in_force_at_start": start, "decided": decided, "lifted": lifted, "expired": expired,
              "in_force_at_end": end, "reviews_overdue_at_end": overdue}
    return {"restrictions": [Cell(k, v) for k, v in values.items()]}


FLOW = Relation("flow", {("restrictions", k): sign for k, sign in RESTRICTION_FLOW.items()})
OVERDUE = AtMost("overdue", ("restrictions", "reviews_overdue_at_end"), ("restrictions", "in_force_at_end"))


def test_a_partner_outside_a_hidden_relation_leaks_and_the_declared_relation_prevents_it():
    # In force during the period 20, at its end 18, decided 6, lifted 2, expired 0. Masked with only
    # "the cells add up" in mind, "lifted" gets "decided" as partner, but during - at_end = lifted + expired.
    old = {"restrictions": [Cell("decided", 6), Cell("in_force_during", 20), Cell("in_force_at_end", 18),
                            Cell("lifted", 2), Cell("expired", 0)]}
    whole = Relation("whole", {("restrictions", c.category): 1 for c in old["restrictions"]})
    leaky = mask(old, [whole])
    hidden_relation = Relation("during", {
        ("restrictions", "in_force_during"): 1, ("restrictions", "in_force_at_end"): -1,
        ("restrictions", "lifted"): -1, ("restrictions", "expired"): -1,
    })
    assert possible_values(old, [hidden_relation], leaky, 5)[("restrictions", "lifted")] == {2}
    # Declared, the relation is protected, also together with the other one.
    assert_protected(old, [hidden_relation], 5)
    assert_protected(old, [whole, hidden_relation], 5)


def test_the_restriction_flow_masks_lifted_with_a_partner_in_the_flow():
    figures = flow(14, 6, 2, 0, 18)
    shown = {c.category: c for c in mask(figures, [FLOW, OVERDUE], 5)["restrictions"]}
    assert shown["lifted"].masked and shown["decided"].masked
    assert not shown["expired"].masked and shown["in_force_at_start"].value == 14
    assert_protected(figures, [FLOW, OVERDUE], 5)


def test_reviews_overdue_bound_the_stock_at_the_end_so_its_partner_is_the_stock_at_the_start():
    # In force at the start 10, lifted 1, in force at the end 9, overdue 9. Masking lifted with the
    # stock at the end would leak: overdue <= end makes end >= 9, so lifted = 1 and end = 9.
    figures = flow(10, 0, 1, 0, 9, overdue=9)
    pinned = {c.category: c for c in mask(figures, [FLOW], 5)["restrictions"]}
    assert pinned["in_force_at_end"].masked  # without the bound, the end looks like a fine partner
    assert all_values(figures, [FLOW, OVERDUE], mask(figures, [FLOW], 5), ("restrictions", "lifted"), 5) == {1}
    shown = mask(figures, [FLOW, OVERDUE], 5)
    cells = {c.category: c for c in shown["restrictions"]}
    assert cells["lifted"].masked and cells["in_force_at_start"].masked and not cells["in_force_at_end"].masked
    lifted = all_values(figures, [FLOW, OVERDUE], shown, ("restrictions", "lifted"), 5)
    assert {1, 5} <= lifted


def test_the_reviewers_cases_are_protected_in_a_whole_figure_set():
    raw = figure_set(total=40, centres=[40], hours=[40, 0], months=[40], kinds=[40],
                     restrictions=(10, 0, 1, 0, 9, 9))
    shown = mask(raw, relations(raw), 5)
    assert_protected(raw, relations(raw), 5)
    cells = {c.category: c for c in shown["restrictions"]}
    assert cells["lifted"].masked and cells["in_force_at_start"].masked
    raw = figure_set(total=6, centres=[6], hours=[5, 1], months=[6], kinds=[6], restrictions=(0,) * 6)
    assert_protected(raw, relations(raw), 5)


def figure_set(
    total: int, centres: list[int], hours: list[int], months: list[int], kinds: list[int],
    restrictions: tuple[int, ...], people: tuple[int, int, int] = (0, 0, 0),
    police: Sequence[tuple[int, int]] = (), channels: list[int] | None = None,
) -> dict[str, list[Cell]]:
    """A figure set shaped as published: the tables and categories that `relations` declares over."""
    employees, absent, days = people
    return {
        "incidents": [Cell("total", total)],
        "incidents_by_kind": [Cell(f"k{i}", v) for i, v in enumerate(kinds)],
        "incidents_by_channel": [Cell(f"ch{i}", v) for i, v in enumerate(channels or [total])],
        "incidents_by_centre": [Cell(f"ce{i}", v) for i, v in enumerate(centres)],
        "incidents_by_working_hours": [Cell("inside", hours[0]), Cell("outside", hours[1])],
        "incidents_by_month": [Cell(f"m{i}", v) for i, v in enumerate(months)],
        "employees_affected": [Cell("distinct_employees", employees)],
        "absence": [Cell("days", days, basis=absent), Cell("employees_absent", absent)],
        "police_reports": [Cell(f"p{i}", v, basis=b) for i, (v, b) in enumerate(police)],
        "restrictions": flow(*restrictions)["restrictions"],
    }


def split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


def random_figure_set(rng: random.Random) -> dict[str, list[Cell]]:
    """Incidents broken down as published (kinds overlapping), people, police decisions with their
    bases, and a restriction flow with its overdue reviews."""
    total = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 14])
    kinds = split(rng, total, 3)
    kinds = [k + rng.randint(0, min(2, total - k)) for k in kinds]  # an incident may have several kinds
    employees = rng.randint(1, total + 2) if total else 0
    absent = rng.randint(0, employees)
    days = absent + rng.randint(0, 3 * absent)
    police = []
    for _ in range(rng.randint(1, 3)):
        value = rng.randint(0, 7) if total else 0
        police.append((value, min(value, rng.randint(1, 3))))
    start, decided = rng.randint(0, 12), rng.randint(0, 8)
    lifted = rng.randint(0, start + decided)
    expired = rng.randint(0, start + decided - lifted)
    end = start + decided - lifted - expired
    return figure_set(
        total=total, centres=split(rng, total, rng.randint(2, 3)), hours=split(rng, total, 2),
        months=split(rng, total, rng.randint(1, 3)), kinds=kinds, channels=split(rng, total, 2),
        people=(employees, absent, days), police=police,
        restrictions=(start, decided, lifted, expired, end, rng.randint(0, end)),
    )


@pytest.mark.parametrize("seed", range(80))
def test_no_masked_cell_can_be_worked_out_or_shown_small_from_what_is_published(seed):
    rng = random.Random(seed)
    raw = random_figure_set(rng)
    assert_protected(raw, relations(raw), rng.choice([3, 4, 5]))
