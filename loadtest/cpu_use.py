"""What a load test cost the machine: the CPU of the processes watched (the shop's server with
its workers, the database), of the load generator itself, and of the whole machine.

Latencies alone do not say whether a run that failed found the shop's limit or the machine's:
on a shared host the same code costs more CPU per request on a slow day, and Locust on the same
machine takes its share of the cores. CPU per request is what stays comparable from one run to
the next, and a machine busy on every core is a verdict on the machine as much as on the shop.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

# Above this share of its cores the machine itself was the limit of the run.
SATURATED = 0.9
# Locust's main process drives every user on one core.
GENERATOR_BUSY = 0.9


@dataclass(frozen=True)
class Use:
    name: str
    cpu_seconds: float
    cores: float  # the CPU seconds over the run's wall time: the cores it kept busy on average
    ms_per_request: float


@dataclass(frozen=True)
class Report:
    seconds: float
    requests: int
    machine_cores: int
    machine_busy: float  # of all cores, 0..1
    uses: list[Use]

    def warnings(self, generator_processes: int) -> list[str]:
        found = []
        if self.machine_busy >= SATURATED:
            found.append(
                f"the machine was busy {self.machine_busy:.0%} of its {self.machine_cores} cores: "
                "the run measured the machine's limit as much as the shop's"
            )
        generator = next((u for u in self.uses if u.name == GENERATOR), None)
        if generator and generator.cores >= GENERATOR_BUSY * generator_processes:
            found.append(
                f"Locust kept {generator.cores:.2f} cores busy with {generator_processes} "
                "process(es): the load generator may have held the load back (--workers N)"
            )
        return found

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


GENERATOR = "Locust (load generator)"


class WatchError(Exception):
    pass


def _command(process: psutil.Process) -> str:
    """A short name: ``mariadbd``, ``sh``; for Python, what it runs: ``python shopctl serve``."""
    argv = process.cmdline() or [process.name()]
    name = os.path.basename(argv[0])
    if name.startswith("python"):
        words = [w for w in argv[1:] if not w.startswith("-") and " " not in w][:2]
        name = " ".join([name.rstrip("0123456789."), *map(os.path.basename, words)])
    return name


def _tree_seconds(process: psutil.Process) -> float:
    """CPU of a process and every descendant, with the children each has already waited for
    (a worker that was replaced still counts)."""
    total = 0.0
    for p in (process, *process.children(recursive=True)):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot."""
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    everything = sum(t)
    return everything - idle, everything


class CpuMeter:
    """Samples CPU before and after a run. The load generator is this process's children that
    have exited and been waited for by the end: Locust's processes."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.watched: list[tuple[str, psutil.Process]] = []
        for pid in pids:
            try:
                process = psutil.Process(pid)
                name = f"{_command(process)} (pid {pid})"
            except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
                raise WatchError(f"--watch-pid {pid}: no such process to watch") from None
            self.watched.append((name, process))
        self._start: tuple[float, float, list[float], tuple[float, float]] | None = None

    def start(self) -> None:
        self._start = (
            time.monotonic(),
            _children_seconds(),
            [_tree_seconds(p) for _, p in self.watched],
            _machine(),
        )

    def stop(self, requests: int) -> Report:
        if self._start is None:
            raise RuntimeError("stop() before start()")
        began, children, trees, (busy, everything) = self._start
        seconds = max(time.monotonic() - began, 1e-9)
        spent = [(GENERATOR, _children_seconds() - children)]
        for (name, process), before in zip(self.watched, trees, strict=True):
            try:
                spent.append((name, _tree_seconds(process) - before))
            except psutil.NoSuchProcess:
                raise WatchError(f"{name} exited during the run") from None
        busy_now, everything_now = _machine()
        cores = psutil.cpu_count() or os.cpu_count() or 1
        uses = [
            Use(name, cpu, cpu / seconds, cpu * 1000 / requests if requests else 0.0)
            for name, cpu in spent
        ]
        share = (busy_now - busy) / max(everything_now - everything, 1e-9)
        return Report(seconds, requests, cores, min(max(share, 0.0), 1.0), uses)
