"""The shop's inventory file (TOML): hosts by group, with the addresses and roles deploys need.

The shop edits one file (``SHOPD_INVENTORY``, default ``inventory.toml`` beside ``inventory.py``);
the lab writes a file of the same shape. ``inventory.py`` turns it into pyinfra groups, so every
deploy reads its facts about the network from host data, never from constants of its own.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from pathlib import Path
from typing import Any

GROUPS = ("routers", "firewalls", "app_servers", "db_servers", "db_replicas")
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "inventory.toml"


class InventoryError(ValueError):
    """The inventory file is missing, unreadable or says something impossible."""


# Every key the file may hold, by table. A key outside these is an error that names it: a
# misspelt or unsupported key once vanished without a word, and with it a TLS certificate or
# the backups' encryption that the operator believed configured.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
        {"network", "ssh", "admins", "hosts", "secrets", "staff", "db", "app", "tls", "backup"}
    ),
    "network": frozenset(
        {
            "admin",
            "lan",
            "lan_interface",
            "wan_interface",
            "admin_interface",
            "domain",
            "dhcp_range",
            "forward_http_to",
            "gateway",
            "apt_proxy",
            "dns_upstream",
            "ntp_servers",
            "ssh_rate_per_minute",
            "firewall_extra_input",
            "firewall_confirm_seconds",
            "wireguard",
            "shop_hostname",
        }
    ),
    "ssh": frozenset({"user", "key", "known_hosts", "port", "sudo"}),
    "admins": frozenset({"name", "keys"}),
    "hosts.*": frozenset({"ssh", "groups", "lan_address", "wan_address"}),
    "secrets": frozenset({"file"}),
    "staff": frozenset({"keys"}),
    "db": frozenset({"buffer_pool_mb", "max_connections", "max_replica_lag"}),
    "app": frozenset({"workers"}),
    # Files on the operator's machine; the deploy installs them for nginx on the app servers.
    "tls": frozenset({"certificate", "key"}),
    # age recipients the nightly backups are encrypted to; when they run (systemd OnCalendar).
    "backup": frozenset({"encrypt_to", "on_calendar"}),
}


def _check_keys(table: object, known: str, where: str) -> None:
    if not isinstance(table, dict):
        raise InventoryError(f"{where}: expected a table, not {type(table).__name__}")
    unknown = sorted(set(table) - KNOWN_KEYS[known])
    if unknown:
        names = ", ".join(f"{where}.{k}" if where else k for k in unknown)
        raise InventoryError(
            f"unknown key {names} (known here: {', '.join(sorted(KNOWN_KEYS[known]))})"
        )


def check_keys(raw: dict[str, Any], source: str) -> None:
    """Refuse any key the deploys would not read, naming it."""
    try:
        _check_keys(raw, "", "")
        for table in KNOWN_KEYS[""] - {"admins", "hosts"}:
            if table in raw:
                _check_keys(raw[table], table, table)
        for i, admin in enumerate(raw.get("admins", [])):
            _check_keys(admin, "admins", f"admins[{i}]")
        for name, spec in dict(raw.get("hosts", {})).items():
            _check_keys(spec, "hosts.*", f"hosts.{name}")
    except InventoryError as exc:
        raise InventoryError(f"{source}: {exc}") from None


def _read_file(value: object, where: str) -> str:
    path = Path(str(value)).expanduser()
    try:
        return path.read_text()
    except OSError as exc:
        raise InventoryError(f"{where}: cannot read {path} ({exc.strerror})") from None


@dataclass(frozen=True)
class InventoryHost:
    name: str
    groups: tuple[str, ...]
    data: dict[str, Any]


def inventory_path() -> Path:
    return Path(os.environ.get("SHOPD_INVENTORY") or DEFAULT_PATH)


def _network(value: object, where: str) -> IPv4Network:
    try:
        net = ip_network(str(value), strict=True)
    except ValueError as exc:
        raise InventoryError(f"{where}: {value!r} is not a network ({exc})") from None
    if not isinstance(net, IPv4Network):
        raise InventoryError(f"{where}: only IPv4 networks are supported")
    return net


def _address(value: object, where: str) -> IPv4Address:
    try:
        addr = ip_address(str(value))
    except ValueError:
        raise InventoryError(f"{where}: {value!r} is not an IPv4 address") from None
    if not isinstance(addr, IPv4Address):
        raise InventoryError(f"{where}: only IPv4 addresses are supported")
    return addr


def read_toml(path: Path, missing: str) -> dict[str, Any]:
    """A TOML file of the operator's; ``missing`` says what to do when there is none."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InventoryError(f"no file at {path}: {missing}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{path}: {exc}") from None


def load(path: Path | None = None) -> list[InventoryHost]:
    path = path or inventory_path()
    raw = read_toml(path, "copy inventory.example.toml there, or set SHOPD_INVENTORY")
    return parse(raw, str(path))


