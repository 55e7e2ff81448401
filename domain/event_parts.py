"""Parts of events: models of only the fields a reader uses, decoded from stored facts instead of the whole.

A reader that goes through many facts (a view's runner and its rebuild, the relay) decodes of each
only what it reads. A whole fact costs several times more: every nested value is built and
validated, and each data subject's sealed text in it is opened (infra/sealed_events.py opens only
the subjects whose text a part holds: a part without the acting official's name never opens the
official's key). A part stands for the event class it was made from (`kind_of`), so a reader
handles a part and a whole event alike, whichever it is given (a superseded fact is read as its
whole replacement).
"""

from __future__ import annotations

from copy import copy
from typing import Any

from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict, create_model

_STANDS_FOR = "__vaern_part_of__"

Needs = dict[type, tuple[tuple[str, ...], dict[str, type[BaseModel]]]]
"""For each event class a reader reads: the fields it uses, and those it uses a part of (with that part)."""


def part_of(model: type[BaseModel], name: str, *fields: str, **nested: type[BaseModel]) -> type[BaseModel]:
    """A model of some of `model`'s fields, each validated exactly as `model` validates it; others ignored.

    A field `model` lacks is refused here, when the part is made (on import), not when a fact is read."""
    definitions: dict[str, Any] = {}
    for field_name in fields:
        info = copy(model.model_fields[field_name])
        definitions[field_name] = (info.annotation, info)
    for field_name, part in nested.items():
        definitions[field_name] = (part, copy(model.model_fields[field_name]))
    config = ConfigDict(extra="ignore", frozen=True)
    part: type[BaseModel] = create_model(name, __config__=config, **definitions)  # type: ignore[call-overload]
    setattr(part, _STANDS_FOR, model)
    return part


def parts_by_topic(reader: str, needs: Needs, head: tuple[str, ...]) -> dict[str, type[BaseModel]]:
    """The part `reader` decodes of each event class in `needs`, by the class's stored topic; each part holds
    the `head` fields (e.g. originator_id) and those `needs` names."""
    return {
        get_topic(cls): part_of(cls, f"{reader}{cls.__name__}Part", *head, *fields, **nested)
        for cls, (fields, nested) in needs.items()
    }


def stands_for(cls: type) -> type:
    """The event class `cls` is, or the one it is a part of."""
    return getattr(cls, _STANDS_FOR, cls)  # type: ignore[no-any-return]


def kind_of(event: Any) -> type:
    """The event class `event` is, or stands for if it is a part of one."""
    return stands_for(type(event))


def is_a(event: Any, classes: type | tuple[type, ...]) -> bool:
    """`isinstance` for an event or a part of one: whether it is (or stands for) one of `classes`."""
    return issubclass(kind_of(event), classes)
