"""One command's load-decide-save, with optimistic concurrency, for any aggregate."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from domain.errors import VersionConflict

A = TypeVar("A")
_MAX_ATTEMPTS = 30


def change(
    load: Callable[[], A], save: Callable[[A], list[Any]], expected_version: int | None, decide: Callable[[A], Any]
) -> tuple[A, Any, int | None]:
    """Loads, decides and saves; returns the aggregate, what `decide` returned and the log position.

    With an expected version a concurrent write is a VersionConflict; without one the command is
    decided again on the fresh state. A refusal raised by `decide` saves nothing.
    """
    for attempt in range(_MAX_ATTEMPTS):
        aggregate = load()
        if expected_version is not None and aggregate.version != expected_version:  # type: ignore[attr-defined]
            raise VersionConflict(expected_version, aggregate.version)  # type: ignore[attr-defined]
        outcome = decide(aggregate)
        try:
            recordings = save(aggregate)
        except IntegrityError:
            if expected_version is not None:
                raise VersionConflict(expected_version, load().version) from None  # type: ignore[attr-defined]
            # Someone else wrote first: decide again on the fresh state, after a short random pause
            # so that writers racing for one aggregate do not keep colliding.
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
            continue
        return aggregate, outcome, recordings[-1].notification.id if recordings else None
    raise VersionConflict(-1, load().version)  # type: ignore[attr-defined]
