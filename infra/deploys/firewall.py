"""nftables on every host: default drop, openings by role, and a change that cannot lock us out.

A new ruleset is checked with ``nft -c``, applied atomically with a rollback already armed on
the host (a systemd timer), and only kept when a *fresh* SSH connection from the control
machine gets through and confirms it. An established session would survive a rule that cuts
new ones, so only a new connection proves the operator can still get in.
"""

from __future__ import annotations

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, python, server, systemd

from infra.deploys.checked import TEMPLATES, staged_path
from infra.remote import connect

RULES = "/etc/nftables.conf"
SCRIPTS = Path(__file__).resolve().parent.parent / "files"


def ruleset_context() -> dict[str, object]:
    roles = set(host.groups)
    return {
        "admin_network": host.data.admin_network,
        "lan_network": host.data.lan_network,
        "ssh_rate": host.data.ssh_rate_per_minute,
        "web": bool(roles & {"app_servers", "proxies"}),
        "db": bool(roles & {"db_servers", "db_replicas"}),
        "replicas": host.data.db_replica_addresses if "db_servers" in roles else [],
        "app_servers": host.data.app_server_addresses,
        "router": "routers" in roles,
        "forward_http_to": host.data.forward_http_to,
        "lan_if": host.data.lan_interface,
        "wan_if": host.data.wan_interface,
        "wireguard": host.data.get("wireguard") if "routers" in roles else None,
        "extra_input": [host.data.firewall_extra_input]
        if isinstance(host.data.get("firewall_extra_input"), str)
        else list(host.data.get("firewall_extra_input", [])),
    }


def confirm_over_fresh_ssh(staged: str) -> None:
    """Runs on the control machine: a new SSH connection, then keep the change."""
    data = host.data
    try:
        with connect(
            data.ssh_hostname,
            user=data.ssh_user,
            key=data.ssh_key,
            known_hosts=data.get("ssh_known_hosts_file"),
            # Give up well before the host's rollback fires, so the outcome is never a race.
            timeout=max(2, int(data.firewall_confirm_seconds) // 3),
        ) as conn:
            conn.sudo(f"/usr/local/sbin/shopd-firewall-confirm {staged}", hide=True)
    except Exception as exc:
        raise RuntimeError(
            f"{host.name}: a fresh SSH connection failed after the firewall change ({exc}); "
            f"the host restores the previous rules within {data.firewall_confirm_seconds} s"
        ) from None


@deploy("Firewall")
def firewall() -> None:
    for script in ("shopd-firewall-apply", "shopd-firewall-rollback", "shopd-firewall-confirm"):
        files.put(
            name=f"firewall: {script}",
            src=str(SCRIPTS / script),
            dest=f"/usr/local/sbin/{script}",
            mode="755",
        )
    staged = staged_path(RULES)
    rendered = files.template(
        name="firewall: render ruleset",
        src=str(TEMPLATES / "nftables.conf.j2"),
        dest=staged,
        mode="600",
        create_remote_dir=True,
        **ruleset_context(),
    )
    server.shell(
        name="firewall: check (nft -c), arm rollback, apply atomically",
        commands=[
            f"/usr/local/sbin/shopd-firewall-apply {staged} {host.data.firewall_confirm_seconds}"
        ],
        _if=rendered.did_change,
    )
    python.call(
        name="firewall: confirm over a fresh SSH connection",
        function=confirm_over_fresh_ssh,
        staged=staged,
        _if=rendered.did_change,
    )
    systemd.service(name="firewall: load at boot", service="nftables", enabled=True)
