"""A log record becomes one JSON object: its fields, the request id while a request is answered, the traceback."""

from __future__ import annotations

import json
import logging
import sys

from infra.logs import answering, current_request_id, json_formatter


def formatted(message: str, *args: object, exc_info: object = None, **extra: object) -> dict:
    record = logging.LogRecord("vaern.test", logging.WARNING, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    line = json_formatter().format(record)
    assert "\n" not in line
    return json.loads(line)


def test_a_record_is_one_json_object_with_its_extra_fields_and_no_request_id_outside_a_request():
    found = formatted("view %s stopped at %d", "front_desk", 7, route="/x")
    assert {k: found[k] for k in ("event", "level", "logger", "route")} == {
        "event": "view front_desk stopped at 7", "level": "warning", "logger": "vaern.test", "route": "/x"}
    assert found["timestamp"].endswith("Z") and "request_id" not in found and current_request_id() is None


def test_a_record_written_while_answering_carries_the_request_id_and_its_traceback():
    with answering("req-1"):
        try:
            raise ValueError("boom")
        except ValueError:
            found = formatted("failed", exc_info=sys.exc_info())
    assert found["request_id"] == "req-1" and "ValueError: boom" in found["exception"]
    assert current_request_id() is None
