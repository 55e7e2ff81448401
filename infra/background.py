"""Running a long-lived follower (a view runner, the relay, the scheduler, the telephony consumer) in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable


def in_background(run: Callable[[], object], name: str) -> threading.Thread:
    """Starts `run` in a daemon thread called `name`, and returns the thread.

    What `run` raises ends the thread and goes no further: each follower records its error itself
    before raising it (its `error`, reported by its status and on /health).
    """

    def quietly() -> None:
        try:
            run()
        except BaseException:  # already recorded by the follower
            pass

    thread = threading.Thread(target=quietly, name=name, daemon=True)
    thread.start()
    return thread
