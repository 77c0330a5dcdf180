"""Helpers for lab tests: commands on lab hosts over SSH, probes from the lab's namespaces."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from infra.lab import lab, topology
from infra.lab.system import missing_prerequisites
from tests.conftest import missing_prerequisite

ROOT = Path(__file__).resolve().parent.parent
SHOPCTL = str(Path(sys.executable).with_name("shopctl"))
PYINFRA = str(Path(sys.executable).with_name("pyinfra"))
DNS_PROBE = str(Path(__file__).with_name("data") / "dnsprobe.py")


def require_lab() -> None:
    problems = missing_prerequisites()
    if problems:
        missing_prerequisite("; ".join(problems))
    if lab.is_up():
        missing_prerequisite("a lab is already up on this machine: shopctl lab down first")


def shopctl(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHOPCTL, *args], capture_output=True, text=True, timeout=timeout)


def nothing_left() -> list[str]:
    """What the kernel and /proc still hold of the lab, read independently of lab.leftovers."""
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [f"netns {line.split()[0]}" for line in netns.splitlines() if "shopd-lab-" in line]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += [
        f"link {line.split(':')[1].strip()}" for line in links.splitlines() if ": sl-" in line
    ]
    found += [
        f"mount {line}"
        for line in Path("/proc/mounts").read_text().splitlines()
        if "shopd-lab" in line
    ]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "--machine=shopd-lab-" in cmd or ("tinyproxy" in cmd and "shopd-lab" in cmd):
                found.append(f"process {proc.name}: {cmd[:60]}")
    return found


def rules(host: str) -> str:
    """The host's ruleset without the SSH rate limiter's live entries, which tick by the second."""
    return re.sub(r"elements = \{[^}]*\}", "", on(host, "nft -s list ruleset").stdout)


def on(host: str, command: str, *, sudo: bool = True, warn: bool = False):
    """Run a command on a lab host over a fresh SSH connection; returns the Fabric result."""
    with lab.lab_connection(topology.host(host), timeout=10) as conn:
        if sudo:
            # The whole command line as root, not only its first command. `sudo -n`, not
            # Fabric's sudo(): admins have no password to type, and Fabric's prompt watcher
            # would answer any output that contains its prompt (`ps` lists that sudo itself).
            return conn.run(f"sudo -n sh -c {_quote(command)}", hide=True, warn=warn)
        return conn.run(command, hide=True, warn=warn)


def from_ns(probe: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", topology.PREFIX + probe, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tcp_open(probe: str, address: str, port: int, timeout: float = 3) -> bool:
    """Whether a TCP connection from the probe's namespace or host gets through."""
    code = f"import socket; socket.create_connection(({address!r}, {port}), {timeout}).close()"
    if topology.host(probe).container:
        return on(probe, f"python3 -c {_quote(code)}", sudo=False, warn=True).ok
    return from_ns(probe, sys.executable, "-c", code).returncode == 0


def dns_lookup(probe: str, server: str, name: str) -> str | None:
    proc = from_ns(probe, sys.executable, DNS_PROBE, server, name)
    return proc.stdout.strip() or None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def deploy(*args: str, inventory: Path | None = None) -> tuple[int, dict, str]:
    """``pyinfra --json`` against the lab's inventory: (exit code, results, stderr)."""
    proc = subprocess.run(
        [PYINFRA, "-y", "--json", *args, "inventory.py", "deploy.py"],
        cwd=ROOT,
        env={**os.environ, "SHOPD_INVENTORY": str(inventory or lab.inventory_path())},
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError:
        results = {}
    return proc.returncode, results, proc.stderr


def changed(results: dict) -> list[tuple[str, list[str]]]:
    """Operations that changed or failed something, by name, with the hosts."""
    return [
        (op["name"], op["success"] + op["error"])
        for op in results["results"]["operations"]
        if op["success"] or op["error"]
    ]
