"""Facts are stored with each data subject's personal text sealed under that subject's key (infra/sealing.py).

Run over one stored sample of every event type (tests/fixtures/stored_events.jsonl), so a new event
type is covered as soon as its sample is added.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import resolve_topic

import domain.application  # noqa: F401  (registers every event class's topic)
from domain.bounds import from_log_json
from domain.incident.aggregate import Incident
from domain.model import PydanticMapper
from domain.personal import Subject, personal_text
from infra.keys import MemoryKeyStore, UnsealError
from infra.sealed_events import ERASED, SealingMapper, erased_text

SAMPLES = Path(__file__).parent.parent / "fixtures" / "stored_events.jsonl"


def _samples() -> list[Any]:
    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [from_log_json(resolve_topic(r["topic"]), r["state"]) for r in rows if r.get("kind") == "sample"]


EVENTS = _samples()


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def mapper(keys: MemoryKeyStore) -> SealingMapper:
    return SealingMapper.over(PydanticMapper(transcoder=JSONTranscoder()), keys, b"a citizen key for the tests only")


def _readable(stored: StoredEvent) -> str:
    """The stored JSON without its sealed boxes: what anyone reading the table sees."""
    data = json.loads(stored.state)
    for box in data["boxes"].values():
        box.pop("box")
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).TOPIC)
def test_every_fact_comes_back_as_it_was(mapper: SealingMapper, event: Any) -> None:
    assert mapper.to_domain_event(mapper.to_stored_event(event)) == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).TOPIC)
def test_no_personal_text_is_stored_readable(mapper: SealingMapper, event: Any) -> None:
    readable = _readable(mapper.to_stored_event(event))
    texts = [text for _, text, _ in personal_text(event)]
    assert texts, "every fact names at least who recorded it"
    for text in texts:
        assert json.dumps(text, ensure_ascii=False) not in readable


def test_employees_are_named_by_a_keyed_digest_never_by_their_id(mapper: SealingMapper) -> None:
    subject = mapper.subject_id(Subject("employee", "l1"))
    assert subject.startswith("employee:") and "l1" not in subject
    other = SealingMapper.over(PydanticMapper(transcoder=JSONTranscoder()), MemoryKeyStore(), b"another key")
    assert other.subject_id(Subject("employee", "l1")) != subject


def _incident_report() -> Any:
    return next(e for e in EVENTS if isinstance(e, Incident.Reported))


def test_an_erased_subject_reads_as_a_mark_and_the_others_stay(mapper: SealingMapper, keys: MemoryKeyStore) -> None:
    event = _incident_report()
    stored = mapper.to_stored_event(event)
    affected = event.facts.affected[0]
    erased = mapper.subject_id(Subject("employee", affected.user_id))
    keys.destroy(erased)

    back = mapper.to_domain_event(stored)

    assert back.facts.affected[0].name == back.facts.affected[0].user_id == erased_text(erased)
    assert ERASED in erased_text(erased)
    assert back.facts.description == event.facts.description  # the incident's own text is not the employee's
    assert back.facts.kinds == event.facts.kinds and back.facts.occurred_at == event.facts.occurred_at


def test_two_erased_employees_stay_two(mapper: SealingMapper, keys: MemoryKeyStore) -> None:
    event = next(e for e in EVENTS if isinstance(e, Incident.DebriefingHeld))
    stored = mapper.to_stored_event(event)
    for user_id in event.employee_ids:
        keys.destroy(mapper.subject_id(Subject("employee", user_id)))
    back = mapper.to_domain_event(stored)
    assert len(set(back.employee_ids)) == len(set(event.employee_ids)) == 2


def test_an_erased_link_still_decodes(mapper: SealingMapper, keys: MemoryKeyStore) -> None:
    event = next(e for e in EVENTS if isinstance(e, Incident.TakedownRequested))
    stored = mapper.to_stored_event(event)
    keys.destroy(f"incident:{event.originator_id}")
    assert mapper.to_domain_event(stored).link.startswith(ERASED)


def test_a_box_moved_to_another_fact_does_not_open(mapper: SealingMapper) -> None:
    event = _incident_report()
    stored = mapper.to_stored_event(event)
    moved = StoredEvent(stored.originator_id, stored.originator_version + 1, stored.topic, stored.state)
    with pytest.raises(UnsealError):
        mapper.to_domain_event(moved)


def test_a_fact_stored_before_sealing_still_reads(mapper: SealingMapper) -> None:
    event = _incident_report()
    plain = PydanticMapper(transcoder=JSONTranscoder()).to_stored_event(event)
    assert mapper.to_domain_event(plain) == event


def test_a_fact_with_a_fresh_subject_creates_its_key(mapper: SealingMapper, keys: MemoryKeyStore) -> None:
    event = _incident_report().model_copy(update={"originator_id": uuid4()})
    mapper.to_stored_event(event)
    assert keys.existing_key(f"incident:{event.originator_id}") is not None
