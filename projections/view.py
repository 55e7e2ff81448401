"""What a view is, and how a batch of events is applied to it: by the live runner and by a rebuild alike."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any, Protocol

from eventsourcing.utils import get_topic

from domain.event_parts import Needs, parts_by_topic

from infra.database import Cursor
from projections.failures import ProjectionFailed, is_transient
from projections.row_writes import Batch

log = logging.getLogger(__name__)


class View(Protocol):
    """A read model: its tables, and how each event changes them.

    `tables` names every table `create_tables` creates (a rebuild builds and swaps exactly those).
    A view may also declare `topics`, the event topics it handles: the runner then reads only those
    events. Without it (or with an empty tuple) the view is given every event. And it may offer
    `apply_batch(cur, batch)`, with exactly the effect of `apply` on each (position, event) in turn,
    which the runner uses on PostgreSQL for a batch of more than one event.
    """

    name: str
    tables: tuple[str, ...]

    def create_tables(self, cur: Cursor) -> None: ...

    def apply(self, cur: Cursor, event: Any, position: int) -> None: ...


class DeclaredView:
    """A view that states as data the events it handles and the statements that create its tables.

    `handles` are the event classes its `apply` acts on; its `topics` are theirs, so the runner
    reads exactly the events the view can use. `needs` may name, for each of them, the fields
    `apply` reads: the runner then decodes only that part of each event (domain/event_parts.py),
    and `apply` takes a part and a whole event alike. `schema` are the statements (each
    `IF NOT EXISTS`) that create the tables named in `tables` and their indexes.
    """

    handles: tuple[type, ...] = ()
    needs: Needs = {}
    schema: tuple[str, ...] = ()

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(get_topic(event) for event in self.handles)

    @cached_property
    def parts(self) -> dict[str, type]:
        """The part of each event the view reads, by topic."""
        if set(self.needs) - set(self.handles):
            raise TypeError(f"{type(self).__name__} needs parts of events it does not handle")
        return parts_by_topic(type(self).__name__, self.needs, ("originator_id", "effective_at"))

    def create_tables(self, cur: Cursor) -> None:
        for statement in self.schema:
            cur.execute(statement)


def batch_end(batch: Batch, head: int, limit: int) -> int:
    """The position a view has seen the log up to, once it has `batch`, read (up to `limit` events) after
    reading the log's `head`.

    A short batch holds every event of the view's topics committed when it was read, so all those
    up to `head` (the store commits events in position order): the view has seen the log up to
    `head`, or up to its last event if that came later. A full batch may end before `head`.
    """
    if len(batch) >= limit:
        return int(batch[-1][0])
    return max(head, int(batch[-1][0])) if batch else head


def view_topics(view: View) -> tuple[str, ...]:
    """The event topics `view` reads, or () for every event."""
    return tuple(getattr(view, "topics", ()) or ())


def view_parts(view: View) -> dict[str, type]:
    """The part of each event `view` reads, by topic; an event of any other topic is read whole."""
    return dict(getattr(view, "parts", {}) or {})


def apply_events(view: View, cur: Cursor, batch: Batch) -> None:
    """Applies `batch` in order in the caller's transaction; raises ProjectionFailed at the event that fails.

    On PostgreSQL, in a savepoint, a view with `apply_batch(cur, batch)` writes the batch its own
    way (see `write_batch`); any other view's statements go out pipelined. Neither says which event
    a failure came from; so on a failure the savepoint is rolled back and the batch applied again
    with `apply`, event by event, which stops at the first failing event. A transient error (see
    `is_transient`) is raised as it is, on either path: it is no event's doing.
    """
    connection = getattr(cur, "connection", None)
    if connection is not None and hasattr(connection, "pipeline") and len(batch) > 1:
        apply_batch = _batch_method(view)
        try:
            with connection.transaction():
                if apply_batch is not None:
                    apply_batch(cur, batch)
                else:
                    with connection.pipeline():
                        _apply_each(view, cur, batch)
            return
        except Exception as error:
            if is_transient(error):
                raise  # the connection, not an event: the whole transaction is retried
            # Which event failed is not known yet (a set-based statement, or a statement still in
            # flight when a later one failed): find it by applying the events one by one.
            log.warning("view %s: a batch failed; applying it again event by event", view.name)
    _apply_each(view, cur, batch)


def _batch_method(view: View) -> Any:
    """The view's `apply_batch`, unless a subclass overrides `apply` alone (then the two would differ)."""
    def owner(name: str) -> type | None:
        return next((cls for cls in type(view).__mro__ if name in cls.__dict__), None)

    batch_owner = owner("apply_batch")
    return getattr(view, "apply_batch") if batch_owner is not None and batch_owner is owner("apply") else None


def _apply_each(view: View, cur: Cursor, batch: Batch) -> None:
    for position, event in batch:
        try:
            view.apply(cur, event, position)
        except Exception as error:
            if is_transient(error):
                raise
            # The chain would carry the database's DETAIL (event data) into tracebacks: cut it.
            raise ProjectionFailed(view.name, position, error) from None
