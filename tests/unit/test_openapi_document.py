"""The OpenAPI document names each operation's problem answers, as problem details, and the formats it takes."""

from __future__ import annotations

import re

import pytest

from api.app import create_app
from infra.settings import Settings

DOCUMENT = create_app(Settings()).openapi()
OPERATIONS = [(f"{m.upper()} {p}", op) for p, ops in DOCUMENT["paths"].items() for m, op in ops.items()]
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[label for label, _ in OPERATIONS])
def test_every_error_answer_is_documented_as_a_problem(label, operation):
    errors = {status: answer for status, answer in operation["responses"].items() if int(status) >= 400}
    if not label.startswith("GET /health") and label != "GET /metrics":  # open to any caller, like a liveness probe
        assert {"401", "403"} <= set(errors), label
    if operation.get("parameters") or operation.get("requestBody"):
        assert "422" in errors, label
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        assert "404" in errors, label
    if any(p["name"] == "if-match" for p in operation.get("parameters", [])):
        assert "409" in errors, label
    if any(p["name"] == "min_position" for p in operation.get("parameters", [])):
        assert "503" in errors, label
    assert all(answer["content"] == PROBLEM for answer in errors.values()), label


def test_the_problem_schema_replaces_fastapis_validation_error():
    schemas = DOCUMENT["components"]["schemas"]
    assert {"title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert "HTTPValidationError" not in schemas


def test_if_match_and_the_cpr_number_have_their_patterns():
    (if_match,) = {
        str(p["schema"]) for _, op in OPERATIONS for p in op.get("parameters", []) if p["name"] == "if-match"
    }
    assert '^(W/)?"[0-9]{1,18}"$' in if_match
    cpr = DOCUMENT["components"]["schemas"]["CprBody"]["properties"]["cpr"]["pattern"]
    assert re.fullmatch(cpr, "211062-5629") and re.fullmatch(cpr, "2110625629") and not re.fullmatch(cpr, "21106-25629")


def test_evidence_uploads_name_the_types_taken_and_their_refusals():
    upload = DOCUMENT["paths"]["/evidence"]["post"]
    assert {"application/pdf", "image/png", "text/plain", "message/rfc822", "audio/mpeg"} <= set(
        upload["requestBody"]["content"]
    )
    assert {"413", "415"} <= set(upload["responses"])
