"""The front-desk benchmark's printed table, its verdicts on the targets, and the same figures as data."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
from dataclasses import dataclass
from typing import Any

from bench import loadgen
from bench.front_desk_seed import MIX

THROUGHPUT_TARGET = 0.70  # Vaern's max throughput as a share of the baseline's
P99_TARGET_MS = 20.0  # Vaern's p99 at the fixed rate


@dataclass
class Measured:
    closed: loadgen.Result
    open: loadgen.Result
    client_cpu: float  # share of one core the load generator used at max load


@dataclass(frozen=True)
class _Verdict:
    """Vaern against the targets: its throughput as a share of the baseline's, its p99 at the fixed rate."""

    ratio: float
    p99: float
    throughput_ok: bool
    latency_ok: bool

    @classmethod
    def of(cls, results: dict[str, Measured]) -> _Verdict:
        vaern, baseline = results["Vaern"], results["baseline"]
        ratio = vaern.closed.throughput / baseline.closed.throughput if baseline.closed.throughput else float("nan")
        p99 = vaern.open.quantile_ms(0.99)
        latency_ok = p99 < P99_TARGET_MS and vaern.open.errors == 0 and vaern.open.completed == vaern.open.scheduled
        return cls(ratio, p99, ratio >= THROUGHPUT_TARGET, latency_ok)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def report(
    results: dict[str, Measured], args: argparse.Namespace, environment: dict[str, str], timings: dict[str, float]
) -> tuple[str, dict[str, Any]]:
    """The text to print and the data to write with --json."""
    verdict = _Verdict.of(results)
    text = [
        *_setting(args, environment, timings),
        "",
        *_table(results, args),
        "",
        *_verdicts(results, args, verdict),
        *_error_samples(results),
    ]
    data = {
        "environment": environment,
        "parameters": {k: v for k, v in vars(args).items() if k not in ("database_url", "json")},
        "timings_s": timings,
        "results": {name: _figures(m, args) for name, m in results.items()},
        "throughput_ratio": verdict.ratio,
        "targets": {"throughput_ratio": verdict.throughput_ok, "p99_at_rate": verdict.latency_ok},
    }
    return "\n".join(text), data


def _setting(args: argparse.Namespace, environment: dict[str, str], timings: dict[str, float]) -> list[str]:
    """What was measured, on what, with what data."""
    return [
        "Front-desk lookup benchmark: POST /front-desk/lookup over HTTP, Vaern vs one-SELECT baseline",
        "",
        f"environment : {environment['cpus']} CPUs, PostgreSQL {environment['postgres']}, "
        f"Python {environment['python']}, uvicorn {environment['uvicorn']} ({environment['http']}, 1 worker each)",
        f"load average: {environment.get('load_average', '?')} (1/5/15 min) just before measuring; "
        "anything else running competes for the same CPUs",
        f"data        : {args.citizens:,} citizens on file, {args.restricted:,} restricted; "
        f"lookups {int(MIX['restricted'] * 100)}% restricted / {int(MIX['unrestricted'] * 100)}% unrestricted / "
        f"{int(MIX['unknown'] * 100)}% unknown"
        + ("; Vaern served after a citizen-key rotation (re-keyed, the earlier key still configured)"
           if getattr(args, "rotated", False) else ""),
        f"seeding     : {timings['seed']:.1f} s through Vaern's commands "
        f"({(args.citizens + args.restricted) / timings['seed']:,.0f} commands/s, {args.seed_threads} threads); "
        f"views caught up in {timings['catch_up']:.1f} s",
    ]


def _row(name: str, m: Measured) -> list[str]:
    return [
        name,
        f"{m.closed.throughput:,.0f}",
        _ms(m.closed.quantile_ms(0.50)),
        _ms(m.closed.quantile_ms(0.99)),
        f"{m.closed.errors}",
        _ms(m.open.quantile_ms(0.50)),
        _ms(m.open.quantile_ms(0.99)),
        f"{m.open.errors}",
        f"{m.open.completed}/{m.open.scheduled}",
    ]


