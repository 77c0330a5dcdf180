"""Capacity search: judge each step of a step-shaped run, find the most users that held, plot it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from loadtest.results import Sample, Thresholds


@dataclass
class Step:
    users: int
    seconds: float
    rps: float
    p95: float
    p99: float
    error_rate: float
    held: bool
    # The step's first and last second (Unix time) and the requests made between them.
    started_at: float = 0.0
    ended_at: float = 0.0
    requests: int = 0


def steps(history: list[Sample], limits: Thresholds) -> list[Step]:
    """One verdict per user count that was held for a while (ramp-up seconds left out)."""
    groups: dict[int, list[Sample]] = {}
    for sample in history:
        if sample.users > 0:
            groups.setdefault(sample.users, []).append(sample)
    judged = []
    for users, samples in groups.items():
        if len(samples) < 3:
            continue  # passing through while spawning
        # Locust's per-second percentiles look back ~10 s: the step's second half is its own.
        tail = samples[len(samples) // 2 :]
        requests = samples[-1].requests - samples[0].requests
        failures = samples[-1].failures - samples[0].failures
        p95 = max(s.p95 for s in tail)
        p99 = max(s.p99 for s in tail)
        error_rate = failures / requests if requests > 0 else 0.0
        judged.append(
            Step(
                users=users,
                seconds=samples[-1].at - samples[0].at,
                rps=sum(s.rps for s in tail) / len(tail),
                p95=p95,
                p99=p99,
                error_rate=error_rate,
                held=(
                    requests > 0
                    and p95 <= limits.p95_ms
                    and p99 <= limits.p99_ms
                    and error_rate <= limits.max_error_rate
                ),
                started_at=samples[0].at,
                ended_at=samples[-1].at,
                requests=requests,
            )
        )
    return sorted(judged, key=lambda s: s.users)


def finished_steps(history: list[Sample], limits: Thresholds) -> list[Step]:
    """The steps already left behind for more users, while a run is going on."""
    current = history[-1].users if history else 0
    return [s for s in steps(history, limits) if s.users != current]


def capacity(judged: list[Step]) -> int:
    """The largest user count held, counting only steps before the first that broke."""
    best = 0
    for step in judged:
        if not step.held:
            break
        best = step.users
    return best


def broke(judged: list[Step]) -> bool:
    return any(not s.held for s in judged)


def plot(history: list[Sample], limits: Thresholds, found: int, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = history[0].at if history else 0
    xs = [s.at - t0 for s in history]
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    series = (
        ("users", [s.users for s in history], "tab:blue"),
        ("requests/s", [s.rps for s in history], "tab:green"),
        ("p95 ms", [s.p95 for s in history], "tab:red"),
    )
    for ax, (label, ys, colour) in zip(axes, series, strict=True):
        ax.plot(xs, ys, color=colour)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[2].axhline(limits.p95_ms, color="black", linestyle="--", label="p95 threshold")
    axes[2].legend(loc="upper left")
    if found:
        axes[0].axhline(found, color="black", linestyle=":", label=f"capacity {found}")
        axes[0].legend(loc="upper left")
    axes[2].set_xlabel("seconds")
    fig.suptitle(f"capacity search: {found} users held")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


RESULT_FILE = "capacity.json"


def save_result(
    out: Path, *, users: int, profile: str, url: str, limits: Thresholds, complete: bool
) -> Path:
    """What ``shopctl campaign check`` compares the expected peak with: the users held, when,
    against what, and whether the search found the limit (``complete``) or ran out of steps."""
    path = out / RESULT_FILE
    path.write_text(
        json.dumps(
            {
                "users": users,
                "profile": profile,
                "url": url,
                "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "p95_ms": limits.p95_ms,
                "p99_ms": limits.p99_ms,
                "max_error_rate": limits.max_error_rate,
                "limit_found": complete,
            },
            indent=2,
        )
        + "\n"
    )
    return path
