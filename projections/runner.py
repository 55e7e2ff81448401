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

from domain.retry import Stopped, doubling, retry
from infra.background import in_background
from infra.database import Database
from infra.eventstore import EventLog
from projections.failures import ProjectionFailed, ViewStopped, ViewWaiting, describe, is_transient
from projections.positions import STOPPED, WAITING, Tracked, advance_position, now
from projections.view import View, apply_events, batch_end, view_parts, view_topics

log = logging.getLogger(__name__)


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
        self.topics, self.parts = view_topics(view), view_parts(view)
        # Stopped at an event, wait for an operator to supersede it (or for a rebuild to pass it)
        # and go on, rather than return: what `vaern serve` and `vaern projection` do.
        self.resume_when_superseded = resume_when_superseded
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # what stopped the view, or what it is waiting out
        self._row = Tracked(db, view.name, f"view {view.name}")
        with db.transaction() as cur:
            view.create_tables(cur)

    @property
    def position(self) -> int:
        return self._row.position

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
            self._row.mark_current(started, self.poll_interval, start)
            return None
        batch = self.events.read(after=start, limit=self.batch_size, topics=self.topics, parts=self.parts)
        end = batch_end(batch, head, self.batch_size)
        with self.db.transaction() as cur:
            if not self._row.still_at(cur, start):
                return 0  # another instance (or a rebuild) moved the view meanwhile; re-read from there
            apply_events(self.view, cur, batch)
            advance_position(cur, self.view.name, start, end, alive_at=started, current=end >= head)
        self._recovered()
        self.watch.changed()
        return len(batch)

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
        self._row.record(STOPPED, getattr(stopped, "reason", str(stopped)), getattr(stopped, "position", None))

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

    def _wait_out(self, error: Exception, delay: float, failures: int) -> None:
        """Reports, here and in the position row, the transient error the runner waits `delay` seconds out."""
        self.error = ViewWaiting(
            f"view {self.view.name!r} is retrying after a database error ({describe(error)});"
            f" next attempt in {delay:g} s (failure {failures} in a row)"
        )
        log.warning("%s", self.error)
        self._row.record(WAITING, str(self.error))

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
        self._thread = in_background(self.run, f"view-{self.view.name}")
        return self._thread

    def _known_current(self) -> None:
        """Records a view found at the head as current now, before its thread first runs: a lookup or
        /health right after start-up then sees it current, not merely not yet looked at."""
        try:
            started = now()
            position = self.position
            if self.events.head() <= position:
                self._row.mark_current(started, self.poll_interval, position)
        except Exception as error:  # the thread meets it again, and waits it out or stops
            log.warning("view %s: could not record itself current at start (%s)", self.view.name, describe(error))

    def stop(self, timeout: float = 10.0) -> None:
        """Stops following, and waits for a batch in progress to finish."""
        self._stopping.set()
        self.events.wakeup.bump()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
