"""Events stored under today's topics still read after modules move: the stored topic is a contract.

`tests/fixtures/stored_events.jsonl` holds events as Vaern stored them (topic and JSON state, taken
from event stores the API wrote): one of every event type, and whole streams of a contact file, an
incident and the supersession register. A fresh interpreter that imports only the application
decodes each through the application's own mapper and replays the streams; the class it gets must
carry the stored topic, and writing the event again must give the stored state back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from domain.model import DomainEvent

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stored_events.jsonl"
ROOT = Path(__file__).parent.parent.parent

READER = r"""
import json, sys
from uuid import UUID
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from domain.application import Vaern

mapper = Vaern(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper  # as the application stores and reads
streams, out = {}, {"samples": [], "streams": {}}
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    stored = StoredEvent(originator_id=UUID(row["originator_id"]), originator_version=row["originator_version"],
                         topic=row["topic"], state=row["state"].encode("utf-8"))
    event = mapper.to_domain_event(stored)
    again = mapper.to_stored_event(event)
    if row["kind"] == "sample":
        out["samples"].append({"topic": row["topic"], "class_topic": get_topic(type(event)),
                               "stored_again": again.topic, "same_state": json.loads(again.state) == json.loads(row["state"])})
    else:
        streams.setdefault(row["originator_id"], []).append(event)
for ref, events in streams.items():
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    out["streams"][ref] = {"topic": get_topic(type(aggregate)), "version": aggregate.version, "events": len(events)}
print(json.dumps(out))
"""


def _read_in_fresh_interpreter() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", READER, str(FIXTURE)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _event_classes(base: type) -> set[type]:
    found: set[type] = set()
    for sub in base.__subclasses__():
        found |= {sub} | _event_classes(sub)
    return found


def test_every_stored_topic_reads_back_as_the_class_that_carries_it():
    result = _read_in_fresh_interpreter()
    assert len(result["samples"]) >= 41
    for sample in result["samples"]:
        assert sample["class_topic"] == sample["topic"]
        assert sample["stored_again"] == sample["topic"]
        assert sample["same_state"], sample["topic"]


def test_whole_stored_streams_replay_into_their_aggregates():
    streams = _read_in_fresh_interpreter()["streams"]
    assert sorted(stream["topic"] for stream in streams.values()) == [
        "vaern:ContactFile",
        "vaern:Incident",
        "vaern:SupersessionRegister",
    ]
    for stream in streams.values():
        assert stream["version"] == stream["events"]


def test_every_event_type_of_the_domain_has_a_stored_sample():
    """A new event type adds its sample here, so its topic is held from the day it is first stored."""
    import domain.application  # noqa: F401  (every aggregate and its events)

    topics = {getattr(cls, "TOPIC", None) for cls in _event_classes(DomainEvent)} - {None}
    stored = {json.loads(line)["topic"] for line in FIXTURE.read_text(encoding="utf-8").splitlines()}
    assert topics, "no event classes found"
    assert topics <= stored, sorted(topics - stored)
