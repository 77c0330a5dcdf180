"""Lab hosts as containers: an overlay over the cached image, booted by systemd-nspawn.

Each host's changes live in its own upper directory, so the image stays clean and a host is
thrown away by unmounting and deleting one directory.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from infra.lab import system
from infra.lab import topology as topo
from infra.lab.image import ADMIN_USER
from infra.lab.system import LabError, processes_with, run, state_dir, terminate


def host_dir(host: topo.Host) -> Path:
    return state_dir() / "hosts" / host.name


def root_of(host: topo.Host) -> Path:
    return host_dir(host) / "root"


def pid_file(host: topo.Host) -> Path:
    return host_dir(host) / "nspawn.pid"


def mount(host: topo.Host, image: Path) -> None:
    base = host_dir(host)
    for sub in ("upper", "work", "root"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    run(
        [
            "mount",
            "-t",
            "overlay",
            f"shopd-lab-{host.name}",
            "-o",
            f"lowerdir={image},upperdir={base / 'upper'},workdir={base / 'work'}",
            str(base / "root"),
        ]
    )


def personalise(host: topo.Host, authorized_keys: str) -> str:
    """Name, keys and network settings of one host; returns its SSH host public key."""
    root = root_of(host)
    (root / "etc/hostname").write_text(host.name + "\n")
    (root / "etc/hosts").write_text(
        f"127.0.0.1 localhost\n127.0.1.1 {host.name}.{topo.DOMAIN} {host.name}\n"
    )
    (root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
    resolver = topo.host("edge").address_on("lan")
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text(f"nameserver {resolver}\nsearch {topo.DOMAIN}\n")
    (root / "etc/apt/apt.conf.d/01shopd-lab-proxy").write_text(
        f'Acquire::http::Proxy "http://{topo.CONTROL_ADMIN.ip}:{topo.APT_PROXY_PORT}";\n'
        'Acquire::http::Timeout "30";\nAcquire::Retries "3";\n'
    )
    ssh_dir = root / "home" / ADMIN_USER / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(authorized_keys)
    (ssh_dir / "authorized_keys").chmod(0o600)
    uid_gid = _ids(root, ADMIN_USER)
    for path in (ssh_dir, ssh_dir / "authorized_keys"):
        os.chown(path, *uid_gid)
    run(["ssh-keygen", "-A", "-f", str(root)])
    key_type, key = (root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]
    return f"{key_type} {key}"


def _ids(root: Path, user: str) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise LabError(f"the image has no user {user}")


def boot(host: topo.Host) -> int:
    log = open(host_dir(host) / "console.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [
            system.find_tool("systemd-nspawn") or "systemd-nspawn",
            "--boot",
            f"--directory={root_of(host)}",
            f"--machine={host.machine}",
            f"--hostname={host.name}",
            f"--network-namespace-path=/run/netns/{host.namespace}",
            "--register=no",
            "--keep-unit",
            "--console=passive",
            "--resolv-conf=off",
            "--timezone=off",
            "--link-journal=no",
            # Its own network namespace is the host's to configure: firewall, forwarding.
            "--capability=CAP_NET_ADMIN",
        ],
        # Routers set net.* sysctls (forwarding) in their own namespace, as on real hardware.
        env={**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    pid_file(host).write_text(f"{proc.pid}\n")
    return proc.pid


def running_pids() -> dict[str, int]:
    """systemd-nspawn processes of lab hosts, by host name."""
    found = {}
    for pid, cmd in processes_with("systemd-nspawn", f"--machine={topo.PREFIX}").items():
        found[cmd.split(f"--machine={topo.PREFIX}", 1)[1].split(" ", 1)[0]] = pid
    return found


def stop(host: topo.Host, timeout: float = 20) -> None:
    pid = running_pids().get(host.name)
    if pid is not None:
        terminate([pid], timeout, "systemd-nspawn", f"--machine={host.machine} ")


def stop_all(timeout: float = 20) -> list[str]:
    """Power every lab container off: SIGTERM makes nspawn shut the host's systemd down."""
    pids = running_pids()
    terminate(list(pids.values()), timeout, "systemd-nspawn", f"--machine={topo.PREFIX}")
    return [f"host {name} (pid {pid})" for name, pid in pids.items()]


def mounts() -> list[str]:
    base = str(state_dir() / "hosts")
    points = []
    for line in Path("/proc/mounts").read_text().splitlines():
        point = line.split()[1]
        if point.startswith(base + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all() -> list[str]:
    removed = []
    for point in mounts():
        if run(["umount", point], check=False).returncode != 0:
            run(["umount", "--lazy", point], check=False)
        removed.append(f"mount {point}")
    return removed
