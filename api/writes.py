"""Write routes as rows of a table: each a POST that builds one command and makes one call.

A row (`Write`) names the path, the command (whose snake_case name is both the application's
method and the route's), the body (the command's inputs) and who may send it. Its route builds the
command from the body, the ids in the path, If-Match where the route takes it, and the caller (the
official too, where the command is one a named official answers for), and returns the receipt.
The contact file's writes and the incident's are both such tables; each names its receipt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from inspect import Parameter, Signature
from typing import Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from api.case_access import guard
from api.deps import ExpectedVersion, ServicesDep, allowed
from api.roles import Operations
from api.schemas import WriteReceipt
from domain.application import Receipt
from domain.command import Command

Answer = TypeVar("Answer", bound=BaseModel)


def answered(response: Response, receipt: Any, out: type[Answer], location: str) -> Answer:
    """A write's receipt as answered: the written aggregate's version as ETag, the aggregate as Location."""
    response.headers["ETag"] = f'"{receipt.version}"'
    response.headers["Location"] = location
    return out(**receipt.__dict__)


def receipt_out(response: Response, receipt: Receipt) -> WriteReceipt:
    """The receipt of a write on a contact file, with its version as ETag and the file as Location."""
    return answered(response, receipt, WriteReceipt, f"/contact-files/{receipt.citizen_ref}")


@dataclass(frozen=True)
class Write:
    """A POST to `path`: the command it sends, the body it takes (if any) and the roles that may send it."""

    path: str
    command: type[Command]
    body: type[BaseModel] | None
    may: Operations  # the role table's row: which roles may send it
    description: str
    status_code: int = status.HTTP_200_OK
    if_match: bool = True  # whether the route takes If-Match as the version the caller last saw
    tags: list[str] | None = None  # the OpenAPI tags, if not the router's
    # (body, services, path ids): refuses before the command is sent
    check: Callable[[Any, Any, dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class Receipts:
    """What a table's writes answer: the function that builds the answer from a receipt, and its model."""

    out: Callable[[Response, Any], BaseModel]
    model: type[BaseModel]


def method_name(command: type[Command]) -> str:
    """The application method (and route) a command class names: `DecideRestriction` -> `decide_restriction`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", command.__name__).lower()


CONTACT_FILE = Receipts(receipt_out, WriteReceipt)


def _signature(write: Write, ids: list[str], model: type[BaseModel]) -> Signature:
    """The route's parameters, in the order the OpenAPI document lists them: path ids, body, caller, If-Match."""
    kinds: list[tuple[str, Any]] = [(name, UUID) for name in ids]
    kinds += [("body", write.body)] if write.body is not None else []
    kinds += [("caller", allowed(write.may)), ("services", ServicesDep)]
    kinds += [("version", ExpectedVersion)] if write.if_match else []
    kinds += [("response", Response)]
    parameters = [Parameter(name, Parameter.KEYWORD_ONLY, annotation=kind) for name, kind in kinds]
    return Signature(parameters, return_annotation=model)


def _endpoint(write: Write, ids: list[str], receipts: Receipts) -> Callable[..., BaseModel]:
    """The route of one write: the command from body, path ids, If-Match and caller; one call; the receipt."""
    method = method_name(write.command)
    signed = "official" in write.command.model_fields

    def endpoint(**given: Any) -> BaseModel:
        caller, body, services = given["caller"], given.get("body"), given["services"]
        guard(services, caller, {name: given[name] for name in ids})  # the caller's centre, or a grant
        if write.check is not None:
            write.check(body, services, {name: given[name] for name in ids})
        targets = {name: given[name] for name in ids} | {"actor": caller.actor}
        targets |= {"official": caller.official} if signed else {}
        targets |= {"expected_version": given["version"]} if write.if_match else {}
        command = write.command(**targets) if body is None else write.command.of(body, **targets)
        return receipts.out(given["response"], getattr(services.app, method)(command))

    endpoint.__signature__ = _signature(write, ids, receipts.model)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = method
    return endpoint


def add_writes(router: APIRouter, writes: Iterable[Write], receipts: Receipts = CONTACT_FILE) -> None:
    """Adds each write's route to `router`, in the order given, answering with `receipts`."""
    for write in writes:
        ids = re.findall(r"{(\w+)}", router.prefix + write.path)
        router.add_api_route(
            write.path, _endpoint(write, ids, receipts), methods=["POST"], response_model=receipts.model,
            status_code=write.status_code, tags=write.tags, description=write.description,
        )
