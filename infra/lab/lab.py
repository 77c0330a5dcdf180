"""``shopctl lab up|status|down``: build, inspect and tear down the lab.

``up`` is a list of steps so the command line can show progress; any failure tears down what
was made before it re-raises, and ``down`` finds leftovers from the kernel's own lists, so a
crash halfway never leaves namespaces, links, mounts or processes behind.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from infra.lab import image, machines, network, proxy
from infra.lab import topology as topo
from infra.lab.system import LabError, missing_prerequisites, run, state_dir
from infra.remote import connect
from infra.secrets_file import make_secrets


def key_path() -> Path:
    return state_dir() / "id_ed25519"


def staff_key_path() -> Path:
    return state_dir() / "staff_ed25519"


def secrets_path() -> Path:
    return state_dir() / "secrets.toml"


def known_hosts_path() -> Path:
    return state_dir() / "known_hosts"


def inventory_path() -> Path:
    return state_dir() / "inventory.toml"


@dataclass
class Step:
    title: str
    run: Callable[[], None]


def _operator_keys() -> str:
    """The lab's own key, plus the operator's public keys so plain ``ssh ops@…`` works too."""
    keys = [(key_path().with_suffix(".pub")).read_text().strip()]
    home = Path(os.environ.get("HOME", "/root"))
    keys += [p.read_text().strip() for p in sorted((home / ".ssh").glob("id_*.pub"))]
    return "\n".join(keys) + "\n"


def up_steps() -> list[Step]:
    problems = missing_prerequisites()
    if problems:
        raise LabError("; ".join(problems), "shopctl lab up --install installs them (as root)")
    if is_up():
        raise LabError("the lab is already up", "shopctl lab status, or shopctl lab down first")
    host_keys: dict[str, str] = {}
    base: dict[str, Path] = {}

    def clean() -> None:
        down()
        state_dir().mkdir(parents=True, exist_ok=True)
        (state_dir() / "logs").mkdir(exist_ok=True)
        for path, comment in ((key_path(), "shopd-lab"), (staff_key_path(), "shopd-lab-staff")):
            if not path.exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
        make_secrets(secrets_path())

    def make_image() -> None:
        base["image"], _built = image.ensure_image(state_dir() / "logs" / "debootstrap.log")

    def wire() -> None:
        network.build()
        proxy.start()

    def boot() -> None:
        keys = _operator_keys()
        for host in topo.servers():
            machines.mount(host, base["image"])
            host_keys[host.name] = machines.personalise(host, keys)
        known_hosts_path().write_text(
            "".join(f"{h.ssh_address} {host_keys[h.name]}\n" for h in topo.servers())
        )
        for host in topo.servers():
            machines.boot(host)

    def wait_ssh() -> None:
        with ThreadPoolExecutor(len(topo.servers())) as pool:
            list(pool.map(_ssh_or_reboot, topo.servers()))
        write_inventory()

    return [
        Step("clearing leftovers, making the operator key", clean),
        Step("Debian 12 image (debootstrap, cached)", make_image),
        Step("segments, namespaces, package proxy", wire),
        Step("booting hosts with systemd-nspawn", boot),
        Step("waiting for SSH on every host", wait_ssh),
    ]


def up(
    steps: list[Step] | None = None, on_step: Callable[[int, Step], None] = lambda i, s: None
) -> None:
    """Run the steps; on any failure, tear down what was made, then re-raise."""
    steps = steps if steps is not None else up_steps()
    try:
        for index, step in enumerate(steps):
            on_step(index, step)
            step.run()
    except BaseException:
        down()
        raise


def _ssh_or_reboot(host: topo.Host) -> None:
    """Wait for SSH; a host that boots but will not let us in gets one more boot, with what
    its sshd said kept in the logs (seen once in many runs: auth cut off for two minutes)."""
    try:
        _wait_for_ssh(host, timeout=60)
        return
    except LabError as first:
        (state_dir() / "logs" / f"{host.name}-ssh.log").write_text(f"{first}\n{_diagnose(host)}")
    machines.stop(host)
    machines.boot(host)
    _wait_for_ssh(host, timeout=90)


def _diagnose(host: topo.Host) -> str:
    pid = machines.running_pids().get(host.name)
    if pid is None:
        return "not running"
    init = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if not init:
        return "no init"
    journal = run(
        ["nsenter", "-t", init[0], "-a", "journalctl", "-b", "-n", "60", "--no-pager"],
        check=False,
    )
    return journal.stdout + journal.stderr


def _wait_for_ssh(host: topo.Host, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if host.name not in machines.running_pids():
            log = machines.host_dir(host) / "console.log"
            raise LabError(f"{host.name} stopped while booting (see {log})")
        try:
            with lab_connection(host) as conn:
                conn.run("true", hide=True)
            return
        except Exception as exc:  # any connection failure: not up yet
            last = exc
            time.sleep(0.5)
    raise LabError(f"{host.name}: SSH did not answer within {timeout:.0f} s ({last})")


def lab_connection(host: topo.Host, timeout: float = 5):
    return connect(
        host.ssh_address,
        user=image.ADMIN_USER,
        key=key_path(),
        known_hosts=known_hosts_path(),
        timeout=timeout,
    )


def write_inventory() -> None:
    lines = [
        "# Written by `shopctl lab up`: the lab's hosts, in the shape of inventory.example.toml.",
        "",
        "[network]",
        f'admin = "{topo.ADMIN_NET}"',
        f'lan = "{topo.LAN_NET}"',
        f'domain = "{topo.DOMAIN}"',
        f"dhcp_range = {json.dumps(list(topo.DHCP_RANGE))}",
        f'apt_proxy = "http://{topo.CONTROL_ADMIN.ip}:{topo.APT_PROXY_PORT}"',
        # The lab has no internet, hence no NTP servers to reach: the router serves none either.
        "ntp_servers = []",
        "firewall_confirm_seconds = 30",
        # Tests and status open many SSH connections from the control machine in a minute.
        "ssh_rate_per_minute = 120",
        "",
        "[ssh]",
        f'user = "{image.ADMIN_USER}"',
        f'key = "{key_path()}"',
        f'known_hosts = "{known_hosts_path()}"',
        "",
        "[[admins]]",
        f'name = "{image.ADMIN_USER}"',
        f"keys = {json.dumps(_operator_keys().split(chr(10))[:-1])}",
        "",
        "[secrets]",
        f'file = "{secrets_path()}"',
        "",
        "[staff]",
        f"keys = {json.dumps([staff_key_path().with_suffix('.pub').read_text().strip()])}",
        "",
        "# Lab hosts share the machine: small sizes, whatever the machine's memory and cores.",
        "[db]",
        "buffer_pool_mb = 128",
        "max_connections = 100",
        "",
        "[app]",
        "workers = 2",
    ]
    for host in topo.servers():
        lines += ["", f"[hosts.{host.name}]", f'ssh = "{host.ssh_address}"']
        lines.append(f"groups = {json.dumps(list(host.groups))}")
        for segment in ("wan", "lan"):
            address = host.address_on(segment)
            if address:
                lines.append(f'{segment}_address = "{address}"')
    inventory_path().write_text("\n".join(lines) + "\n")


def is_up() -> bool:
    return bool(machines.running_pids() or network.namespaces())


@dataclass
class HostStatus:
    name: str
    groups: tuple[str, ...]
    addresses: dict[str, str]
    running: bool
    ssh: bool
    state: str


def status() -> list[HostStatus]:
    pids = machines.running_pids()

    def one(host: topo.Host) -> HostStatus:
        addresses = {
            seg: host.address_on(seg) or ("dhcp" if seg in _segments(host) else "")
            for seg in topo.SEGMENTS
        }
        ssh_ok, state = False, "—"
        if host.container and host.name in pids:
            try:
                with lab_connection(host, timeout=3) as conn:
                    result = conn.run("systemctl is-system-running", hide=True, warn=True)
                ssh_ok, state = True, result.stdout.strip()
            except Exception as exc:
                state = f"no SSH: {exc or type(exc).__name__}"
        elif not host.container:
            state = "namespace" if host.namespace in network.namespaces() else "absent"
        return HostStatus(host.name, host.groups, addresses, host.name in pids, ssh_ok, state)

    with ThreadPoolExecutor(len(topo.HOSTS)) as pool:
        return list(pool.map(one, topo.HOSTS))


def _segments(host: topo.Host) -> set[str]:
    return {nic.segment for nic in host.nics.values()}


def leftovers() -> list[str]:
    """Anything of the lab's still on the machine; empty after a clean ``down``."""
    found = [f"host {name}" for name in machines.running_pids()]
    found += [f"netns {ns}" for ns in network.namespaces()]
    found += [f"link {link}" for link in network.lab_links()]
    found += [f"mount {point}" for point in machines.mounts()]
    if network.guard_present():
        found.append(f"nft table {network.GUARD_TABLE}")
    if proxy.running():
        found.append("package proxy")
    return found


def down() -> list[str]:
    removed = machines.stop_all()
    removed += proxy.stop()
    removed += machines.unmount_all()
    removed += network.remove()
    hosts = state_dir() / "hosts"
    if hosts.exists() and not machines.mounts():
        shutil.rmtree(hosts)
    return removed


def ssh_answers(address: str, port: int = 22, timeout: float = 2) -> bool:
    try:
        with socket.create_connection((address, port), timeout) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False
