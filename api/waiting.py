"""Reads that wait for a view to reach a position, holding no worker thread while they wait.

A read asking for `min_position` parks on the event loop; one poll per view serves every read
waiting on it, so a thousand waiting reads cost what one does (at most one worker thread per view),
and the worker threads stay free for lookups that need no wait. A position beyond the event log's head is refused at once: no view
can reach it within the wait.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

from domain.errors import RuleViolation
from infra.services import Services, ViewNotCaughtUp
from projections.positions import current_position

log = logging.getLogger(__name__)
POLL_INTERVAL = 0.02


class Waits:
    """The reads waiting on each view's position, woken by one poll per view."""

    def __init__(self, services: Services, interval: float = POLL_INTERVAL) -> None:
        self.services, self.interval = services, interval
        self.loop = asyncio.get_running_loop()  # its futures and polls live on this loop only
        self._waiting: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._polls: dict[str, asyncio.Task[None]] = {}
        self._reached: dict[str, int] = {}

    @property
    def waiting(self) -> int:
        """How many reads are waiting now."""
        return sum(len(entries) for entries in self._waiting.values())

    async def until(self, view: str, position: int) -> None:
        """Returns once `view` reflects `position`; raises ViewNotCaughtUp after the read wait limit."""
        head = await run_in_threadpool(self.services.events.head)
        if position > head:
            raise RuleViolation("min_position", "lies beyond the last event in the log")
        reached = await run_in_threadpool(current_position, self.services.db, view)
        if reached >= position:
            return
        entry = (position, asyncio.get_running_loop().create_future())
        self._waiting.setdefault(view, []).append(entry)
        if view not in self._polls:
            self._polls[view] = asyncio.create_task(self._poll(view))
        try:
            await asyncio.wait_for(entry[1], self.services.settings.read_wait_timeout)
        except TimeoutError:
            raise ViewNotCaughtUp(view, position, max(reached, self._reached.get(view, 0))) from None
        finally:
            waiting = self._waiting.get(view, [])
            if entry in waiting:
                waiting.remove(entry)

    async def _poll(self, view: str) -> None:
        try:
            while waiting := self._waiting.get(view):
                try:
                    reached = await run_in_threadpool(current_position, self.services.db, view)
                except Exception as error:  # every read waiting on the view fails with it, as one read would
                    log.warning("reading the position of %s failed: %s", view, type(error).__name__)
                    failure = error  # the name `error` is unbound once the except clause ends
                    _settle(waiting, lambda future: future.set_exception(failure))
                    return
                self._reached[view] = reached
                _settle([w for w in waiting if w[0] <= reached], lambda future: future.set_result(None))
                if self._waiting.get(view):  # one thread per view, woken at once by a view runner in this process
                    await run_in_threadpool(self.services.watch.wait, self.interval)
        finally:
            self._polls.pop(view, None)


def _settle(entries: list[tuple[int, asyncio.Future[None]]], settle: Any) -> None:
    for _, future in entries:
        if not future.done():
            settle(future)


def waits(app: Any, services: Services) -> Waits:
    """The app's waiting reads, made on first use in the app's event loop (again if the app moves to another)."""
    state, current = app.state, getattr(app.state, "waits", None)
    if current is None or current.services is not services or current.loop is not asyncio.get_running_loop():
        state.waits = Waits(services)
    return state.waits
