"""The TOML inventory and the firewall rulesets rendered from it (no hosts needed)."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import jinja2
import pytest

from infra.inventory_file import InventoryError, load, parse, pyinfra_groups
from tests.conftest import missing_prerequisite

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inventory.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def test_example_inventory_gives_groups_and_host_data() -> None:
    groups = pyinfra_groups(load(EXAMPLE))
    assert [name for name, _ in groups["routers"]] == ["edge"]
    assert [name for name, _ in groups["app_servers"]] == ["app1"]
    edge = dict(groups["routers"])["edge"]
    assert edge["ssh_hostname"] == "10.77.0.10"
    assert edge["wan_address"] == "198.51.100.2"
    db = dict(groups["db_servers"])["db1"]
    assert db["app_server_addresses"] == ["10.78.0.11"]
    assert db["forward_http_to"] == "10.78.0.11"
    assert db["lan_gateway"] == "10.78.0.1"
    assert db["lan_hosts"] == {"edge": "10.78.0.1", "app1": "10.78.0.11", "db1": "10.78.0.21"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["network"].update(admin="10.77.0.1/24"), "network.admin"),
        (lambda raw: raw["network"].update(lan="not a net"), "network.lan"),
        (lambda raw: raw["hosts"]["app1"].update(groups=["webservers"]), "unknown group"),
        (lambda raw: raw["hosts"]["app1"].update(ssh="10.99.0.1"), "not in the admin network"),
        (
            lambda raw: raw["hosts"]["app1"].update(lan_address="10.77.0.5"),
            "is not in 10.78.0.0/24",
        ),
        (lambda raw: raw["hosts"]["edge"].pop("wan_address"), "needs a wan_address"),
        (lambda raw: raw.update(admins=[]), "[[admins]]"),
        (lambda raw: raw.update(hosts={}), "no [hosts.*]"),
        (lambda raw: raw["hosts"]["db1"].update(ssh="::1"), "IPv4"),
    ],
)
def test_impossible_inventories_are_refused_with_the_place(change, message: str) -> None:
    raw = example()
    change(raw)
    with pytest.raises(InventoryError, match=re.escape(message)):
        parse(raw, "inventory.toml")


def test_missing_and_broken_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=re.escape("copy inventory.example.toml")):
        load(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[network\n")
    with pytest.raises(InventoryError, match=re.escape("broken.toml")):
        load(broken)


def _render(**context: object) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "infra" / "templates"))
    base = {
        "admin_network": "10.77.0.0/24",
        "lan_network": "10.78.0.0/24",
        "ssh_rate": 10,
        "web": False,
        "db": False,
        "app_servers": ["10.78.0.11", "10.78.0.12"],
        "replicas": [],
        "router": False,
        "forward_http_to": "10.78.0.11",
        "lan_if": "lan0",
        "wan_if": "wan0",
        "wireguard": None,
        "extra_input": [],
    }
    return env.get_template("nftables.conf.j2").render(**{**base, **context})


def _nft_check(ruleset: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        missing_prerequisite("nft -c needs root")
    path = tmp_path / "rules.nft"
    path.write_text(ruleset)
    return subprocess.run(["nft", "-c", "-f", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize(
    "role",
    [
        {"web": True},
        {"db": True},
        {"router": True, "wireguard": {"port": 51820}},
        {"extra_input": ["ip saddr 10.78.0.0/24 tcp dport 9100 accept"]},
    ],
)
def test_every_role_renders_a_ruleset_nft_accepts(role: dict, tmp_path: Path) -> None:
    rules = _render(**role)
    assert "policy drop" in rules
    check = _nft_check(rules, tmp_path)
    assert check.returncode == 0, check.stderr


def test_openings_follow_the_roles() -> None:
    db = _render(db=True)
    assert "ip saddr { 10.78.0.11, 10.78.0.12 } tcp dport 3306 accept" in db
    assert "dport { 80, 443 }" not in db and "table ip nat" not in db
    router = _render(router=True)
    assert 'iifname "wan0" tcp dport { 80, 443 } dnat to 10.78.0.11' in router
    assert 'oifname "wan0" ip saddr 10.78.0.0/24 masquerade' in router
    assert "3306" not in router
    # SSH only from the admin network, whatever the role.
    for rules in (db, router, _render(web=True)):
        ssh = [line for line in rules.splitlines() if "dport 22" in line]
        assert len(ssh) == 1 and "ip saddr 10.77.0.0/24" in ssh[0]


def test_a_broken_extra_rule_is_caught_by_nft(tmp_path: Path) -> None:
    check = _nft_check(_render(extra_input=["tcp dport 8080 acept"]), tmp_path)
    assert check.returncode != 0 and "syntax error" in check.stderr


def test_lab_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.lab import system

    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system, "find_tool", lambda name: None if name == "debootstrap" else name)
    problems = system.missing_prerequisites()
    assert any("needs root" in p for p in problems)
    assert any(p == "missing Debian packages: debootstrap" for p in problems)


def test_secrets_file_is_made_private_and_checked(tmp_path: Path) -> None:
    from infra.secrets_file import KEYS, load_secrets, make_secrets

    path = make_secrets(tmp_path / "deploy" / "secrets.toml")
    assert path.stat().st_mode & 0o777 == 0o600
    values = load_secrets(path)
    assert set(values) == set(KEYS) and all(v.isalnum() and len(v) >= 32 for v in values.values())
    assert make_secrets(path) == path and load_secrets(path) == values  # never overwritten

    path.chmod(0o644)
    with pytest.raises(InventoryError, match="readable by others"):
        load_secrets(path)
    path.chmod(0o600)
    path.write_text('db_app_password = "x\'; DROP USER root; --"\n')
    with pytest.raises(InventoryError, match="missing"):
        load_secrets(path)
    path.write_text("".join(f'{key} = "a b"\n' for key in KEYS))
    with pytest.raises(InventoryError, match="letters and digits"):
        load_secrets(path)
    with pytest.raises(InventoryError, match="make-secrets"):
        load_secrets(tmp_path / "none.toml")


def test_wireguard_config_keeps_the_key_on_the_router() -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "infra" / "templates"))
    settings = {
        "address": "10.79.0.1/24",
        "peers": [{"public_key": "PEERKEY=", "allowed_ips": "10.79.0.2/32"}],
    }
    conf = env.get_template("wg0.conf.j2").render(wireguard=settings)
    assert "Address = 10.79.0.1/24" in conf and "ListenPort = 51820" in conf
    assert "PublicKey = PEERKEY=" in conf and "AllowedIPs = 10.79.0.2/32" in conf
    # The private key is read from the router's own file, never written into the config.
    assert "PrivateKey" not in conf and "/etc/wireguard/private.key" in conf
    # …and the router's firewall opens the port on the WAN side only.
    rules = _render(router=True, wireguard=settings)
    assert 'iifname "wan0" udp dport 51820 accept' in rules


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        (("lan_interfce",), "unknown key lan_interfce"),
        (("network", "tls_cert"), "unknown key network.tls_cert"),
        (("ssh", "usr"), "unknown key ssh.usr"),
        (("hosts", "app1", "group"), "unknown key hosts.app1.group"),
        (("backup", "schedule"), "unknown key backup.schedule"),
        (("tls", "chain"), "unknown key tls.chain"),
    ],
)
def test_an_unknown_key_is_an_error_that_names_it(place: tuple[str, ...], expected: str) -> None:
    raw = example()
    raw.setdefault("tls", {})
    raw.setdefault("backup", {})
    table = raw
    for name in place[:-1]:
        table = table[name]
    table[place[-1]] = "x"
    with pytest.raises(InventoryError) as raised:
        parse(raw, "inventory.toml")
    assert str(raised.value).startswith(f"inventory.toml: {expected} (known here: ")


def test_every_key_the_inventory_offers_reaches_the_deploys(tmp_path: Path) -> None:
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nchain\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nkey\n")
    raw = example()
    raw["tls"] = {"certificate": str(cert), "key": str(key)}
    raw["backup"] = {"encrypt_to": ["age1abc"], "on_calendar": "*-*-* 03:15:00"}
    raw["network"]["shop_hostname"] = "shop.example.com"
    raw["db"] = {"buffer_pool_mb": 256, "max_connections": 80, "max_replica_lag": 30}
    raw["app"] = {"workers": 3}
    data = dict(pyinfra_groups(parse(raw))["app_servers"])["app1"]
    assert data["tls_certificate"] == cert.read_text()
    assert data["tls_key"] == key.read_text()
    assert data["backup_encrypt_to"] == ["age1abc"]
    assert data["backup_on_calendar"] == "*-*-* 03:15:00"
    assert data["shop_hostname"] == "shop.example.com"
    assert (data["db_buffer_pool_mb"], data["db_max_connections"]) == (256, 80)
    assert (data["db_max_replica_lag"], data["app_workers"]) == (30, 3)
    # The names the deploys read are the names the parser writes.
    deploys = "\n".join(p.read_text() for p in (ROOT / "infra" / "deploys").glob("*.py"))
    for name in ("tls_certificate", "tls_key", "backup_encrypt_to", "backup_on_calendar"):
        assert f'"{name}"' in deploys or f".{name}" in deploys, name


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"tls": {"certificate": "/nonexistent/fullchain.pem", "key": "/nonexistent/k"}},
            "cannot read",
        ),
        ({"tls": {"certificate": "/etc/hostname"}}, "tls needs both certificate and key"),
        ({"backup": {"encrypt_to": "age1abc"}}, "backup.encrypt_to is a list of age recipients"),
        ({"backup": {"encrypt_to": ["ssh-ed25519 AAAA"]}}, "list of age recipients"),
    ],
)
def test_tls_and_backup_settings_are_checked(section: dict, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        parse({**example(), **section})
