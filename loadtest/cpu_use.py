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


def _generator_seconds() -> float:
    """CPU of this command's child processes, Locust's: those still running and those already
    waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    for child in psutil.Process().children():
        try:
            total += _tree_seconds(child)
        except psutil.NoSuchProcess:
            continue
    return total


def _machine() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot."""
    t = psutil.cpu_times()._asdict()
    # Linux counts a guest's time in user and nice already.
    everything = sum(v for k, v in t.items() if k not in ("guest", "guest_nice"))
    idle = t["idle"] + t.get("iowait", 0.0)
    return everything - idle, everything


@dataclass(frozen=True)
class Mark:
    """The counters at one moment: wall clock, Locust's CPU, each watched process's, and the
    machine's busy and total CPU seconds."""

    at: float
    generator: float
    watched: tuple[float, ...]
    machine: tuple[float, float]


class CpuMeter:
    """Reads CPU counters at moments of a run; a report covers the time between two of them."""

    def __init__(self, pids: Sequence[int]) -> None:
        # (what it runs, the process): ``python shopctl serve``, ``mariadbd``
        self.watched: list[tuple[str, psutil.Process]] = []
        for pid in pids:
            try:
                process = psutil.Process(pid)
                self.watched.append((_command(process), process))
            except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
                raise WatchError(f"--watch-pid {pid}: no such process to watch") from None
        self.marks: list[Mark] = []

    @property
    def commands(self) -> list[str]:
        return [command for command, _ in self.watched]

    @property
    def names(self) -> list[str]:
        """What each watched process is reported as: its command and PID."""
        return [f"{command} (pid {process.pid})" for command, process in self.watched]

    def mark(self) -> Mark:
        trees = []
        for name, (_, process) in zip(self.names, self.watched, strict=True):
            try:
                trees.append(_tree_seconds(process))
            except psutil.NoSuchProcess:
                raise WatchError(f"{name} exited during the run") from None
        mark = Mark(time.time(), _generator_seconds(), tuple(trees), _machine())
        self.marks.append(mark)
        return mark

    def report(self, first: Mark, last: Mark, requests: int) -> Report:
        seconds = max(last.at - first.at, 1e-9)
        spent = [(GENERATOR, last.generator - first.generator)]
        spent += [
            (name, after - before)
            for name, before, after in zip(self.names, first.watched, last.watched, strict=True)
        ]
        busy = last.machine[0] - first.machine[0]
        share = busy / max(last.machine[1] - first.machine[1], 1e-9)
        cores = psutil.cpu_count() or os.cpu_count() or 1
        uses = [
            Use(name, cpu, cpu / seconds, cpu * 1000 / requests if requests else 0.0)
            for name, cpu in spent
        ]
        return Report(seconds, requests, cores, min(max(share, 0.0), 1.0), uses)

    def within(self, start: float, end: float, requests: int) -> Report | None:
        """The report of the marks taken from ``start`` to ``end`` (Unix time), if two were."""
        inside = [m for m in self.marks if start <= m.at <= end]
        if len(inside) < 2:
            return None
        return self.report(inside[0], inside[-1], requests)
