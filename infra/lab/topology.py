"""The lab's network and hosts, described once: everything else (wiring, inventory) reads this.

Addresses come from documentation and private ranges that no real shop network uses, so the
lab can run on an operator's machine beside a real LAN: admin 10.77.0.0/24 (the machine is
.1, the management side every host's SSH listens on), LAN 10.78.0.0/24 behind the router, and
WAN 198.51.100.0/24 (TEST-NET-2), where a bare ``client`` namespace plays the internet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Interface, IPv4Network

PREFIX = "shopd-lab-"  # network namespaces and container machine names
LINK_PREFIX = "sl-"  # bridges and the machine's ends of veth pairs (15-character limit)

ADMIN_NET = IPv4Network("10.77.0.0/24")
LAN_NET = IPv4Network("10.78.0.0/24")
WAN_NET = IPv4Network("198.51.100.0/24")
CONTROL_ADMIN = IPv4Interface("10.77.0.1/24")  # the control machine on the admin segment
APT_PROXY_PORT = 3150  # not 8888 or 3142: a system tinyproxy or apt-cacher-ng may hold those
DHCP_RANGE = ("10.78.0.100", "10.78.0.199")
DOMAIN = "lab.shop"


@dataclass(frozen=True)
class Nic:
    segment: str  # "admin" | "lan" | "wan"
    address: IPv4Interface | None  # None: the host asks for an address over DHCP


@dataclass(frozen=True)
class Host:
    name: str
    groups: tuple[str, ...]
    nics: dict[str, Nic]  # interface name inside the host → segment and address
    gateway: str | None = None
    container: bool = True  # False: a bare namespace (a probe), no systemd, no sshd
    data: dict[str, object] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return PREFIX + self.name

    @property
    def machine(self) -> str:
        return PREFIX + self.name

    def address_on(self, segment: str) -> str | None:
        for nic in self.nics.values():
            if nic.segment == segment and nic.address is not None:
                return str(nic.address.ip)
        return None

    @property
    def ssh_address(self) -> str:
        address = self.address_on("admin")
        if address is None:
            raise ValueError(f"{self.name} has no admin address")
        return address


def _nic(segment: str, address: str | None) -> Nic:
    return Nic(segment, IPv4Interface(address) if address else None)


HOSTS: tuple[Host, ...] = (
    Host(
        "edge",
        ("routers", "firewalls"),
        {
            "adm0": _nic("admin", "10.77.0.10/24"),
            "wan0": _nic("wan", "198.51.100.2/24"),
            "lan0": _nic("lan", "10.78.0.1/24"),
        },
        gateway="198.51.100.100",
    ),
    Host(
        "app1",
        ("app_servers",),
        {"adm0": _nic("admin", "10.77.0.11/24"), "lan0": _nic("lan", "10.78.0.11/24")},
        gateway="10.78.0.1",
    ),
    Host(
        "app2",
        ("app_servers",),
        {"adm0": _nic("admin", "10.77.0.12/24"), "lan0": _nic("lan", "10.78.0.12/24")},
        gateway="10.78.0.1",
    ),
    Host(
        "db1",
        ("db_servers",),
        {"adm0": _nic("admin", "10.77.0.21/24"), "lan0": _nic("lan", "10.78.0.21/24")},
        gateway="10.78.0.1",
    ),
    Host(
        "db2",
        ("db_replicas",),
        {"adm0": _nic("admin", "10.77.0.22/24"), "lan0": _nic("lan", "10.78.0.22/24")},
        gateway="10.78.0.1",
    ),
    # The internet: probes and load come from here, as a customer's browser would.
    Host("client", (), {"eth0": _nic("wan", "198.51.100.100/24")}, container=False),
    # A shop PC on the LAN that takes its address from the router's DHCP.
    Host("pc", (), {"eth0": _nic("lan", None)}, container=False),
)

SEGMENTS = ("admin", "lan", "wan")


def bridge(segment: str) -> str:
    return f"{LINK_PREFIX}{segment}"


def host(name: str) -> Host:
    for candidate in HOSTS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def servers() -> list[Host]:
    return [h for h in HOSTS if h.container]
