"""``shopctl lab up|status|down``: the rehearsal network of real Debian hosts (see DESIGN.md)."""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.lab import topology
from infra.lab.system import LabError
from shopd.cli.extras import need_extra
from shopd.cli.terminal import console, fail

lab_app = typer.Typer(
    help="The lab: Debian hosts in namespaces for rehearsing deploys.", no_args_is_help=True
)


def _lab(command: str) -> ModuleType:
    """The lab's module, which reaches its hosts over SSH with Fabric (the ops extra)."""
    need_extra("ops", f"lab {command}")
    from infra.lab import lab

    return lab


def _interactive() -> bool:
    return sys.stdin.isatty()


def _offer_install(install: bool) -> None:
    """Install the Debian packages the lab's tools come in: at once with ``--install``, after a
    yes on a terminal, or say which they are."""
    from infra.lab import system

    missing = system.missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise fail(
            f"the lab needs these Debian packages: {' '.join(missing)}",
            f"sudo apt-get install {' '.join(missing)}",
        )
    if not install:
        if not _interactive():
            raise fail(
                f"the lab needs these Debian packages: {' '.join(missing)}",
                "shopctl lab up --install installs them",
            )
        install = typer.confirm(f"install the Debian packages {' '.join(missing)} now?")
        if not install:
            raise fail("the lab cannot start without them", f"apt-get install {' '.join(missing)}")
    with console.status(f"installing {' '.join(missing)}…"):
        try:
            system.install_packages(missing)
        except LabError as exc:
            raise fail(str(exc), exc.hint) from None
    console.print(f"[green]✓[/] installed {' '.join(missing)}")


@lab_app.command("up")
def lab_up(
    install: Annotated[
        bool, typer.Option("--install", help="apt-get install the tools the lab needs first")
    ] = False,
) -> None:
    """Build the network and boot edge, app1, app2 and db1 (root; needs debootstrap, systemd-container)."""
    lab = _lab("up")
    _offer_install(install)
    try:
        steps = lab.up_steps()
    except LabError as exc:
        raise fail(str(exc), exc.hint) from None
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("lab up", total=len(steps))
            lab.up(
                steps,
                lambda index, step: progress.update(task, description=step.title, completed=index),
            )
            progress.update(task, description="lab up", completed=len(steps))
    except LabError as exc:
        raise fail(f"{exc} — everything the lab made is removed again", exc.hint) from None
    _show_status(lab)
    console.print(f"inventory: [bold]{lab.inventory_path()}[/]  ·  ssh key: {lab.key_path()}")
    console.print("deploy: [bold]shopctl deploy --lab[/]  ·  tear down: [bold]shopctl lab down[/]")


@lab_app.command("status")
def lab_status() -> None:
    """Each host, its addresses, and whether SSH answers."""
    lab = _lab("status")
    try:
        if not lab.is_up():
            console.print("the lab is down")
            leftovers = lab.leftovers()
            if leftovers:
                console.print(f"[yellow]leftovers:[/] {', '.join(leftovers)} → shopctl lab down")
            return
        _show_status(lab)
    except LabError as exc:
        raise fail(str(exc), exc.hint) from None


def _show_status(lab: ModuleType) -> None:
    table = Table(title="lab hosts")
    for column in ("host", "groups", "admin", "lan", "wan", "running", "ssh", "systemd"):
        table.add_column(column)
    for host in lab.status():
        table.add_row(
            host.name,
            ", ".join(host.groups) or "probe",
            host.addresses["admin"],
            host.addresses["lan"],
            host.addresses["wan"],
            "[green]yes[/]"
            if host.running
            else ("—" if not topology.host(host.name).container else "[red]no[/]"),
            "[green]yes[/]" if host.ssh else "—",
            host.state,
        )
    console.print(table)


@lab_app.command("down")
def lab_down() -> None:
    """Stop every host and remove every namespace, link, mount and process the lab made."""
    lab = _lab("down")
    try:
        with console.status("tearing the lab down…"):
            removed = lab.down()
        left = lab.leftovers()
    except LabError as exc:
        raise fail(str(exc), exc.hint) from None
    if left:
        raise fail(f"could not remove: {', '.join(left)}")
    console.print(f"[green]✓[/] lab down ({len(removed)} things removed)")
