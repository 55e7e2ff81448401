"""Small-count masking for published statistics, with secondary suppression checked against a reader.

Primary rule: a cell resting on 1..threshold-1 people is masked. A cell rests on its own value,
or on a basis when it counts something else: absence days on the employees absent, police
decisions (per employee per incident) on the employees they concern, restrictions on the citizens
they restrict.

The reader: besides every shown value, a reader is assumed to know
- every declared relation, a signed sum of cells with a known total: "the incidents by centre add
  up to the total", "in force at the start + decided - lifted - expired - in force at the end = 0".
  A relation that only nearly adds up (the kinds, as an incident may have several) is taken as if
  its exact sum were known: the worst case, a reader who guesses the overlap right;
- every declared bound (`AtMost`): reviews overdue at the end are at most the restrictions in
  force then, a kind at most the total, employees absent at most employees affected;
- that counts are whole and never negative, and that zeros are never masked: a masked cell is at
  least 1.

The guarantee: for every masked cell, the values it can take consistently with all of that include
one of at least the threshold and at least one other. A reader can neither pin a masked cell down
nor prove it small. Secondary suppression adds partners until this holds: for a cell that fails,
the smallest non-zero shown cell whose masking makes it hold, looked for first in the cell's own
relations and bounds, then in those reached through other masked cells; when no single partner
is enough, the smallest is masked and the search goes on. Masking a cell more never lets a reader
work out more about another, so a cell once protected stays protected, and masking every non-zero
cell of the relations in the end protects every cell (each can then grow along with its partners).

The check is exact over whole numbers: it searches for a solution of the reader's system (bounds
propagation over the relations, then fixing values, hubs such as the total first) with the cell
at least the threshold, or different from its value. Values are searched up to the largest count
plus the threshold; a reader has no such ceiling, so the check never finds more than a reader
could. A search that runs out of steps counts as not found, so masks more, never less.

Not modelled: that a masked cell in no relation and no bound can only have been masked for itself,
so rests on fewer than threshold people. That is what masking says of a cell standing alone; its
value stays unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
SEARCH_STEPS = 20_000

Key = tuple[str, str]
"""A cell in a figure set: (table, category)."""


@dataclass(frozen=True)
class Cell:
    """A raw figure: its category, value and (when it differs) the number of people it rests on."""

    category: str
    value: int
    basis: int | None = None

    @property
    def people(self) -> int:
        return self.value if self.basis is None else self.basis


@dataclass(frozen=True)
class ShownCell:
    """A figure as published: the value, or None when masked."""

    category: str
    value: int | None
    masked: bool


@dataclass(frozen=True)
class Relation:
    """Cells whose signed sum (coefficient +1 or -1 each) a reader knows or can work out. Not
    `exact` when the cells only nearly add up (they overlap): a reader is then assumed to know
    the sum all the same."""

    name: str
    terms: Mapping[Key, int]
    exact: bool = True


@dataclass(frozen=True)
class AtMost:
    """A bound a reader knows: `smaller` is at most `larger`."""

    name: str
    smaller: Key
    larger: Key

    @property
    def terms(self) -> Mapping[Key, int]:
        return {self.smaller: 1, self.larger: -1}


Known = Relation | AtMost


class Unprotectable(RuntimeError):
    """No further partner can be masked and a masked cell can still be worked out: never published."""


def is_small(cell: Cell, threshold: int) -> bool:
    return 0 < cell.people < threshold


class Reader:
    """What a reader can work out about the masked cells: a system of `sum <= rhs` rows over them."""

    def __init__(self, cells: Mapping[Key, Cell], known: Sequence[Known], masked: set[Key], threshold: int) -> None:
        self.keys = sorted(masked)
        self.threshold = threshold
        index = {k: i for i, k in enumerate(self.keys)}
        self.truth = [cells[k].value for k in self.keys]
        self.ceiling = max((c.value for c in cells.values()), default=0) + threshold
        self.rows: list[tuple[tuple[tuple[int, int], ...], int]] = []
        degree = [0] * len(self.keys)
        for item in known:
            hidden = tuple((index[k], sign) for k, sign in item.terms.items() if k in index)
            if not hidden:
                continue
            total = 0 if isinstance(item, AtMost) else sum(s * cells[k].value for k, s in item.terms.items())
            rhs = total - sum(s * cells[k].value for k, s in item.terms.items() if k not in index)
            self.rows.append((hidden, rhs))
            if isinstance(item, Relation):
                self.rows.append((tuple((i, -s) for i, s in hidden), -rhs))
            for i, _ in hidden:
                degree[i] += 1
        self.degree = degree

    def protects(self, key: Key) -> bool:
        """Whether `key` can, for all the reader knows, be at least the threshold and can take two values."""
        i = self.keys.index(key)
        truth, t = self.truth[i], self.threshold
        if truth < t:
            return self.can_take(i, t, self.ceiling)  # a value >= t differs from the true one
        return self.can_take(i, truth + 1, self.ceiling) or self.can_take(i, 1, truth - 1)

    def can_take(self, i: int, low: int, high: int) -> bool:
        lo, hi = [1] * len(self.keys), [self.ceiling] * len(self.keys)
        lo[i], hi[i] = max(lo[i], low), min(hi[i], high)
        if lo[i] > hi[i]:
            return False
        steps = [SEARCH_STEPS]
        try:
            return self._solve(lo, hi, steps)
        except _OutOfSteps:
            return False

    def _solve(self, lo: list[int], hi: list[int], steps: list[int]) -> bool:
        steps[0] -= 1
        if steps[0] < 0:
            raise _OutOfSteps
        if not self._propagate(lo, hi):
            return False
        open_ = [j for j in range(len(lo)) if lo[j] < hi[j]]
        if not open_:
            return all(sum(c * lo[j] for j, c in terms) <= rhs for terms, rhs in self.rows)
        j = max(open_, key=lambda j: (self.degree[j], -j))  # a hub first: the rest then falls apart
        value = min(max(self.truth[j], lo[j]), hi[j])  # the value nearest the true one first
        for low, high in ((value, value), (lo[j], value - 1), (value + 1, hi[j])):
            if low <= high:
                lo2, hi2 = lo[:], hi[:]
                lo2[j], hi2[j] = low, high
                if self._solve(lo2, hi2, steps):
                    return True
        return False

    def _propagate(self, lo: list[int], hi: list[int]) -> bool:
        """Narrows the bounds to what every row allows; False when a row cannot hold."""
        for _ in range(1000):  # the fixpoint comes fast here; stopping early only prunes less
            changed = False
            for terms, rhs in self.rows:
                least = sum(lo[j] if c > 0 else -hi[j] for j, c in terms)
                if least > rhs:
                    return False
                room = rhs - least
                for j, c in terms:
                    if c > 0 and lo[j] + room < hi[j]:
                        hi[j], changed = lo[j] + room, True
                    elif c < 0 and hi[j] - room > lo[j]:
                        lo[j], changed = hi[j] - room, True
            if not changed:
                break
        return True


class _OutOfSteps(Exception):
    pass


def _around(key: Key, known: Sequence[Known], masked: set[Key]) -> tuple[list[Key], list[Key]]:
    """Cells sharing a relation or bound with `key`, and those reached from it through masked cells."""
    near = {k for item in known if key in item.terms for k in item.terms}
    reached, frontier = {key}, [key]
    while frontier:
        cell = frontier.pop()
        for item in known:
            if cell in item.terms:
                for k in item.terms:
                    if k not in reached:
                        reached.add(k)
                        if k in masked:
                            frontier.append(k)
    return sorted(near - masked), sorted(reached - near - masked)


def _partner(
    key: Key, cells: Mapping[Key, Cell], known: Sequence[Known], masked: set[Key], threshold: int
) -> Key | None:
    def by_value(k: Key) -> tuple[int, Key]:
        return cells[k].value, k

    near, far = _around(key, known, masked)
    groups = [sorted((k for k in group if cells[k].value > 0), key=by_value) for group in (near, far)]
    for group in groups:
        for candidate in group:
            if Reader(cells, known, masked | {candidate}, threshold).protects(key):
                return candidate
    return next((group[0] for group in groups if group), None)


def suppressed(cells: Mapping[Key, Cell], known: Sequence[Known], threshold: int) -> set[Key]:
    """The cells to mask: the small ones, and partners until every masked cell is protected."""
    masked = {k for k, cell in cells.items() if is_small(cell, threshold)}
    protected: set[Key] = set()
    while True:
        reader = Reader(cells, known, masked, threshold)
        failing = None
        for key in sorted(masked - protected, key=lambda k: (cells[k].value, k)):
            if not reader.protects(key):
                failing = key
                break
            protected.add(key)
        if failing is None:
            return masked
        partner = _partner(failing, cells, known, masked, threshold)
        if partner is None:
            raise Unprotectable(f"no partner left to protect {failing}")
        masked.add(partner)


def mask(
    tables: Mapping[str, Sequence[Cell]], known: Sequence[Known], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, list[ShownCell]]:
    """Every table as published, cells in the same order: small cells and their partners masked."""
    cells = {(name, cell.category): cell for name, table in tables.items() for cell in table}
    hidden = suppressed(cells, known, threshold)
    return {
        name: [ShownCell(c.category, None if (name, c.category) in hidden else c.value, (name, c.category) in hidden)
               for c in table]
        for name, table in tables.items()
    }


def adds_up(table: str, categories: Sequence[str], total: Key, exact: bool = True) -> Relation:
    """The relation "the cells of `table` add up to `total`" (exactly, or only nearly)."""
    terms: dict[Key, int] = {(table, c): 1 for c in categories}
    terms[total] = -1
    return Relation(table, terms, exact)