def parse(raw: dict[str, Any], source: str = "inventory") -> list[InventoryHost]:
    check_keys(raw, source)
    network = dict(raw.get("network", {}))
    admin_net = _network(network.get("admin"), f"{source}: network.admin")
    lan_net = _network(network.get("lan"), f"{source}: network.lan")
    ssh = dict(raw.get("ssh", {}))
    admins = raw.get("admins", [])
    if not admins or not all(
        isinstance(a, dict) and a.get("name") and a.get("keys") for a in admins
    ):
        raise InventoryError(f"{source}: at least one [[admins]] with a name and keys is needed")
    hosts_raw = raw.get("hosts", {})
    if not hosts_raw:
        raise InventoryError(f"{source}: no [hosts.*] tables")

    common: dict[str, Any] = {
        "admin_network": str(admin_net),
        "lan_network": str(lan_net),
        "lan_interface": network.get("lan_interface", "lan0"),
        "wan_interface": network.get("wan_interface", "wan0"),
        "admin_interface": network.get("admin_interface", "adm0"),
        "domain": network.get("domain", "shop.lan"),
        "dhcp_range": list(network.get("dhcp_range", [])),
        "apt_proxy": network.get("apt_proxy"),
        "dns_upstream": list(network.get("dns_upstream", [])),
        "ntp_servers": list(network.get("ntp_servers", ["0.debian.pool.ntp.org"])),
        "wireguard": network.get("wireguard"),
        "admins": admins,
        "ssh_rate_per_minute": int(network.get("ssh_rate_per_minute", 10)),
        "firewall_extra_input": list(network.get("firewall_extra_input", [])),
        "firewall_confirm_seconds": int(network.get("firewall_confirm_seconds", 60)),
        "_sudo": bool(ssh.get("sudo", True)),
        "secrets_file": str(raw.get("secrets", {}).get("file", "~/.config/shopd/secrets.toml")),
        "staff_keys": list(raw.get("staff", {}).get("keys", [])),
        "drained": [],
    }
    if network.get("shop_hostname"):
        common["shop_hostname"] = str(network["shop_hostname"])
    tls = dict(raw.get("tls", {}))
    if bool(tls.get("certificate")) != bool(tls.get("key")):
        raise InventoryError(f"{source}: tls needs both certificate and key (file paths)")
    if tls:
        common["tls_certificate"] = _read_file(tls["certificate"], f"{source}: tls.certificate")
        common["tls_key"] = _read_file(tls["key"], f"{source}: tls.key")
    backup = dict(raw.get("backup", {}))
    if "encrypt_to" in backup:
        recipients = backup["encrypt_to"]
        if not isinstance(recipients, list) or not all(
            isinstance(r, str) and r.startswith("age1") for r in recipients
        ):
            raise InventoryError(f"{source}: backup.encrypt_to is a list of age recipients (age1…)")
        common["backup_encrypt_to"] = recipients
    if "on_calendar" in backup:
        common["backup_on_calendar"] = str(backup["on_calendar"])
    for key, value in raw.get("db", {}).items():  # buffer_pool_mb, max_connections
        common[f"db_{key}"] = value
    for key, value in raw.get("app", {}).items():  # workers
        common[f"app_{key}"] = value
    for key, target in (
        ("user", "ssh_user"),
        ("key", "ssh_key"),
        ("known_hosts", "ssh_known_hosts_file"),
        ("port", "ssh_port"),
    ):
        if key in ssh:
            common[target] = ssh[key]
    if "known_hosts" in ssh:
        common["ssh_strict_host_key_checking"] = "yes"

    hosts: list[InventoryHost] = []
    lan_addresses: dict[str, str] = {}
    for name, spec in hosts_raw.items():
        where = f"{source}: hosts.{name}"
        groups = tuple(spec.get("groups", ()))
        unknown = [g for g in groups if g not in GROUPS]
        if unknown:
            raise InventoryError(f"{where}: unknown group(s) {unknown}; known: {list(GROUPS)}")
        ssh_address = _address(spec.get("ssh"), f"{where}.ssh")
        if ssh_address not in admin_net:
            raise InventoryError(f"{where}.ssh: {ssh_address} is not in the admin network")
        lan_address = _address(spec.get("lan_address"), f"{where}.lan_address")
        if lan_address not in lan_net:
            raise InventoryError(f"{where}.lan_address: {lan_address} is not in {lan_net}")
        data = dict(common)
        data.update(
            ssh_hostname=str(ssh_address),
            admin_address=str(ssh_address),
            lan_address=str(lan_address),
            roles=list(groups),
        )
        if "wan_address" in spec:
            data["wan_address"] = str(_address(spec["wan_address"], f"{where}.wan_address"))
        hosts.append(InventoryHost(name, groups, data))
        lan_addresses[name] = str(lan_address)

    routers = [h for h in hosts if "routers" in h.groups]
    for h in routers:
        if "wan_address" not in h.data:
            raise InventoryError(f"{source}: router {h.name} needs a wan_address")
    app_lan = [lan_addresses[h.name] for h in hosts if "app_servers" in h.groups]
    forward_to = network.get("forward_http_to") or (app_lan[0] if app_lan else None)
    gateway = routers[0].data["lan_address"] if routers else network.get("gateway")
    for h in hosts:
        h.data.update(
            app_server_addresses=app_lan,
            app_server_names=[x.name for x in hosts if "app_servers" in x.groups],
            db_server_addresses=[lan_addresses[x.name] for x in hosts if "db_servers" in x.groups],
            db_replica_addresses=[
                lan_addresses[x.name] for x in hosts if "db_replicas" in x.groups
            ],
            lan_hosts=lan_addresses,
            forward_http_to=forward_to,
            lan_gateway=gateway,
        )
    return hosts


def pyinfra_groups(hosts: list[InventoryHost]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    return {group: [(h.name, h.data) for h in hosts if group in h.groups] for group in GROUPS}
