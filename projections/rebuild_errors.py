"""How a rebuild of a view can fail; each leaves the live view as it was, but SwitchOutcomeUnknown."""

from __future__ import annotations


class RebuildRefused(RuntimeError):
    """The rebuild could not start: another is running, or the view's declared tables are wrong."""


class RebuildLost(RuntimeError):
    """The rebuild lost its hold on the view (its lock, or its place to another); it did not switch."""


class SwitchFailed(RuntimeError):
    """The switch could not lock the live tables in time in any attempt; the live view is unchanged."""


class SwitchOutcomeUnknown(RuntimeError):
    """The rebuild stopped while its switch was committing, and whether it committed could not be read."""
