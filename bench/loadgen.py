"""A small, cheap HTTP/1.1 load generator: keep-alive sockets in threads, pre-built requests.

The benchmark machine has few cores, so the client must cost as little CPU as possible and must
cost the same for every system it measures. Requests are pre-built byte strings (identical for
every system), responses are parsed only as far as the status line and Content-Length (the
client is bench/http_client.py).

Two ways of loading a server:

* closed loop: N connections, each sending its next request as soon as the previous answer
  arrived, for a fixed time after a warm-up; gives the maximum throughput and the latency at it;
* open loop: requests scheduled at a fixed rate, each measured from its *scheduled* send time,
  so a slow answer that delays later sends is counted against the server (no coordinated
  omission); gives the latency at a given load.

Every loop is bounded in time; all traffic goes to the given host (127.0.0.1 in the benchmark).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bench.http_client import Connection, ResponseError

ERROR_BACKOFF = 0.01  # after a failed request, so a dead server does not make the client spin


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when there are none)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-int(fraction * 1_000_000) * len(sorted_values) // 1_000_000))  # ceil(fraction * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Result:
    """What one loaded phase measured. Latencies are in seconds, of measured requests only."""

    duration: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    completed: int = 0  # successful answers counted for throughput
    scheduled: int = 0  # open loop: requests scheduled in the measured window
    late_sends: int = 0  # open loop: sends that left > 1 ms after their scheduled time

    @property
    def throughput(self) -> float:
        return self.completed / self.duration if self.duration > 0 else 0.0

    def quantile_ms(self, fraction: float) -> float:
        return percentile(sorted(self.latencies), fraction) * 1000.0

    def absorb(self, other: Result) -> None:
        """Pools another run's measurements into this one (durations add up)."""
        self.duration += other.duration
        self.merge(other)

    def merge(self, other: _ThreadTally | Result) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.completed += other.completed
        self.scheduled += other.scheduled
        self.late_sends += other.late_sends
        room = 5 - len(self.error_samples)
        if room > 0:
            self.error_samples.extend(other.error_samples[:room])


@dataclass
class _ThreadTally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    completed: int = 0
    scheduled: int = 0
    late_sends: int = 0

    def error(self, description: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(description)


def _attempt(conn: Connection, payload: bytes) -> str | None:
    """Sends one request; None when the answer was 200, else a description of what went wrong."""
    try:
        status, body = conn.request(payload)
    except (OSError, ResponseError, ValueError) as error:
        conn.close()
        time.sleep(ERROR_BACKOFF)
        return f"{type(error).__name__}: {error}"
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    return None


def _connect_all(host: str, port: int, count: int) -> list[Connection]:
    connections: list[Connection] = []
    try:
        for _ in range(count):
            conn = Connection(host, port)
            conn.connect()
            connections.append(conn)
    except BaseException:
        for conn in connections:
            conn.close()
        raise
    return connections


def _run(threads: list[threading.Thread], stop: threading.Event) -> None:
    """Starts and joins the threads; on Ctrl-C tells them to stop now (they are bounded anyway)."""
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(timeout=15)
        raise


def closed_loop(
    host: str,
    port: int,
    payloads: Sequence[bytes],
    connections: int,
    warmup: float,
    duration: float,
    stop: threading.Event | None = None,
) -> Result:
    """Maximum throughput: `connections` clients, each sending again as soon as it has its answer.

    Requests that start within the measured window count for latency; answers that arrive within
    it count for throughput.
    """
    stop = stop or threading.Event()
    conns = _connect_all(host, port, connections)
    tallies = [_ThreadTally() for _ in range(connections)]
    begin = time.perf_counter() + 0.05 + warmup
    end = begin + duration

    def client(number: int) -> None:
        tally, conn = tallies[number], conns[number]
        index = number * (len(payloads) // connections)
        try:
            while not stop.is_set():
                sent = time.perf_counter()
                if sent >= end:
                    break
                problem = _attempt(conn, payloads[index % len(payloads)])
                index += 1
                done = time.perf_counter()
                if sent < begin:
                    continue
                if problem is not None:
                    tally.error(problem)
                    continue
                tally.latencies.append(done - sent)
                if done <= end:
                    tally.completed += 1
        except Exception as error:  # noqa: BLE001 - reported as an error, never silently lost
            tally.error(f"client thread failed: {type(error).__name__}: {error}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,), name=f"closed-{n}", daemon=True) for n in range(connections)]
    _run(threads, stop)
    return _merged(tallies, duration)


def open_loop(
    host: str,
    port: int,
    payloads: Sequence[bytes],
    rate: float,
    warmup: float,
    duration: float,
    workers: int = 16,
    stop: threading.Event | None = None,
) -> Result:
    """Latency at a fixed rate: request i is due at start + i/rate and measured from then.

    A pool of `workers` connections takes the due requests in order; if all are busy, the next
    request leaves late and its latency includes the wait, as a real caller's would.
    """
    stop = stop or threading.Event()
    conns = _connect_all(host, port, workers)
    warmup_slots = int(round(rate * warmup))
    total_slots = warmup_slots + int(round(rate * duration))
    schedule = _Schedule(time.perf_counter() + 0.05, rate, warmup_slots, total_slots)
    tallies = [_ThreadTally() for _ in range(workers)]
    threads = [
        threading.Thread(
            target=_keep_schedule, args=(schedule, tallies[n], conns[n], payloads, stop), name=f"open-{n}", daemon=True
        )
        for n in range(workers)
    ]
    _run(threads, stop)
    return _merged(tallies, duration)


@dataclass
class _Schedule:
    """Request i is due at start + i/rate; the first `warmup` of `total` are sent but not counted."""

    start: float
    rate: float
    warmup: int
    total: int
    slots: Iterator[int] = field(default_factory=itertools.count)  # next() on a count is atomic under the GIL


def _keep_schedule(
    schedule: _Schedule, tally: _ThreadTally, conn: Connection, payloads: Sequence[bytes],
    stop: threading.Event,
) -> None:
    """One worker of the open loop: takes the next due request, waits for its time, sends it."""
    try:
        while not stop.is_set():
            slot = next(schedule.slots)
            if slot >= schedule.total:
                break
            due = schedule.start + slot / schedule.rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            problem = _attempt(conn, payloads[slot % len(payloads)])
            done = time.perf_counter()
            if slot >= schedule.warmup:
                _count_scheduled(tally, due, sent, done, problem)
    except Exception as error:  # noqa: BLE001
        tally.error(f"client thread failed: {type(error).__name__}: {error}")
    finally:
        conn.close()


def _count_scheduled(tally: _ThreadTally, due: float, sent: float, done: float, problem: str | None) -> None:
    """A measured request of the open loop: late if it left over 1 ms after it was due, timed from then."""
    tally.scheduled += 1
    if sent - due > 0.001:
        tally.late_sends += 1
    if problem is not None:
        tally.error(problem)
        return
    tally.latencies.append(done - due)
    tally.completed += 1


def _merged(tallies: Sequence[_ThreadTally], duration: float) -> Result:
    """The threads' tallies as one result."""
    result = Result(duration=duration)
    for tally in tallies:
        result.merge(tally)
    return result
