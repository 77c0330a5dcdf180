"""Load-test profiles against a real shopd process (seconds long, a handful of users): each profile
runs, thresholds fail a run, the consistency check catches a corrupted stock row, capacity reports
a number, and Locust's distributed mode works with two local workers. The 1,000-user figures come
from the benchmark command in docs/performance.md, not from these tests."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backups.database import Database
from loadtest import capacity as cap
from loadtest import cpu_use, runner
from loadtest.results import Sample, Thresholds
from loadtest.shop import EXPECTED_REFUSALS
from tests.backupkit import order_numbers, seed_shop
from tests.server import free_port, running, shopctl

MANAGER = ("ltmanager", "load-test-pass-1")
LOOSE = ("--p95", "20000", "--p99", "30000", "--max-errors", "0")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A demo shop served by ``shopctl serve`` on SQLite, with a manager for the staff profiles."""
    folder = tmp_path_factory.mktemp("loadshop")
    url = f"sqlite:///{folder / 'shop.sqlite3'}"
    seed_shop(url, folder)
    env = {
        "SHOPD_DATABASE_URL": url,
        "SHOPD_DATA_DIR": str(folder / "var"),
        "SHOPD_SECRET_KEY": "lt",
    }
    added = shopctl(
        "staff",
        "add",
        MANAGER[0],
        "--role",
        "manager",
        "--password-stdin",
        env=env,
        stdin=MANAGER[1] + "\n",
    )
    assert added.returncode == 0, added.stderr
    port = free_port()
    with running("serve", "--port", str(port), env=env, cwd=folder, port=port) as (base, proc, _):
        yield {"url": base, "db": url, "folder": folder, "pid": proc.pid}


def loadtest(shop: dict, out: Path, *args: str, db: bool = True):  # type: ignore[no-untyped-def]
    env = {
        "SHOPD_LOADTEST_STAFF": ":".join(MANAGER),
        "SHOPD_LOADTEST_FLASH_LEAD": "2",
        # Half the campaign's shoppers with an account, so a short run surely has some.
        "SHOPD_LOADTEST_REGISTERED": "0.5",
    }
    if not db:
        env["SHOPD_DATABASE_URL"] = ""
    extra = ("--db", shop["db"]) if db else ()
    return shopctl("loadtest", *args, "--url", shop["url"], "--out", str(out), *extra, env=env)


def endpoints(out: Path) -> dict[str, int]:
    with (out / "locust_stats.csv").open() as f:
        return {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(f)}


