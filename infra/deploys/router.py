"""The router: forwarding (set by base's sysctl), NAT and port forwarding (in the firewall's
ruleset), DHCP and DNS for the LAN with dnsmasq bound to the LAN interface only, and an optional
WireGuard VPN for admins."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, server, systemd

from infra.deploys.checked import checked_file


@deploy("Router")
def router() -> None:
    apt.packages(name="router packages", packages=["dnsmasq"], cache_time=3600)
    checked_file(
        "dnsmasq (DHCP and DNS on the LAN)",
        "dnsmasq.conf.j2",
        "/etc/dnsmasq.d/shopd.conf",
        check="dnsmasq --test --conf-file={path}",
        restart="dnsmasq",
        lan_if=host.data.lan_interface,
        lan_address=host.data.lan_address,
        domain=host.data.domain,
        dhcp_range=host.data.dhcp_range,
        lan_hosts=host.data.lan_hosts,
        upstream=host.data.dns_upstream,
    )
    systemd.service(name="dnsmasq running", service="dnsmasq", running=True, enabled=True)
    wireguard = host.data.get("wireguard")
    if wireguard:
        _wireguard(wireguard)


def _wireguard(settings: dict) -> None:
    apt.packages(name="wireguard", packages=["wireguard-tools"], cache_time=3600)
    key = "/etc/wireguard/private.key"
    if host.get_fact(File, path=key) is None:
        server.shell(name="wireguard: private key", commands=[f"umask 077; wg genkey > {key}"])
    checked_file(
        "wireguard: wg0 for admins",
        "wg0.conf.j2",
        "/etc/wireguard/wg0.conf",
        check=None,
        mode="600",
        restart="wg-quick@wg0",
        wireguard=settings,
    )
    systemd.service(name="wireguard: enabled", service="wg-quick@wg0", enabled=True)
