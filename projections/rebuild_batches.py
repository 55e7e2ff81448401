"""What the PostgreSQL and the SQLite rebuild share: reading the view's batches, checking its tables."""

from __future__ import annotations

from collections.abc import Callable

from infra.eventstore import EventLog
from projections.rebuild_errors import RebuildRefused
from projections.view import View, batch_end, view_parts, view_topics

Progress = Callable[[int, int], None]
"""Called after each batch with the position the rebuild has reached and the log's head."""

# The rebuilt view has every event up to the head read at the switch: whatever stopped the live
# runner is behind it, and the view is current as of the moment before that head was read.
SWITCHED = "state = NULL, error = NULL, stopped_at = NULL, current_at = %s"


def quiet(position: int, head: int) -> None:
    """The progress of a rebuild nobody watches."""


def next_batch(view: View, events: EventLog, after: int, head: int, batch_size: int) -> tuple[list, int]:
    """The view's next events, read after the log's `head` was, and the position they take it to."""
    batch = events.read(after=after, limit=batch_size, topics=view_topics(view), parts=view_parts(view))
    return batch, batch_end(batch, head, batch_size)


def check_tables(view: View, created: list[str]) -> None:
    """Refuses a view whose `create_tables` creates other tables than it declares (they would be left behind)."""
    if sorted(created) != sorted(view.tables):
        raise RebuildRefused(
            f"view {view.name} declares tables {sorted(view.tables)} but creates {sorted(created)}"
        )
