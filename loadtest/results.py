"""Reading Locust's CSV output, and judging a run against its thresholds."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Thresholds:
    p95_ms: float = 300
    p99_ms: float = 1000
    max_error_rate: float = 0.001  # 0.1 %


@dataclass
class Endpoint:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_stats(prefix: Path) -> list[Endpoint]:
    """Per-endpoint rows of ``<prefix>_stats.csv``; the last one is Locust's ``Aggregated``."""
    path = prefix.with_name(prefix.name + "_stats.csv")
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            rows.append(
                Endpoint(
                    name=(f"{row['Type']} {row['Name']}" if row["Type"] else row["Name"]).strip(),
                    requests=int(_number(row["Request Count"])),
                    failures=int(_number(row["Failure Count"])),
                    rps=_number(row["Requests/s"]),
                    p50=_number(row["50%"]),
                    p95=_number(row["95%"]),
                    p99=_number(row["99%"]),
                )
            )
    return rows


def total(rows: list[Endpoint]) -> Endpoint | None:
    return next((r for r in rows if r.name == "Aggregated"), None)


def verdict(overall: Endpoint | None, limits: Thresholds) -> list[str]:
    """What missed its threshold; empty when the run passed."""
    if overall is None or overall.requests == 0:
        return ["no requests were made"]
    missed = []
    if overall.p95 > limits.p95_ms:
        missed.append(f"p95 {overall.p95:.0f} ms > {limits.p95_ms:.0f} ms")
    if overall.p99 > limits.p99_ms:
        missed.append(f"p99 {overall.p99:.0f} ms > {limits.p99_ms:.0f} ms")
    if overall.error_rate > limits.max_error_rate:
        missed.append(
            f"errors {overall.error_rate:.2%} ({overall.failures} of {overall.requests})"
            f" > {limits.max_error_rate:.2%}"
        )
    return missed


@dataclass
class Sample:
    """One second of ``<prefix>_stats_history.csv`` (all endpoints together)."""

    at: float
    users: int
    rps: float
    p95: float
    p99: float
    requests: int
    failures: int


def read_history(prefix: Path) -> list[Sample]:
    path = prefix.with_name(prefix.name + "_stats_history.csv")
    if not path.is_file():
        return []
    samples = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row.get("Name") != "Aggregated":
                continue
            samples.append(
                Sample(
                    at=_number(row["Timestamp"]),
                    users=int(_number(row["User Count"])),
                    rps=_number(row["Requests/s"]),
                    p95=_number(row["95%"]),
                    p99=_number(row["99%"]),
                    requests=int(_number(row["Total Request Count"])),
                    failures=int(_number(row["Total Failure Count"])),
                )
            )
    return samples
