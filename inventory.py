"""pyinfra inventory: ``pyinfra inventory.py deploy.py`` (or ``shopctl deploy``).

The hosts live in a TOML file the shop edits — ``SHOPD_INVENTORY``, default ``inventory.toml``
here (start from ``inventory.example.toml``). ``shopctl lab up`` writes one of the same shape for
the lab. Groups: routers, firewalls, app_servers, db_servers, db_replicas.
"""

from infra.inventory_file import load, pyinfra_groups

_groups = pyinfra_groups(load())

routers = _groups["routers"]
firewalls = _groups["firewalls"]
app_servers = _groups["app_servers"]
db_servers = _groups["db_servers"]
db_replicas = _groups["db_replicas"]