def _table(results: dict[str, Measured], args: argparse.Namespace) -> list[str]:
    """One row a system: max load on the left, the fixed rate on the right, under a heading each."""
    rows = [_row(name, m) for name, m in results.items()]
    head1 = ["", f"max load ({args.connections} connections, {args.duration * args.rounds:g} s)", "", "", "",
             f"at {args.rate:g} req/s ({args.rate_duration * args.rounds:g} s)", "", "", ""]
    head2 = ["system", "req/s", "p50 ms", "p99 ms", "errors", "p50 ms", "p99 ms", "errors", "ok/sent"]
    widths = _widths(head1, [head2, *rows])

    def line(cells: list[str]) -> str:
        out = cells[0].ljust(widths[0])
        for i in range(1, len(cells)):
            sep = "  |  " if i == 5 else "  "
            out += sep + cells[i].rjust(widths[i])
        return out

    group1 = sum(widths[1:5]) + 2 * 3
    return [
        " " * widths[0] + "  " + head1[1].ljust(group1) + "  |  " + head1[5],
        line(head2),
        "-" * len(line(head2)),
        *[line(r) for r in rows],
    ]


def _widths(head1: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's width: its widest cell, the first column's group widened to fit the group's heading."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    widths[0] = max(widths[0], 8)
    for first, last in ((1, 4), (5, 8)):  # widen a group's first column to fit the group's heading
        span = sum(widths[first : last + 1]) + 2 * (last - first)
        widths[first] += max(0, len(head1[first]) - span)
    return widths


def _verdicts(results: dict[str, Measured], args: argparse.Namespace, verdict: _Verdict) -> list[str]:
    late = {name: m.open.late_sends for name, m in results.items()}
    return [
        f"Vaern / baseline throughput : {verdict.ratio:.0%}  (target >= {THROUGHPUT_TARGET:.0%}): "
        + ("MET" if verdict.throughput_ok else "NOT MET"),
        f"Vaern p99 at {args.rate:g} req/s     : {_ms(verdict.p99)} ms  (target < {P99_TARGET_MS:g} ms, no errors): "
        + ("MET" if verdict.latency_ok else "NOT MET"),
        "open-loop sends > 1 ms late : " + ", ".join(f"{k} {v}" for k, v in late.items())
        + "  (latency counts from the scheduled send time, so lateness counts against the server)",
        "client CPU at max load      : " + ", ".join(f"{k} {m.client_cpu:.0%}" for k, m in results.items())
        + " of one core (the same client for both; it competes with the server for the CPUs)",
    ]


def _error_samples(results: dict[str, Measured]) -> list[str]:
    return [
        f"{name} errors at {phase}, e.g.: " + "; ".join(result.error_samples[:3])
        for name, m in results.items()
        for phase, result in (("max load", m.closed), ("fixed rate", m.open))
        if result.error_samples
    ]


def _figures(m: Measured, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_load": {
            "throughput_rps": m.closed.throughput,
            "p50_ms": m.closed.quantile_ms(0.5),
            "p99_ms": m.closed.quantile_ms(0.99),
            "errors": m.closed.errors,
            "requests": len(m.closed.latencies),
            "client_cpu_share": m.client_cpu,
        },
        "fixed_rate": {
            "rate_rps": args.rate,
            "p50_ms": m.open.quantile_ms(0.5),
            "p90_ms": m.open.quantile_ms(0.90),
            "p95_ms": m.open.quantile_ms(0.95),
            "p99_ms": m.open.quantile_ms(0.99),
            "max_ms": m.open.quantile_ms(1.0),
            "errors": m.open.errors,
            "scheduled": m.open.scheduled,
            "completed": m.open.completed,
            "late_sends": m.open.late_sends,
        },
    }


def describe_environment(postgres_version: str) -> dict[str, str]:
    import uvicorn

    http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return {
        "cpus": str(os.cpu_count()),
        "postgres": postgres_version,
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "http": f"{http_impl}, {loop}",
        "machine": platform.platform(),
    }