@pytest.mark.parametrize(
    ("profile", "users", "expected"),
    [
        ("browse", 12, {"page /", "page /search", "api products?q", "page /p/[product]"}),
        # A checkout is 2 tasks in 21, each shopper thinks 1-3 s between tasks and between a
        # checkout's three steps: 60 shoppers for 8 s all miss one about once in 100,000 runs.
        ("campaign", 60, {"api checkout", "api cart add", "page /search", "api register"}),
        ("flash-sale", 12, {"api flash cart add", "api flash checkout"}),
        ("staff", 12, {"staff orders", "staff log-in"}),
    ],
)
def test_each_profile_runs_and_the_shop_stays_consistent(
    shop: dict, tmp_path: Path, profile: str, users: int, expected: set[str]
) -> None:
    done = loadtest(
        shop, tmp_path, "run", "--profile", profile, "--users", str(users),
        "--spawn-rate", str(users), "--duration", "8s", *LOOSE,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout and "consistent:" in done.stdout
    seen = endpoints(tmp_path)
    assert expected <= {name for name, count in seen.items() if count > 0}, seen
    assert seen["Aggregated"] > 10
    assert (tmp_path / "report.html").stat().st_size > 1000
    accepted = {line for p in tmp_path.glob("accepted-*.txt") for line in p.read_text().split()}
    if profile in ("campaign", "flash-sale"):
        assert accepted, "no checkout was accepted"
        assert accepted <= order_numbers(Database.from_url(shop["db"]))
    if profile == "flash-sale":
        sales = Database.from_url(shop["db"]).query("SELECT sold, quantity FROM flash_sales")
        assert sales and all(int(sold) <= int(quantity) for sold, quantity in sales)
        assert sum(int(sold) for sold, _ in sales) > 0


def test_a_run_reports_the_cpu_each_watched_process_spent_per_request(
    shop: dict, tmp_path: Path
) -> None:
    done = loadtest(
        shop, tmp_path, "run", "--profile", "browse", "--users", "6", "--spawn-rate", "6",
        "--duration", "4s", "--watch-pid", str(shop["pid"]), *LOOSE,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ms per request" in done.stdout and f"(pid {shop['pid']})" in done.stdout
    report = json.loads((tmp_path / "cpu.json").read_text())
    assert report["requests"] == endpoints(tmp_path)["Aggregated"] > 0
    assert 0 < report["machine_busy"] <= 1 and report["machine_cores"] >= 1
    uses = {u["name"]: u for u in report["uses"]}
    assert set(uses) == {cpu_use.GENERATOR, f"python shopctl serve (pid {shop['pid']})"}
    for use in uses.values():  # the shop answered and Locust asked: both spent CPU on it
        assert use["cpu_seconds"] > 0
        assert use["ms_per_request"] == pytest.approx(
            use["cpu_seconds"] * 1000 / report["requests"]
        )


def test_a_watched_process_counts_its_children(tmp_path: Path) -> None:
    """A server's CPU is its workers': a parent that only waits is charged its child's work,
    while the child runs and after it has been waited for."""
    done = tmp_path / "done"
    burn = (
        "import pathlib, time\nend = time.process_time() + 0.6\n"
        f"while time.process_time() < end: pass\npathlib.Path({str(done)!r}).touch()"
    )
    parent = subprocess.Popen(["sh", "-c", f'"{sys.executable}" -c "$0"; sleep 30', burn])
    try:
        meter = cpu_use.CpuMeter([parent.pid])
        first = meter.mark()
        watched = psutil.Process(parent.pid)
        deadline = time.monotonic() + 30
        while not watched.children() and time.monotonic() < deadline:
            time.sleep(0.01)
        child = watched.children()[0]
        while child.cpu_times().user < 0.1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cpu_use._tree_seconds(watched) >= 0.1  # the child at work
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        while watched.children() and time.monotonic() < deadline:
            time.sleep(0.01)  # until the shell has waited for it
        report = meter.report(first, meter.mark(), requests=100)
        (use,) = [u for u in report.uses if u.name != cpu_use.GENERATOR]
    finally:
        parent.kill()
        parent.wait()
    assert use.name == f"sh (pid {parent.pid})"
    assert use.cpu_seconds >= 0.55
    assert use.ms_per_request == pytest.approx(use.cpu_seconds * 10)


def test_shopctl_starts_where_the_loadtest_extra_is_not_installed() -> None:
    """The app servers' shopctl has no Locust, matplotlib or psutil: every command but the load
    tests themselves must still start (the lab's deploy runs it there)."""
    hide = "import sys\nfor name in ('psutil', 'locust', 'matplotlib'): sys.modules[name] = None\n"
    start = "from shopd.cli import app\napp(['loadtest', 'run', '--help'])"
    done = subprocess.run(
        [sys.executable, "-c", hide + start], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--watch-pid" in done.stdout


def test_watching_a_process_that_does_not_exist_is_a_clear_error(
    shop: dict, tmp_path: Path
) -> None:
    done = loadtest(shop, tmp_path, "run", "--duration", "2s", "--watch-pid", "999999999")
    assert done.returncode == 1
    assert "no such process" in done.stderr and "Traceback" not in done.stderr


def test_a_saturated_machine_and_a_busy_generator_are_called_out() -> None:
    def report(busy: float, locust_cores: float) -> cpu_use.Report:
        use = cpu_use.Use(cpu_use.GENERATOR, locust_cores * 60, locust_cores, 0.5)
        return cpu_use.Report(60, 1000, 2, busy, [use])

    assert report(0.5, 0.3).warnings(1) == []
    saturated, generator = report(0.97, 0.95).warnings(1)
    assert "97% of its 2 cores" in saturated and "0.95 cores" in generator
    assert report(0.5, 0.95).warnings(2) == []  # two Locust workers share the load


def test_a_missed_threshold_fails_the_run(shop: dict, tmp_path: Path) -> None:
    done = loadtest(
        shop, tmp_path, "run", "--profile", "browse", "--users", "4", "--spawn-rate", "4",
        "--duration", "4s", "--p95", "0.001",
    )  # fmt: skip
    assert done.returncode == 1
    assert "FAIL p95" in done.stderr and "Aggregated" in done.stdout


def test_the_consistency_check_catches_a_corrupted_stock_row(shop: dict, tmp_path: Path) -> None:
    path = Database.from_url(shop["db"]).name
    statement = "UPDATE stock_levels SET on_hand = on_hand {} 3 WHERE sku_id = (SELECT MIN(sku_id) FROM stock_levels)"
    with sqlite3.connect(path) as con:
        con.execute(statement.format("+"))
    try:
        done = loadtest(
            shop, tmp_path, "run", "--profile", "browse", "--users", "2", "--spawn-rate", "2",
            "--duration", "3s", *LOOSE,
        )  # fmt: skip
    finally:
        with sqlite3.connect(path) as con:
            con.execute(statement.format("-"))
    assert done.returncode == 1
    assert "stock ledger sums to on-hand: 1 SKUs" in done.stderr
    assert "PASS" not in done.stdout


def test_capacity_reports_a_number_a_plot_and_each_steps_cpu(shop: dict, tmp_path: Path) -> None:
    done = loadtest(
        shop, tmp_path, "capacity", "--profile", "browse", "--start", "2", "--step", "2",
        "--step-seconds", "4", "--max-users", "6", "--watch-pid", str(shop["pid"]), *LOOSE,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "capacity: 6 users" in done.stdout
    assert (tmp_path / "capacity.png").read_bytes()[:4] == b"\x89PNG"
    assert "machine busy" in done.stdout
    steps = json.loads((tmp_path / "cpu.json").read_text())
    assert [s["users"] for s in steps] == [2, 4, 6]
    spent = 0.0
    for step in steps:  # each step's own seconds and requests, and what the shop spent on them
        cpu = step["cpu"]
        assert cpu["requests"] > 0 and 0 < cpu["seconds"] <= 8
        (shop_use,) = [u for u in cpu["uses"] if f"(pid {shop['pid']})" in u["name"]]
        assert shop_use["ms_per_request"] == pytest.approx(
            shop_use["cpu_seconds"] * 1000 / cpu["requests"]
        )
        spent += shop_use["cpu_seconds"]
    # The kernel counts CPU in ticks of 10 ms: a step of a few requests may show none.
    assert spent > 0


def test_a_report_covers_only_the_marks_of_its_window() -> None:
    meter = cpu_use.CpuMeter([])
    for at, generator, busy in ((100, 1.0, 10.0), (101, 1.5, 11.0), (102, 2.5, 12.0)):
        meter.marks.append(cpu_use.Mark(at, generator, (), (busy, busy * 2)))
    report = meter.within(100.5, 102, requests=500)
    assert report is not None
    assert report.seconds == 1 and report.requests == 500
    assert report.machine_busy == pytest.approx(0.5)
    (locust,) = report.uses
    assert locust.cpu_seconds == pytest.approx(1.0) and locust.ms_per_request == pytest.approx(2)
    assert meter.within(102.5, 200, requests=10) is None  # no two marks inside: no figure


def test_capacity_stops_at_the_first_step_that_broke_and_keeps_every_report(
    shop: dict, tmp_path: Path
) -> None:
    # No answer is that fast: the first step breaks, and the search must end right after it
    # (the load shape ends the run, so Locust still writes its HTML report), not climb on to
    # --max-users.
    began = time.monotonic()
    done = loadtest(
        shop, tmp_path, "capacity", "--profile", "browse", "--start", "2", "--step", "2",
        "--step-seconds", "4", "--max-users", "60", "--p95", "0.01",
    )  # fmt: skip
    assert "capacity: 0 users" in done.stdout, done.stdout + done.stderr
    assert time.monotonic() - began < 60
    # Asked of the load shape, not by SIGINT: under load Python raises that in whichever
    # greenlet runs, a shopper's, which swallowed it and the search climbed on.
    assert (tmp_path / runner.STOP_FILE).exists()
    assert (tmp_path / "report.html").stat().st_size > 1000
    judged = json.loads((tmp_path / "capacity.json").read_text())
    assert judged["users"] == 0 and judged["limit_found"] is True


def _sample(at: float, users: int, p95: float, requests: int, failures: int = 0) -> Sample:
    return Sample(
        at=at, users=users, rps=10, p95=p95, p99=p95, requests=requests, failures=failures
    )


def test_capacity_is_the_last_step_before_the_first_that_broke() -> None:
    history = []
    for i in range(30):
        users = 100 * (1 + i // 10)
        p95 = 900 if users == 300 else 100
        history.append(_sample(i, users, p95, requests=100 * i))
    judged = cap.steps(history, Thresholds())
    assert [s.users for s in judged] == [100, 200, 300]
    assert [s.held for s in judged] == [True, True, False]
    assert cap.capacity(judged) == 200
    failing = [_sample(i, 100, 50, requests=100 * i, failures=i) for i in range(10)]
    assert cap.capacity(cap.steps(failing, Thresholds())) == 0


def test_a_running_step_is_not_judged_on_its_first_seconds() -> None:
    """Cold pages and fresh connections make a step's first seconds slow; stopping the search
    there would report a capacity of nothing for a shop that holds the step."""
    warming = [_sample(i, 50, 900 if i < 3 else 100, requests=100 * i) for i in range(4)]
    assert cap.broke(cap.steps(warming, Thresholds()))  # judged now, it would stop the search
    assert cap.finished_steps(warming, Thresholds()) == []
    moved_on = [*warming, _sample(4, 100, 100, requests=500)]
    assert [s.users for s in cap.finished_steps(moved_on, Thresholds())] == [50]


def test_distributed_mode_with_two_local_workers(shop: dict, tmp_path: Path) -> None:
    done = loadtest(
        shop, tmp_path, "run", "--profile", "campaign", "--users", "8", "--spawn-rate", "8",
        "--duration", "8s", "--workers", "2", *LOOSE,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    roles = sorted(p.read_text().strip() for p in tmp_path.glob("process-*.txt"))
    assert roles == ["MasterRunner", "WorkerRunner", "WorkerRunner"]
    assert endpoints(tmp_path)["Aggregated"] > 10


def test_bad_input_gets_a_clear_error(shop: dict, tmp_path: Path) -> None:
    unknown = loadtest(shop, tmp_path, "run", "--profile", "nope", "--duration", "1s")
    assert unknown.returncode == 1 and "unknown profile 'nope'" in unknown.stderr
    env_less = shopctl(
        "loadtest", "run", "--profile", "staff", "--url", shop["url"], "--out", str(tmp_path),
        env={"SHOPD_LOADTEST_STAFF": ""},
    )  # fmt: skip
    assert env_less.returncode == 1 and "SHOPD_LOADTEST_STAFF" in env_less.stderr
    assert "Traceback" not in unknown.stderr + env_less.stderr


def test_ceiling_profile_measures_a_bare_endpoint(tmp_path: Path) -> None:
    """The yardstick docs/performance.md divides by: the same server on one JSON endpoint."""
    import subprocess
    import sys

    from tests.server import wait_healthy

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "loadtest.ceiling_app:app", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, path="/ping")  # type: ignore[arg-type]
        done = shopctl(
            "loadtest", "run", "--profile", "ceiling", "--users", "5", "--spawn-rate", "5",
            "--duration", "3s", "--url", f"http://127.0.0.1:{port}", "--out", str(tmp_path),
            *LOOSE,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    assert done.returncode == 0, done.stdout + done.stderr
    assert endpoints(tmp_path)["ceiling /ping"] > 100


def test_the_refusals_a_rush_expects_are_codes_the_shop_gives() -> None:
    """A sold-out answer is the shop working; if its code drifted, a flash sale would count
    every right refusal as an error (as it once did with ``sale_sold_out``)."""
    shopd = Path(__file__).resolve().parent.parent / "shopd"
    source = "\n".join(p.read_text() for p in shopd.rglob("*.py"))
    for code in EXPECTED_REFUSALS:
        assert f'code="{code}"' in source or f'code = "{code}"' in source, code
