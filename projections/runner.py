"""Runs a view: reads the event log after the view's position and applies events in batches.

Each batch is one transaction holding the view rows and the new position, so after a crash or a
restart the view resumes exactly where its last commit left it. An event the view cannot apply
stops the runner with the event's position: a view never skips an event silently.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from infra.database import Cursor, Database
from infra.eventstore import EventLog
from projections.positions import advance_position, current_position, read_position, register

log = logging.getLogger(__name__)


class View(Protocol):
    """A read model: its tables, and how each event changes them."""

    name: str

    def create_tables(self, cur: Cursor) -> None: ...

    def apply(self, cur: Cursor, event: Any, position: int) -> None: ...


class ProjectionFailed(RuntimeError):
    """A view could not apply an event; the view stopped before it."""

    def __init__(self, view: str, position: int, error: BaseException) -> None:
        super().__init__(f"view {view!r} stopped at event {position}: {type(error).__name__}: {error}")
        self.view, self.position = view, position


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
    ) -> None:
        self.view, self.events, self.db = view, events, db
        self.batch_size, self.poll_interval = batch_size, poll_interval
        self.watch = watch or PositionWatch()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        register(db, view.name)
        with db.transaction() as cur:
            view.create_tables(cur)

    @property
    def position(self) -> int:
        return current_position(self.db, self.view.name)

    def catch_up(self) -> int:
        """Applies every event recorded so far; returns how many it applied."""
        applied = 0
        while not self._stopping.is_set():
            count = self._apply_next_batch()
            if count == 0:
                return applied
            applied += max(count, 0)
        return applied

    def _apply_next_batch(self) -> int:
        start = self.position
        batch = self.events.read(after=start, limit=self.batch_size)
        if not batch:
            return 0
        with self.db.transaction() as cur:
            if read_position(cur, self.view.name, lock=True) != start:
                return -1  # another instance advanced the view meanwhile; re-read from there
            for position, event in batch:
                try:
                    self.view.apply(cur, event, position)
                except Exception as error:
                    raise ProjectionFailed(self.view.name, position, error) from error
            advance_position(cur, self.view.name, start, batch[-1][0])
        self.watch.changed()
        return len(batch)

    def run(self) -> None:
        """Follows the log until stopped; raises (and records) the error that stopped it."""
        log.info("view %s following the event log from position %d", self.view.name, self.position)
        try:
            while not self._stopping.is_set():
                generation = self.events.wakeup.generation
                if self.catch_up() == 0:
                    self.events.wakeup.wait_past(generation, self.poll_interval)
        except BaseException as error:
            self.error = error
            log.error("view %s stopped: %s", self.view.name, error)
            raise

    def start(self) -> threading.Thread:
        """Follows the log in a background thread (one per runner, however often called)."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._thread = threading.Thread(target=self._run_quietly, name=f"view-{self.view.name}", daemon=True)
        self._thread.start()
        return self._thread

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
