"""Commands as values: what a caller asks of Vaern, held in one frozen object per command.

A command's class is named in the imperative (`DecideRestriction`) and holds the target ids, who
asks (`actor`, and `official` where a named official answers for it) and the inputs. The inputs a
caller types in are a class of their own (`Inputs`), which an HTTP body is or extends, so that the
fields are written once: a route builds the command with `Command.of(body, target..., actor=...)`.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from domain.values import Actor


class Inputs(BaseModel):
    """What the caller supplies to a command; refused whole if a field is unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def fields(self) -> dict[str, Any]:
        """The fields as they are (nested values keep their types), to build a command from."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class Command(Inputs):
    """A request to change the record: its inputs, what it targets and who asks."""

    actor: Actor

    @classmethod
    def of(cls, inputs: Inputs, **targets: Any) -> Self:
        """This command from the caller's inputs and the targets and caller the entry point knows."""
        return cls(**inputs.fields(), **targets)
