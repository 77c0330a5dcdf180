"""Wiring the lab: one bridge per segment, a network namespace per host, veth pairs between.

Everything made here carries the lab's prefix, so ``remove`` finds it again from the kernel's
own lists — also when ``lab up`` died halfway and wrote no state.
"""

from __future__ import annotations

import json

from infra.lab import system
from infra.lab import topology as topo
from infra.lab.system import in_namespace, run

GUARD_TABLE = "shopd_lab"


def _links() -> list[str]:
    if system.find_tool("ip") is None:
        return []
    out = run(["ip", "-json", "link", "show"]).stdout
    return [link["ifname"] for link in json.loads(out or "[]")]


def namespaces() -> list[str]:
    if system.find_tool("ip") is None:
        return []  # without iproute2 this machine never made the lab's namespaces
    out = run(["ip", "-json", "netns", "list"], check=False).stdout
    return [ns["name"] for ns in json.loads(out or "[]") if ns["name"].startswith(topo.PREFIX)]


def lab_links() -> list[str]:
    return [name for name in _links() if name.startswith(topo.LINK_PREFIX)]


def guard_present() -> bool:
    if system.find_tool("nft") is None:
        return False  # the guard is an nft table: without nft the lab never made one
    return run(["nft", "list", "table", "inet", GUARD_TABLE], check=False).returncode == 0


def build() -> None:
    # The machine never routes for the lab, whatever its own forwarding setting: lab hosts
    # reach nothing outside the lab but the package proxy on the admin bridge.
    run(
        ["nft", "-f", "-"],
        input=f"""
table inet {GUARD_TABLE} {{
    chain forward {{
        type filter hook forward priority -10; policy accept;
        iifname "{topo.LINK_PREFIX}*" oifname != "{topo.LINK_PREFIX}*" drop
        oifname "{topo.LINK_PREFIX}*" iifname != "{topo.LINK_PREFIX}*" drop
    }}
}}
""",
    )
    for segment in topo.SEGMENTS:
        name = topo.bridge(segment)
        # A switch does not filter: frames crossing a lab bridge skip the machine's own
        # netfilter, whatever br_netfilter and the machine's firewall would do with them.
        run(
            [
                *("ip", "link", "add", name, "type", "bridge"),
                *("nf_call_iptables", "0", "nf_call_ip6tables", "0", "nf_call_arptables", "0"),
            ]
        )
        run(["ip", "link", "set", name, "up"])
    run(["ip", "addr", "add", str(topo.CONTROL_ADMIN), "dev", topo.bridge("admin")])
    for host in topo.HOSTS:
        _wire(host)


def _wire(host: topo.Host) -> None:
    ns = host.namespace
    run(["ip", "netns", "add", ns])
    in_namespace(ns, ["ip", "link", "set", "lo", "up"])
    for ifname, nic in host.nics.items():
        outside = f"{topo.LINK_PREFIX}{host.name}-{nic.segment[0]}"
        run(["ip", "link", "add", outside, "type", "veth", "peer", "name", f"{outside}p"])
        run(["ip", "link", "set", outside, "master", topo.bridge(nic.segment), "up"])
        run(["ip", "link", "set", f"{outside}p", "netns", ns])
        in_namespace(ns, ["ip", "link", "set", f"{outside}p", "name", ifname])
        if nic.address is not None:
            in_namespace(ns, ["ip", "addr", "add", str(nic.address), "dev", ifname])
        in_namespace(ns, ["ip", "link", "set", ifname, "up"])
    if host.gateway:
        in_namespace(ns, ["ip", "route", "add", "default", "via", host.gateway])


def remove() -> list[str]:
    """Remove every lab namespace, link and the guard table; returns what was removed."""
    removed = []
    for ns in namespaces():
        # Processes still inside (a probe's DHCP client) would keep the namespace alive.
        pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
        for pid in pids:
            run(["kill", "-KILL", pid], check=False)
        run(["ip", "netns", "delete", ns], check=False)
        removed.append(f"netns {ns}")
    for link in lab_links():
        if run(["ip", "link", "delete", link], check=False).returncode == 0:
            removed.append(f"link {link}")
    if guard_present():
        run(["nft", "delete", "table", "inet", GUARD_TABLE])
        removed.append(f"nft table {GUARD_TABLE}")
    return removed
