"""Starting Locust headless (alone, or as a master with local workers) and watching it run.

Locust runs in its own processes: it monkey-patches the standard library with gevent, which the
rest of shopctl must not inherit.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtest import results
from loadtest.shop import staff_credentials

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PROFILES: dict[str, tuple[str, ...]] = {
    "browse": ("Browse",),
    "campaign": ("Campaign",),
    "flash-sale": ("FlashSale",),
    "staff": ("Campaign", "Staff"),
    # Against loadtest/ceiling_app.py, not the shop: the server's own limit.
    "ceiling": ("Ceiling",),
}
NEEDS_STAFF = {"flash-sale", "staff"}


class LoadTestError(Exception):
    pass


@dataclass
class RunSpec:
    profile: str
    url: str
    out_dir: Path
    users: int = 50
    spawn_rate: float = 10
    duration: str = "60s"
    workers: int = 0
    # Capacity search: raise users by ``step_users`` every ``step_seconds`` up to ``max_users``.
    steps: tuple[int, int, float, int] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> Path:
        return self.out_dir / "locust"


def check(spec: RunSpec) -> None:
    if importlib.util.find_spec("locust") is None:
        raise LoadTestError("Locust is not installed: pip install 'shopd[loadtest]'")
    if spec.profile not in PROFILES:
        raise LoadTestError(f"unknown profile {spec.profile!r}; known: {', '.join(PROFILES)}")
    if spec.profile in NEEDS_STAFF and staff_credentials() is None:
        raise LoadTestError(
            f"the {spec.profile} profile needs a manager's log-in: "
            "SHOPD_LOADTEST_STAFF=name:password (shopctl staff add NAME --role manager)"
        )
    if not spec.url.startswith(("http://", "https://")):
        raise LoadTestError(f"--url {spec.url!r} is not an http(s) URL")


def _base(spec: RunSpec) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]


def commands(spec: RunSpec, master_port: int = 5557) -> tuple[list[str], list[list[str]]]:
    """The Locust command line, and one per local worker process."""
    main = [
        *_base(spec),
        "--headless",
        "--host",
        spec.url,
        "--csv",
        str(spec.prefix),
        "--csv-full-history",
        "--html",
        str(spec.out_dir / "report.html"),
        "--only-summary",
        "--stop-timeout",
        "5",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    if spec.steps is None:
        main += ["-u", str(spec.users), "-r", str(spec.spawn_rate), "-t", spec.duration]
    workers: list[list[str]] = []
    if spec.workers:
        main += ["--master", "--master-bind-port", str(master_port)]
        main += ["--expect-workers", str(spec.workers), "--expect-workers-max-wait", "60"]
        worker = [*_base(spec), "--worker", "--master-port", str(master_port)]
        worker += ["--master-host", "127.0.0.1", "--loglevel", "WARNING"]
        workers = [worker + list(PROFILES[spec.profile]) for _ in range(spec.workers)]
    return main + list(PROFILES[spec.profile]), workers


def environment(spec: RunSpec) -> dict[str, str]:
    env = {
        **os.environ,
        **spec.env,
        "SHOPD_LOADTEST_OUT": str(spec.out_dir),
        "SHOPD_LOADTEST_PROFILE": PROFILES[spec.profile][0],
        "PYTHONPATH": str(LOCUSTFILE.parent.parent),
    }
    if spec.steps is not None:
        start, step, seconds, limit = spec.steps
        env.update(
            SHOPD_LOADTEST_SHAPE="steps",
            SHOPD_LOADTEST_STEP_START=str(start),
            SHOPD_LOADTEST_STEP_USERS=str(step),
            SHOPD_LOADTEST_STEP_SECONDS=str(seconds),
            SHOPD_LOADTEST_STEP_MAX=str(limit),
        )
    return env


# Written into the output directory to end a step-shaped run (the shape looks for it).
STOP_FILE = "stop-requested"
STOP_GRACE_SECONDS = 30


def run(
    spec: RunSpec,
    watch: Callable[[list[results.Endpoint], list[results.Sample]], bool] | None = None,
    interval: float = 1.0,
) -> int:
    """Run Locust to the end (or until ``watch`` returns False); returns Locust's exit code."""
    check(spec)
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    for pattern in ("accepted-*.txt", "process-*.txt", STOP_FILE):
        for old in spec.out_dir.glob(pattern):
            old.unlink()
    env = environment(spec)
    main_cmd, worker_cmds = commands(spec, master_port=_free_port() if spec.workers else 5557)
    log = (spec.out_dir / "locust.log").open("w")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        main = subprocess.Popen(main_cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(main)
        for cmd in worker_cmds:
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        stopped_at: float | None = None
        while main.poll() is None:
            time.sleep(interval)
            if watch and stopped_at is None:
                keep_going = watch(
                    results.read_stats(spec.prefix), results.read_history(spec.prefix)
                )
                if not keep_going:
                    # The load shape ends the run, and Locust writes all its reports. SIGINT
                    # is lost under load: it interrupts whichever greenlet runs, a user's.
                    (spec.out_dir / STOP_FILE).touch()
                    stopped_at = time.monotonic()
            elif stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_SECONDS:
                main.send_signal(signal.SIGTERM)  # stops for sure; no HTML report then
                stopped_at = float("inf")
        return main.returncode
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
