"""The OpenAPI document, telling the whole truth: each operation's problem answers, as application/problem+json.

The problem answers an operation can give follow from what it declares: a bearer token (401), a
role check (403), If-Match (409, and 400 for a malformed one), parameters or a body (422), a path
naming something (404), a wait for `min_position` (503). A route adds others in `responses=`; every
4xx and 5xx answer is documented with the Problem schema, never FastAPI's default validation shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from api.deps import expected_version, get_principal
from api.problems import PROBLEM

BEARER = "HTTPBearer"  # the security scheme's name, as FastAPI's own HTTPBearer named it
IF_MATCH_PATTERN = r'^(W/)?"[0-9]{1,18}"$'
DESCRIPTIONS = {
    400: "the request is malformed: an If-Match that is not a version we issued",
    401: "no valid bearer token",
    403: "the caller's role may not do this",
    404: "nothing with this id (or not reachable this way)",
    409: "If-Match names a version that is no longer current: read again",
    413: "the body is larger than the endpoint takes",
    415: "the body's media type is not taken, or its bytes are not of that type",
    422: "invalid input, or refused by a rule: `errors` names each field and why",
    500: "a stored document no longer matches its hash",
    503: "the view has not reached `min_position` within the wait: try again",
}


class FieldError(BaseModel):
    """One refused field and why."""

    field: str
    reason: str


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details); submitted values are never echoed."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(None, description="with 413, 415 and 422: each field refused, and why")


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def problem_statuses(route: APIRoute) -> set[int]:
    """The problem answers `route` can give from the dependencies and parameters it declares (more in `responses=`)."""
    every = list(_dependants(route.dependant))
    calls = {d.call for d in every}
    takes = {kind for d in every for kind in ("path", "query", "header", "body") if getattr(d, f"{kind}_params")}
    statuses: set[int] = set()
    if get_principal in calls:
        statuses.add(401)
    if any(hasattr(call, "operations") for call in calls):
        statuses.add(403)
    if expected_version in calls:
        statuses |= {400, 409, 422}
    if any(getattr(call, "waits", False) for call in calls):
        statuses |= {422, 503}
    if takes:
        statuses.add(422)
    if "path" in takes:
        statuses.add(404)
    return statuses


def _document(operation: dict[str, Any], statuses: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in sorted(statuses | {int(s) for s in responses if s.isdigit() and int(s) >= 400}):
        entry = responses.setdefault(str(status), {})
        if not entry.get("description") or entry["description"] == "Validation Error":
            entry["description"] = DESCRIPTIONS.get(status, "a problem")
        entry["content"] = problem
    operation["responses"] = dict(sorted(responses.items()))
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            for schema in parameter["schema"].get("anyOf", [parameter["schema"]]):
                if schema.get("type") == "string":
                    schema.setdefault("pattern", IF_MATCH_PATTERN)


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Makes `app.openapi()` give the document with every problem answer of `routers`' routes and the Problem schema."""
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
        )
        for route in routes:
            if route.include_in_schema:
                for method in route.methods:
                    operation = document["paths"][route.path_format][method.lower()]
                    _document(operation, problem_statuses(route))
                    if get_principal in {d.call for d in _dependants(route.dependant)}:
                        operation["security"] = [{BEARER: []}]
        components = document.setdefault("components", {})
        components.setdefault("securitySchemes", {})[BEARER] = {
            "type": "http", "scheme": "bearer", "description": "a token from `vaern token`",
        }
        schemas = components.setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}), Problem=problem)
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
