"""``shopctl deploy``: pyinfra over the shop's inventory, with a per-host summary of what changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from infra.inventory_file import GROUPS, InventoryError, inventory_path, load
from infra.secrets_file import make_secrets
from infra.wheels import ensure_wheels
from shopd.cli.extras import need_extra
from shopd.cli.terminal import console, fail

ROOT = Path(__file__).resolve().parents[2]  # the checkout: deploy.py, inventory.py


def deploy(
    limit: Annotated[
        list[str] | None,
        typer.Option(help=f"a group ({', '.join(GROUPS)}) or host name; repeatable"),
    ] = None,
    dry: Annotated[
        bool, typer.Option("--dry", help="show what would change, change nothing")
    ] = False,
    diff: Annotated[bool, typer.Option(help="show the differences of changed files")] = False,
    rolling: Annotated[
        bool,
        typer.Option(
            "--rolling",
            help="update (and restart) the app servers one at a time, each drained from nginx",
        ),
    ] = False,
    lab: Annotated[bool, typer.Option("--lab", help="deploy to the lab (shopctl lab up)")] = False,
    log: Annotated[Path, typer.Option(help="pyinfra's full output")] = Path("var/deploy.log"),
) -> None:
    """Apply deploy.py to every host of the inventory (SHOPD_INVENTORY, or the lab's with --lab)."""
    need_extra("ops", "deploy")
    env = dict(os.environ)
    if lab:
        from infra.lab.lab import inventory_path as lab_inventory

        env["SHOPD_INVENTORY"] = str(lab_inventory())
    try:
        hosts = load(Path(env["SHOPD_INVENTORY"]) if "SHOPD_INVENTORY" in env else inventory_path())
    except InventoryError as exc:
        raise fail(str(exc)) from None
    if any("app_servers" in h.groups for h in hosts):
        with console.status("building wheels for the app servers…"):
            _wheels, release = ensure_wheels()
        console.print(f"release [bold]{release}[/]")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    if not rolling:
        extra = [arg for item in limit or [] for arg in ("--limit", item)]
        extra += ["--dry"] if dry else []
        extra += ["--diff"] if diff else []
        _run_pyinfra(extra, env, log, dry, f"deploying to {len(hosts)} hosts")
        return
    if dry or limit:
        raise fail("--rolling deploys every app server in turn; it takes no --dry or --limit")
    from infra.deploys.app import APP_PORT  # pyinfra: loaded only when deploying

    apps = [h for h in hosts if "app_servers" in h.groups]
    if len(apps) == 1:
        # Draining the only app server would leave nginx nothing to send to: 502s for the
        # whole update. Updated in place, it is away only while it restarts.
        console.print(
            Text(
                f"{apps[0].name} is the only app server: it is updated in place, not drained;"
                " the shop does not answer while it restarts (a few seconds). Add a second app"
                " server for deploys without a gap.",
                style="yellow",
            )
        )
        _run_pyinfra(
            ["--limit", apps[0].name, "--data", "restart=yes"],
            env,
            log,
            False,
            f"updating {apps[0].name}",
        )
        apps = []
    for app_host in apps:
        upstream = f"{app_host.data['lan_address']}:{APP_PORT}"
        console.rule(f"[bold]{app_host.name}")
        # 1. nginx everywhere stops sending new requests to this host (in-flight ones finish).
        _run_pyinfra(
            ["--limit", "app_servers", "--data", "only=proxy", "--data", f"drained={upstream}"],
            env,
            log,
            False,
            f"draining {app_host.name} from nginx",
        )
        # 2. this host alone gets the release and a restart, and answers /readyz again.
        _run_pyinfra(
            ["--limit", app_host.name, "--data", f"drained={upstream}", "--data", "restart=yes"],
            env,
            log,
            False,
            f"updating {app_host.name}",
        )
    # 3. every app server back in nginx; then the rest of the site as usual.
    if apps:
        _run_pyinfra(
            ["--data", "only=proxy", "--limit", "app_servers"], env, log, False, "back in nginx"
        )
    _run_pyinfra([], env, log, False, "the rest of the site")


def _run_pyinfra(extra: list[str], env: dict[str, str], log: Path, dry: bool, what: str) -> None:
    args = [str(Path(sys.executable).with_name("pyinfra")), "-y", "--json", *extra]
    args += [str(ROOT / "inventory.py"), str(ROOT / "deploy.py")]
    problems: list[str] = []
    with log.open("a") as log_file, console.status(f"{what}…") as status:
        log_file.write(f"\n===== {what}: {' '.join(extra)}\n")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None and proc.stdout is not None
        for line in proc.stderr:
            log_file.write(line)
            if line.lstrip().startswith("[") and "rror" in line:
                problems.append(line.strip())
            if "Starting operation:" in line:
                status.update(f"{what}: [bold]{line.split('Starting operation:', 1)[1].strip()}")
        out = proc.stdout.read()
        proc.wait()
    for problem in problems[-10:]:
        console.print(Text(f"✗ {problem}", style="red"))
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        tail = [line.rstrip() for line in log.read_text().splitlines()[-6:] if line.strip()]
        for line in tail:
            console.print(Text(line, style="dim"))
        raise fail(f"{what}: stopped before any host finished (full output in {log})") from None
    _summary(report, dry, what)
    if proc.returncode != 0:
        raise fail(f"{what}: failed on some hosts (details in {log})")


def _summary(report: dict, dry: bool, what: str) -> None:
    counts: dict[str, Counter[str]] = {}
    failures: list[str] = []
    if dry:
        for op in report.get("plan", []):
            for host in op.get("hosts_with_change", []):
                counts.setdefault(host, Counter())["would change"] += 1
    else:
        for op in report.get("results", {}).get("operations", []):
            for kind in ("success", "no_change", "error"):
                for host in op.get(kind, []):
                    counts.setdefault(host, Counter())[kind] += 1
            # Later operations of a failed host count as errors too: name only the first.
            failures += [
                f"{host}: {op['name']}"
                for host in op.get("error", [])
                if not any(f.startswith(f"{host}: ") for f in failures)
            ]
    columns = ("would change",) if dry else ("success", "no_change", "error")
    table = Table(title=f"{what} (dry run)" if dry else what)
    table.add_column("host")
    for column in columns:
        table.add_column(
            {"success": "changed", "no_change": "unchanged"}.get(column, column), justify="right"
        )
    for host in sorted(counts):
        row = [str(counts[host][c]) for c in columns]
        if not dry and counts[host]["error"]:
            row[-1] = f"[red]{row[-1]}[/]"
        table.add_row(host, *row)
    console.print(table if counts else "nothing to do")
    for failure in failures:
        console.print(f"[red]✗[/] {failure}")


def make_secrets_file(
    path: Annotated[Path, typer.Argument(help="where the secrets file goes (outside the repo)")],
) -> None:
    """Write a deploy secrets file with random passwords and key (mode 0600; never overwrites)."""
    existed = path.expanduser().exists()
    made = make_secrets(path)
    console.print(f"{'kept the existing' if existed else '[green]✓[/] wrote'} {made} (mode 0600)")
