"""Small-count masking for published statistics, with secondary suppression over additive relations.

Primary rule: a cell whose count lies in 1..threshold-1 is masked (a count can rest on fewer
people than its value, e.g. absence days on the employees absent: then that basis decides).

Secondary rule: a reader can combine published cells. Every figure set therefore declares its
*relations*: signed sums of cells that a reader knows or can work out, such as "the incidents by
centre add up to the total" or "in force at the start + decided - lifted - expired - in force at
the end = 0". A relation also covers cells that only nearly add up (kinds, police decisions): a
reader may assume they do, so they are protected as if they did. For every relation, the masked
cells in it must be none, or at least two of which one is not small. The known signed sum of the
masked cells then mixes a small count with a large one (or a count with one of opposite sign) and
pins down none of them: one masked cell alone would be the rest of the relation subtracted from
its total, and two small ones (say 1 and 1) would be given away by their sum.

Partners are taken inside the failing relation, smallest non-zero first (the smallest one that is
not small when the relation already has two masked), and the relations are checked again until
all hold, since a partner can enter other relations. Relations that share cells can together fix
a masked cell that each alone leaves open (two equations, two unknowns), so the masked cells are
also checked against all relations at once: a cell the linear system pins down gets a further
partner from a relation it is in. Zeros are shown: a reader who knows that zeros are shown knows
a masked cell is at least 1, which the rule above allows for. Only when a
relation has no non-zero cell left to mask is a zero in it masked, as the last resort.

What the rule does not do: solve the full interval problem over every combination of relations.
The tables published here are one-dimensional breakdowns of one total, and one flow; for those,
the unit tests enumerate every value a reader could assign to the masked cells and find each
masked cell with at least two (taking every exact relation's sum as known).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_THRESHOLD = 5

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
    `exact` when the cells only nearly add up (they overlap) or their total is not published: they
    are protected all the same, since a reader may assume they add up."""

    name: str
    terms: Mapping[Key, int]
    exact: bool = True


def is_small(cell: Cell, threshold: int) -> bool:
    return 0 < cell.people < threshold


def _holds(relation: Relation, cells: Mapping[Key, Cell], masked: set[Key], threshold: int) -> bool:
    hidden = [k for k in relation.terms if k in masked]
    return not hidden or (len(hidden) >= 2 and any(not is_small(cells[k], threshold) for k in hidden))


def _partner(relation: Relation, cells: Mapping[Key, Cell], masked: set[Key], threshold: int) -> Key | None:
    """The cell to mask next for `relation`, or None when every cell in it is masked already."""
    open_ = [k for k in relation.terms if k not in masked]
    non_zero = sorted((k for k in open_ if cells[k].value > 0), key=lambda k: cells[k].value)
    needs_large = sum(k in masked for k in relation.terms) >= 2
    large = [k for k in non_zero if not is_small(cells[k], threshold)]
    if needs_large and large:
        return large[0]
    if non_zero:
        return non_zero[0]
    return open_[0] if open_ else None


def determined(relations: Sequence[Relation], masked: set[Key]) -> set[Key]:
    """The masked cells that the relations, taken together, fix to one value: those that no
    solution of the homogeneous system over the masked cells can change."""
    columns = sorted(masked)
    rows = [[Fraction(r.terms.get(k, 0)) for k in columns] for r in relations if any(k in masked for k in r.terms)]
    # Every relation counts here, also those not exact: a reader may treat them as exact.
    pivots: list[int] = []
    for col in range(len(columns)):  # reduced row echelon form
        pivot = next((i for i in range(len(pivots), len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        row = len(pivots)
        rows[row], rows[pivot] = rows[pivot], rows[row]
        rows[row] = [v / rows[row][col] for v in rows[row]]
        for i in range(len(rows)):
            if i != row and rows[i][col] != 0:
                rows[i] = [a - rows[i][col] * b for a, b in zip(rows[i], rows[row])]
        pivots.append(col)
    free = set(range(len(columns))) - set(pivots)
    # A pivot cell is fixed when its row involves no free cell; a free cell can always change.
    return {columns[col] for row, col in enumerate(pivots) if not any(rows[row][f] != 0 for f in free)}


def suppressed(cells: Mapping[Key, Cell], relations: Sequence[Relation], threshold: int) -> set[Key]:
    """The cells to mask: the small ones, and the partners that protect them in every relation and
    across relations (a partner for one relation must not be fixed by another)."""
    masked = {k for k, cell in cells.items() if is_small(cell, threshold)}
    changed = True
    while changed:
        changed = False
        for relation in relations:
            while not _holds(relation, cells, masked, threshold):
                partner = _partner(relation, cells, masked, threshold)
                if partner is None:
                    break
                masked.add(partner)
                changed = True
        for fixed in sorted(determined(relations, masked)):
            around = [r for r in relations if fixed in r.terms]
            partner = next((p for r in around if (p := _partner(r, cells, masked, threshold)) is not None), None)
            if partner is not None:
                masked.add(partner)
                changed = True
                break
    return masked


def mask(
    tables: Mapping[str, Sequence[Cell]], relations: Sequence[Relation], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, list[ShownCell]]:
    """Every table as published, cells in the same order: small cells and their partners masked."""
    cells = {(name, cell.category): cell for name, table in tables.items() for cell in table}
    hidden = suppressed(cells, relations, threshold)
    return {
        name: [ShownCell(c.category, None if (name, c.category) in hidden else c.value, (name, c.category) in hidden)
               for c in table]
        for name, table in tables.items()
    }


def adds_up(table: str, categories: Sequence[str], total: Key | None = None, exact: bool = True) -> Relation:
    """The relation "the cells of `table` add up to `total`" (or to a total a reader may assume)."""
    terms: dict[Key, int] = {(table, c): 1 for c in categories}
    if total is not None:
        terms[total] = -1
    return Relation(table, terms, exact and total is not None)


def mask_table(cells: Sequence[Cell], threshold: int = DEFAULT_THRESHOLD) -> list[ShownCell]:
    """One table on its own, its cells assumed to add up to a known total."""
    relation = adds_up("table", [c.category for c in cells], exact=False)
    return mask({"table": cells}, [relation], threshold)["table"]
