"""One command's load-decide-save, with optimistic concurrency, for any aggregate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.errors import NotFound, VersionConflict
from domain.retry import jittered, retry

if TYPE_CHECKING:
    from eventsourcing.application import Repository

A = TypeVar("A")
_MAX_ATTEMPTS = 30
# Someone else wrote first: decide again on the fresh state, after a short random pause (up to 2 ms
# per collision so far, at most 20 ms) so that writers racing for one aggregate do not keep colliding.
_PAUSES = jittered(0.002, 10)


@dataclass(frozen=True, kw_only=True)
class Written:
    """What a write returns of any aggregate: its new version (the ETag) and the log position of its last event
    (None when the write recorded nothing new), so the caller can wait for a view to reach it."""

    version: int
    position: int | None


class _WrittenFirst(Exception):
    """Another writer saved to the aggregate between this command's load and its save."""


def change(
    load: Callable[[], A], save: Callable[[A], list[Any]], expected_version: int | None, decide: Callable[[A], Any]
) -> tuple[A, Any, int | None]:
    """Loads, decides and saves; returns the aggregate, what `decide` returned and the log position.

    With an expected version a concurrent write to the aggregate is a VersionConflict; without one, or when
    the write was to another aggregate `save` saves with it, the command is decided again on the fresh state.
    A refusal raised by `decide` saves nothing.
    """

    def attempt() -> tuple[A, Any, int | None]:
        aggregate = load()
        if expected_version is not None and aggregate.version != expected_version:  # type: ignore[attr-defined]
            raise VersionConflict(expected_version, aggregate.version)  # type: ignore[attr-defined]
        outcome = decide(aggregate)
        try:
            recordings = save(aggregate)
        except IntegrityError:
            # Only a change to the aggregate whose version the caller named conflicts with what they saw.
            if expected_version is not None and (now := load().version) != expected_version:  # type: ignore[attr-defined]
                raise VersionConflict(expected_version, now) from None
            raise _WrittenFirst from None
        return aggregate, outcome, recordings[-1].notification.id if recordings else None

    try:
        return retry(attempt, _WrittenFirst, _PAUSES, attempts=_MAX_ATTEMPTS)
    except _WrittenFirst:
        raise VersionConflict(-1, load().version) from None  # type: ignore[attr-defined]


def load(repository: Repository[UUID], kind: type[A], aggregate_id: UUID, version: int | None, missing: str) -> A:
    """The aggregate of type `kind` with this id (as it stood at `version`, if given), or NotFound saying `missing`."""
    try:
        aggregate = repository.get(aggregate_id, version=version)
    except AggregateNotFoundError:
        aggregate = None
    if not isinstance(aggregate, kind):
        raise NotFound(missing)
    return aggregate


def change_now(
    load: Callable[[], A],
    save: Callable[[A], list[Any]],
    clock: Callable[[], datetime],
    expected_version: int | None,
    decide: Callable[[A, datetime], Any],
) -> tuple[A, UUID | None, int | None]:
    """`change`, deciding as of the clock's time; returns the aggregate, the id `decide` returned (what it
    created, if anything) and the log position."""
    aggregate, outcome, position = change(load, save, expected_version, lambda a: decide(a, clock()))
    return aggregate, outcome if isinstance(outcome, UUID) else None, position
