"""A bounded, expiring in-process cache of unwrapped data keys (see infra/keys.py)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class KeyCache:
    """Unwrapped keys by subject, at most `size` of them (least recently used go first), each for `seconds`.

    A destroyed subject is kept as a tombstone (None): a read that raced the destruction in this process
    cannot put the key back. Other processes learn of a destruction when their entry expires.
    """

    def __init__(self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.seconds, self._clock = size, seconds, clock
        self._entries: OrderedDict[str, tuple[bytes | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject: str) -> tuple[bool, bytes | None]:
        """(found, key); a found None is a destroyed key."""
        with self._lock:
            entry = self._entries.get(subject)
            if entry is None:
                return False, None
            if entry[1] <= self._clock():
                del self._entries[subject]
                return False, None
            self._entries.move_to_end(subject)
            return True, entry[0]

    def put(self, subject: str, key: bytes | None) -> None:
        """Keeps `key` (None: destroyed) unless the subject is already known to be destroyed."""
        with self._lock:
            entry = self._entries.get(subject)
            if entry is not None and entry[0] is None and key is not None:
                return
            self._entries[subject] = (key, self._clock() + self.seconds)
            self._entries.move_to_end(subject)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
