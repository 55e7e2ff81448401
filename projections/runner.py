"""Runs a view: reads the event log after the view's position and applies events in batches.

Each batch is one transaction holding the view rows and the new position, so after a crash or a
restart the view resumes exactly where its last commit left it. An event the view cannot apply
stops the runner with the event's position: a view never skips an event silently. An error that is
not the event's doing (the database restarting, a lost connection, SQLite's write lock held
elsewhere) is retried with a capped backoff and reported meanwhile, never blamed on an event.
Errors are described without anything an event carried (see `describe`).

A view that declares `topics` is given only events of those types; the others are not even read
or decoded. The runner still moves the view's position past them (up to the log's head when a
batch ends short of it), so its lag counts only events it has yet to look at. On PostgreSQL a
batch goes through the view's `apply_batch` if it has one (a few set-based statements), else its
statements are pipelined: sent one after another without waiting for each result.

The runner records in its position row how it fares (running, waiting, stopped with the event's
position and the error; when it was last alive and current; projections/positions.py), so every
process can judge the view. Run by Services (`vaern serve`, `vaern projection NAME`), a runner
stopped at an event waits for the event to be superseded and then goes on.
See docs/projections.md.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any, Protocol

from domain.retry import Stopped, doubling, retry
from infra.database import Cursor, Database
from infra.eventstore import EventLog
from projections.failures import ProjectionFailed, ViewStopped, ViewWaiting, describe, is_transient
from projections.positions import (
    STOPPED,
    WAITING,
    advance_position,
    current_position,
    mark_current,
    mark_trouble,
    now,
    read_position,
    register,
)
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


class PositionWatch:
    """Lets readers in this process wait until a view has reached a position."""

    def __init__(self) -> None:
        self._cond = threading.Condition()

    def changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait(timeout)


class ViewRunner:
    """Keeps one view up to date with the event log."""

    def __init__(
        self,
        view: View,
        events: EventLog,
        db: Database,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        watch: PositionWatch | None = None,
        retry_delays: tuple[float, float] = (0.5, 30.0),
        resume_when_superseded: bool = False,
    ) -> None:
        self.view, self.events, self.db = view, events, db
        self.batch_size, self.poll_interval = batch_size, poll_interval
        self.retry_delays = retry_delays  # the first wait after a transient error, and the longest
        self.watch = watch or PositionWatch()
        self.topics = view_topics(view)
        # Stopped at an event, wait for an operator to supersede it (or for a rebuild to pass it)
        # and go on, rather than return: what `vaern serve` and `vaern projection` do.
        self.resume_when_superseded = resume_when_superseded
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._marked = float("-inf")  # when this runner last recorded itself current while idle
        self.error: BaseException | None = None  # what stopped the view, or what it is waiting out
        register(db, view.name)
        with db.transaction() as cur:
            view.create_tables(cur)

    @property
    def position(self) -> int:
        return current_position(self.db, self.view.name)

    def catch_up(self) -> int:
        """Applies every event recorded so far; returns how many events the view was given."""
        applied = 0
        while not self._stopping.is_set():
            count = self._apply_next_batch()
            if count is None:
                return applied
            applied += count
        return applied

    def _apply_next_batch(self) -> int | None:
        """Applies one batch; None when the view is at the head, else how many events it was given.

        The moment taken before the head is read is when the view is known current once it has
        the batch, if the batch reaches that head: it is recorded with the position (or, at the
        head, about once per poll interval) for lookups and /health in every process to judge.
        """
        started = now()
        start = self.position
        head = self.events.head()
        if head <= start:
            self._mark_current(start, started)
            return None
        batch = self.events.read(after=start, limit=self.batch_size, topics=self.topics)
        end = batch_end(batch, head, self.batch_size)
        with self.db.transaction() as cur:
            if read_position(cur, self.view.name, lock=True) != start:
                return 0  # another instance (or a rebuild) moved the view meanwhile; re-read from there
            apply_events(self.view, cur, batch)
            advance_position(cur, self.view.name, start, end, alive_at=started, current=end >= head)
        self._recovered()
        self.watch.changed()
        return len(batch)

    def _mark_current(self, position: int, started: datetime) -> None:
        clock = time.monotonic()
        if clock - self._marked >= self.poll_interval / 2:
            mark_current(self.db, self.view.name, position, started)
            self._marked = clock

    def run(self) -> None:
        """Follows the log until stopped; raises (and records) the error that stopped it.

        A transient error (see `is_transient`) does not stop it: the batch's transaction was rolled
        back, so it waits (0.5 s, doubling up to 30 s), reports the error in `error` meanwhile, and
        tries the batch again. Anything else stops it, with the event's position where one caused it.
        """
        log.info("view %s following the event log", self.view.name)
        try:
            while not self._stopping.is_set():
                try:
                    generation, applied = retry(
                        self._catch_up_noting_generation, is_transient, doubling(*self.retry_delays),
                        stopping=self._stopping, before_pause=self._wait_out,
                    )
                except Stopped:
                    break
                except ProjectionFailed as failed:
                    if not self.resume_when_superseded:
                        raise
                    seen = self._replacement_mark(failed.position)  # the replacement that failed, if one did
                    self._stop(failed)
                    self._await_correction(failed.position, seen)
                    continue
                self._recovered()
                if applied == 0:
                    self.events.wakeup.wait_past(generation, self.poll_interval)
        except Exception as error:
            stopped = error if isinstance(error, ProjectionFailed) else ViewStopped(
                f"view {self.view.name!r} stopped at position {self._position_or_unknown()}: {describe(error)}"
            )
            self._stop(stopped)
            raise stopped from None
        except BaseException as error:
            self.error = error
            log.error("view %s stopped: %s", self.view.name, type(error).__name__)
            raise

    def _catch_up_noting_generation(self) -> tuple[int, int]:
        """The wake-up generation seen before catching up (to wait past it when idle), and what catch_up applied."""
        generation = self.events.wakeup.generation
        return generation, self.catch_up()

    def _stop(self, stopped: ProjectionFailed | ViewStopped) -> None:
        """Reports the error that stops the view, here and in its position row, for every process to see."""
        self.error = stopped
        log.error("view %s stopped: %s", self.view.name, stopped)  # no traceback: it may quote event data
        self._record(STOPPED, getattr(stopped, "reason", str(stopped)), getattr(stopped, "position", None))

    def _await_correction(self, position: int, seen: int) -> None:
        """Waits until the event at `position` is superseded anew (a replacement recorded after `seen`),
        or the view was moved past it (a rebuild by a fixed version)."""
        log.error(
            "view %s waits for event %d to be superseded (vaern projections supersede) or for a fixed version",
            self.view.name, position,
        )
        while not self._stopping.is_set():
            generation = self.events.wakeup.generation
            self.events.wakeup.wait_past(generation, self.poll_interval)
            if self._replacement_mark(position) > seen or self._moved_to(position):
                log.info("view %s tries event %d again", self.view.name, position)
                return

    def _moved_to(self, position: int) -> bool:
        reached = self._position_or_unknown()
        return isinstance(reached, int) and reached >= position

    def _replacement_mark(self, position: int) -> int:
        try:
            return self.events.replacement_mark(position)
        except Exception as error:  # the database: look again at the next wake-up
            log.warning("view %s cannot look for a supersession yet: %s", self.view.name, describe(error))
            return 0

    def _record(self, state: str, error: str, stopped_at: int | None = None) -> None:
        try:
            mark_trouble(self.db, self.view.name, state, error, stopped_at)
        except Exception as failure:  # the database may be what is failing; the log still says it
            log.warning("view %s: its state could not be recorded (%s)", self.view.name, describe(failure))

    def _wait_out(self, error: Exception, delay: float, failures: int) -> None:
        """Reports, here and in the position row, the transient error the runner waits `delay` seconds out."""
        self.error = ViewWaiting(
            f"view {self.view.name!r} is retrying after a database error ({describe(error)});"
            f" next attempt in {delay:g} s (failure {failures} in a row)"
        )
        log.warning("%s", self.error)
        self._record(WAITING, str(self.error))

    def _recovered(self) -> None:
        """After a batch committed (which cleared the recorded state too): no error to report here either."""
        if self.error is not None:
            self.error = None
            log.info("view %s is following the log again", self.view.name)

    def _position_or_unknown(self) -> int | str:
        try:
            return self.position
        except Exception:
            return "unknown"

    def start(self) -> threading.Thread:
        """Follows the log in a background thread (one per runner, however often called)."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._known_current()
        self._thread = threading.Thread(target=self._run_quietly, name=f"view-{self.view.name}", daemon=True)
        self._thread.start()
        return self._thread

    def _known_current(self) -> None:
        """Records a view found at the head as current now, before its thread first runs: a lookup or
        /health right after start-up then sees it current, not merely not yet looked at."""
        try:
            started = now()
            position = self.position
            if self.events.head() <= position:
                self._mark_current(position, started)
        except Exception as error:  # the thread meets it again, and waits it out or stops
            log.warning("view %s: could not record itself current at start (%s)", self.view.name, describe(error))

    def _run_quietly(self) -> None:
        try:
            self.run()
        except BaseException:  # recorded in self.error and reported on /health
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """Stops following, and waits for a batch in progress to finish."""
        self._stopping.set()
        self.events.wakeup.bump()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
