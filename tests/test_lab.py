"""The lab and the network deploys, end to end on real Debian hosts (marker ``lab``).

One lab is built for the module: ``shopctl lab up``, then the whole network deploy through
pyinfra, then probes from outside — the WAN client, the LAN PC, the hosts themselves.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.lab import lab, machines
from tests.labkit import (
    SHOPCTL,
    changed,
    deploy,
    dns_lookup,
    from_ns,
    nothing_left,
    on,
    require_lab,
    rules,
    shopctl,
    tcp_open,
)

pytestmark = pytest.mark.lab

EDGE_WAN = "198.51.100.2"
APP1, DB1, EDGE_LAN = "10.78.0.11", "10.78.0.21", "10.78.0.1"


def test_up_killed_halfway_then_down_leaves_nothing() -> None:
    require_lab()
    proc = subprocess.Popen(
        [SHOPCTL, "lab", "up"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 600
    # Kill it once hosts are booting: namespaces, links, mounts and containers all exist.
    while time.monotonic() < deadline and not machines.running_pids():
        assert proc.poll() is None, "lab up ended before it was killed"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert lab.is_up() and nothing_left(), "the kill came too late to leave anything behind"

    result = shopctl("lab", "down")
    assert result.returncode == 0, result.stderr
    assert nothing_left() == []
    assert lab.leftovers() == []


def test_status_shows_every_host_answering(lab_deployed: dict) -> None:
    result = shopctl("lab", "status")
    assert result.returncode == 0
    for host in ("edge", "app1", "app2", "db1"):
        row = next(line for line in result.stdout.splitlines() if f" {host} " in line)
        assert "yes" in row and "no SSH" not in row, row
    hosts = lab.status()
    assert all(h.ssh for h in hosts if h.name in {"edge", "app1", "app2", "db1"}), hosts


def test_second_deploy_changes_nothing(lab_deployed: dict) -> None:
    # ``deployed`` is already the second run, after ``shopctl deploy --lab`` set the hosts up.
    assert changed(lab_deployed) == []
    assert lab_deployed["results"]["totals"]["no_change"] > 100


def test_base_hardening_is_in_place(lab_deployed: dict) -> None:
    sshd = on("app1", "sshd -T").stdout
    assert "permitrootlogin no" in sshd
    assert "passwordauthentication no" in sshd
    assert on("db1", "sysctl -n net.ipv4.ip_forward").stdout.strip() == "0"
    assert on("edge", "sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
    assert 'Unattended-Upgrade "1"' in on("app2", "cat /etc/apt/apt.conf.d/20auto-upgrades").stdout
    assert on("app1", "dpkg -s unattended-upgrades nftables", warn=True).ok


def test_router_forwards_http_to_the_app_side(lab_deployed: dict) -> None:
    # nginx on the app side answers port 80 with the way to HTTPS.
    reply = from_ns(
        "client",
        sys.executable,
        "-c",
        f"import httpx; r = httpx.get('http://{EDGE_WAN}/catalog', timeout=5); print(r.status_code, r.headers['location'])",
    )
    assert reply.stdout.split() == ["301", f"https://{EDGE_WAN}/catalog"], reply.stderr
    # From the WAN only the forwarded ports reach the LAN, never a host directly.
    assert not tcp_open("client", APP1, 80)
    assert not tcp_open("client", APP1, 8000)


def test_hosts_have_no_route_to_the_internet(lab_deployed: dict) -> None:
    archive = socket.gethostbyname("deb.debian.org")
    for host in ("edge", "app1", "db1"):
        assert not tcp_open(host, archive, 80), host
    # …yet apt works on them, through the lab's package proxy only.
    assert on("db1", "apt-get -q update", warn=True).ok


def test_ssh_is_refused_from_the_wan(lab_deployed: dict) -> None:
    assert not tcp_open("client", EDGE_WAN, 22)
    assert not tcp_open("client", APP1, 22)
    # …while the admin network still gets in.
    assert on("edge", "true", sudo=False).ok


def test_lan_pc_gets_a_lease_and_names_resolve(lab_deployed: dict, tmp_path: Path) -> None:
    out = tmp_path / "lease"
    script = tmp_path / "udhcpc.sh"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = bound ]; then\n'
        '  ip addr add "$ip/$mask" dev "$interface"\n'
        f'  echo "$ip $router $dns $domain" > {out}\n'
        "fi\n"
    )
    script.chmod(0o755)
    lease = from_ns(
        "pc", "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "10", "-s", str(script)
    )
    assert lease.returncode == 0, lease.stdout + lease.stderr
    ip, router, dns, domain = out.read_text().split()
    assert ip.startswith("10.78.0.1") and 100 <= int(ip.rsplit(".", 1)[1]) <= 199
    assert (router, dns, domain) == (EDGE_LAN, EDGE_LAN, "lab.shop")
    assert dns_lookup("pc", EDGE_LAN, "db1.lab.shop") == DB1
    assert on("app1", "getent hosts db1", sudo=False).stdout.split()[0] == DB1
    # The router's DNS answers the LAN only.
    assert dns_lookup("client", EDGE_WAN, "db1.lab.shop") is None


def test_database_port_only_from_app_servers(lab_deployed: dict) -> None:
    assert tcp_open("app1", DB1, 3306)
    assert tcp_open("app2", DB1, 3306)
    assert not tcp_open("edge", DB1, 3306)
    assert not tcp_open("client", DB1, 3306)
    assert not tcp_open("client", EDGE_WAN, 3306)


def test_broken_rule_is_refused_and_changes_nothing(lab_deployed: dict) -> None:
    before = rules("app2")
    code, _, stderr = deploy(
        "--limit", "app2", "--data", "firewall_extra_input=tcp dport 8080 acept"
    )
    assert code != 0
    assert "refused by nft -c" in stderr and "acept" in stderr
    assert rules("app2") == before
    # The refused file is not kept: a fixed deploy afterwards is a change, and it applies.
    code, results, stderr = deploy("--limit", "app2")
    assert code == 0, stderr[-2000:]
    assert any("render ruleset" in name for name, _ in changed(results))
    assert rules("app2") == before


def test_change_that_cuts_ssh_is_rolled_back(lab_deployed: dict) -> None:
    before = rules("app2")
    code, _, stderr = deploy(
        "--limit",
        "app2",
        "--data",
        "admin_network=192.0.2.0/24",
        "--data",
        "firewall_confirm_seconds=8",
    )
    assert code != 0
    assert "fresh SSH connection failed" in stderr, stderr[-1500:]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not lab.ssh_answers("10.77.0.12"):
        time.sleep(1)
    # The admin segment reaches app2 again, and its rules are the ones before the change.
    assert rules("app2") == before
    assert (
        "previous ruleset restored" in on("app2", "journalctl -t shopd-firewall --no-pager").stdout
    )
    # The rollback forgot the refused ruleset: the next deploy applies the right one again…
    code, results, stderr = deploy("--limit", "app2")
    assert code == 0, stderr[-2000:]
    assert any("confirm" in name for name, _ in changed(results))
    # …and after that there is nothing left to do.
    code, results, stderr = deploy("--limit", "app2")
    assert code == 0 and changed(results) == [], stderr[-2000:]
