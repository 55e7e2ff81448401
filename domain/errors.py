"""Errors the domain raises when a command is refused. Each names what was wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DomainError(Exception):
    """A command was refused; nothing was recorded."""


class RuleViolation(DomainError):
    """A command breaks a rule; `field` names the input at fault, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DomainError):
    """The thing a command or query refers to does not exist."""


class VersionConflict(DomainError):
    """The caller's expected version is not the current version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, but the current version is {actual}")
        self.expected = expected
        self.actual = actual


@contextmanager
def within(prefix: str) -> Iterator[None]:
    """Names a refused field by its place in the command, e.g. `terms.valid_until`."""
    try:
        yield
    except RuleViolation as violation:
        raise RuleViolation(f"{prefix}.{violation.field}", violation.reason) from None
