"""pyinfra deploy entry point: ``pyinfra inventory.py deploy.py`` (or ``shopctl deploy``).

Every host gets the base and its host firewall; routers get DHCP, DNS and NAT on top.
"""

from pyinfra import host

from infra.deploys.base import base
from infra.deploys.firewall import firewall
from infra.deploys.router import router

base()
if "routers" in host.groups:
    router()
firewall()
