"""When the telephony consumer counts itself stalled: records past its positions, nothing read, for `stall_after` s."""

from __future__ import annotations

from kafka.errors import KafkaTimeoutError
from kafka.structs import TopicPartition

from consumers.telephony_positions import ReadingPositions

P0, P1 = TopicPartition("t", 0), TopicPartition("t", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Client:
    """What `stalled` asks of a Kafka consumer: its assignment, its positions, the broker's end offsets."""

    def __init__(self, positions: dict[TopicPartition, int | None], ends: dict[TopicPartition, int]) -> None:
        self.positions, self.ends, self.asked, self.broker_down = positions, ends, 0, False

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def position(self, tp: TopicPartition, timeout_ms: int) -> int | None:
        return self.positions[tp]

    def end_offsets(self, partitions: list[TopicPartition], timeout_ms: int) -> dict[TopicPartition, int]:
        self.asked += 1
        if self.broker_down:
            raise KafkaTimeoutError()
        return {tp: self.ends[tp] for tp in partitions}


def watching(clock: Clock) -> ReadingPositions:
    return ReadingPositions(table=None, bootstrap_servers="", topic="t", stall_after=60.0, clock=clock)  # type: ignore[arg-type]


def test_records_waiting_and_none_read_for_the_whole_interval_is_a_stall_once_then_the_clock_starts_again():
    clock, client = Clock(), Client({P0: 3, P1: 5}, {P0: 4, P1: 5})
    watched = watching(clock)
    assert not watched.stalled(client, 0)
    for _ in range(3):
        clock.now += 15
        assert not watched.stalled(client, 0)
    clock.now += 14.9
    assert not watched.stalled(client, 0)  # 59.9 s behind
    clock.now += 0.1
    assert watched.stalled(client, 0)
    clock.now += 30
    assert not watched.stalled(client, 0)  # counted from the reconnection, not from the first poll behind


def test_the_broker_is_asked_at_most_every_quarter_interval():
    clock, client = Clock(), Client({P0: 0}, {P0: 1})
    watched = watching(clock)
    for _ in range(100):
        watched.stalled(client, 0)
        clock.now += 1
    assert client.asked == 7  # at 100, 115, ..., 190: 100 seconds of polls, one question per 15


def test_a_record_read_or_being_at_the_end_starts_the_interval_again():
    clock, client = Clock(), Client({P0: 3}, {P0: 9})
    watched = watching(clock)
    watched.stalled(client, 0)
    clock.now += 50
    assert not watched.stalled(client, 2)  # progress
    clock.now += 50
    assert not watched.stalled(client, 0)
    client.positions[P0] = 9  # at the end: an idle topic is not a stall
    clock.now += 100
    assert not watched.stalled(client, 0)
    clock.now += 100
    assert not watched.stalled(client, 0)


def test_an_unknown_position_with_records_waiting_stalls_but_no_assignment_or_no_answer_does_not():
    clock = Clock()
    unknown, unassigned, unanswered = Client({P0: None}, {P0: 2}), Client({}, {}), Client({P0: 0}, {P0: 2})
    unanswered.broker_down = True
    watchers = {name: watching(clock) for name in ("unknown", "unassigned", "unanswered")}
    for _ in range(5):
        results = {name: watchers[name].stalled(client, 0)
                   for name, client in (("unknown", unknown), ("unassigned", unassigned), ("unanswered", unanswered))}
        clock.now += 15
    assert results == {"unknown": True, "unassigned": False, "unanswered": False}
