"""The scheduler: records each restriction's expiry when its period ends, at most a minute late. Each
tick it first does its chores: finishing any erasure a crash left recorded but not carried out
(infra/erasure.py), deleting evidence uploads never attached to an incident.

Exactly once, even across restarts or with two schedulers running: the contact file refuses a
second expiry, concurrent writers to one file are serialised by its version, and destroying a
destroyed key changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from domain.application import Vaern
from domain.errors import DomainError
from domain.contact_file.restriction_commands import ExpireRestriction
from infra.background import in_background
from infra.database import Database
from infra.metrics import ProcessMetrics
from projections.restriction_schedule import RestrictionScheduleView

log = logging.getLogger(__name__)


class ExpiryScheduler:
    """Ticks every `interval` seconds and expires what has ended: the application records each expiry,
    the schedule view (read from `db`) says what has ended."""

    def __init__(
        self, app: Vaern, schedule: RestrictionScheduleView, db: Database, interval: float = 15.0,
        chores: Sequence[Callable[[], object]] = (), metrics: ProcessMetrics | None = None,
    ) -> None:
        self.app, self.schedule, self.db, self.interval, self.chores = app, schedule, db, interval, tuple(chores)
        self.metrics = metrics or ProcessMetrics()  # runs, their outcome, the last good one (infra/metrics.py)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def tick(self) -> int:
        """Expires every restriction whose period has ended; returns how many this call recorded."""
        for chore in self.chores:
            chore()
        app, view = self.app, self.schedule
        recorded = 0
        for due in view.due_to_expire(self.db, app.clock()):
            try:
                receipt = app.expire_restriction(ExpireRestriction(citizen_ref=due.citizen_ref, restriction_id=due.restriction_id))
            except DomainError as error:
                log.warning("restriction %s not expired: %s", due.restriction_id, type(error).__name__)
                continue
            recorded += receipt.position is not None
        if recorded:
            log.info("recorded %d expiries", recorded)
        return recorded

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._counted_tick()
                self._stopping.wait(self.interval)
        except BaseException as error:
            self.error = error
            log.error("scheduler stopped: %s", error)
            raise

    def _counted_tick(self) -> None:
        try:
            recorded = self.tick()
        except BaseException:
            self.metrics.ticked(None)
            raise
        self.metrics.ticked(recorded)

    def start(self) -> None:
        self._thread = in_background(self.run, "scheduler")

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
