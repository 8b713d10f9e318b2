"""What one rater-load run collects (per simulated rater, per run) and how the load benches
print it: latency percentiles, round trips, CPU per trip, the integrity verdict."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from load_seed import OVERLAP


@dataclass
class RaterStats:
    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    acknowledged: set[int] = field(default_factory=set)  # rating ids the server confirmed
    served_after_submit: int = 0  # a clip served again after its rating was acknowledged
    exhausted: bool = False


@dataclass
class RunResult:
    think_ms: float
    raters: int
    seconds: float
    stats: list[RaterStats]
    cpu_seconds: dict[str, float]  # server / database / clients / others
    integrity: dict[str, object]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))  # nearest rank
    return ordered[index]


def trip_figures(result: RunResult) -> dict[str, float]:
    """A run's figures as the tables print them: round trips (acknowledged submits), their
    rate, latency percentiles (ms), errors, CPU ms per round trip of the server, the
    database and the clients, and the CPUs anything else kept busy meanwhile."""
    next_ms = [v for s in result.stats for v in s.next_ms]
    submit_ms = [v for s in result.stats for v in s.submit_ms]
    trips = sum(len(s.acknowledged) for s in result.stats)
    figures = {"trips": trips, "rate": trips / result.seconds}
    for name, values in (("next", next_ms), ("submit", submit_ms)):
        for q in (50, 95, 99):
            figures[f"{name} p{q}"] = percentile(values, q)
    figures["errors"] = sum(sum(s.errors.values()) for s in result.stats)
    for part in ("server", "database", "clients"):
        figures[f"cpu {part}"] = result.cpu_seconds[part] / max(trips, 1) * 1000
    figures["other load"] = result.cpu_seconds["others"] / result.seconds
    return figures


def integrity_verdict(result: RunResult, overlap: int = OVERLAP) -> str:
    check = result.integrity
    verdict = (
        f"{'ok' if check['ok'] else 'FAILED'}: stored {check['stored']} = acked {check['acknowledged']}, "
        f"max load {check['max_load']}/{overlap}, served twice {check['served_twice']}, "
        f"miscounted {check['miscounted']}"
    )
    if any(s.exhausted for s in result.stats):
        verdict += ", queue ran out"
    return verdict


def table(results: list[RunResult]) -> str:
    header = (
        "| think ms | N | round trips | round trips/s | next p50 | next p95 | next p99 | submit p50 | submit p95 "
        "| submit p99 | errors | CPU ms/trip server/db/clients | other load | integrity |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for result in results:
        f = trip_figures(result)
        lines.append(
            f"| {result.think_ms:.0f} | {result.raters} | {f['trips']} | {f['rate']:.1f} "
            f"| {f['next p50']:.1f} | {f['next p95']:.1f} | {f['next p99']:.1f} "
            f"| {f['submit p50']:.1f} | {f['submit p95']:.1f} | {f['submit p99']:.1f} "
            f"| {f['errors']} | {f['cpu server']:.1f}/{f['cpu database']:.1f}/{f['cpu clients']:.1f} "
            f"| {f['other load']:.2f} | {integrity_verdict(result)} |"
        )
    return "\n".join(lines)
