"""The deploy's secrets (database passwords, the shop's secret key) from a TOML file outside
the repository. Deploys read it on the control machine; values travel only inside files of
mode 0600 on the hosts, never on a command line that ``ps`` would show."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

from infra.inventory_file import InventoryError, read_toml

KEYS = ("db_app_password", "db_backup_password", "secret_key")


def load_secrets(path: str | Path) -> dict[str, str]:
    path = Path(path).expanduser()
    values = read_toml(path, f"make one with random values: shopctl make-secrets {path}")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InventoryError(f"{path} is readable by others: chmod 600 {path}")
    missing = [key for key in KEYS if not values.get(key)]
    if missing:
        raise InventoryError(f"{path}: missing {', '.join(missing)}")
    bad = [key for key in KEYS if not str(values[key]).isalnum()]
    if bad:  # they end up inside SQL and env files: letters and digits keep quoting out of it
        raise InventoryError(f"{path}: {', '.join(bad)} must be letters and digits only")
    return {key: str(values[key]) for key in KEYS}


def make_secrets(path: str | Path) -> Path:
    """Write a new secrets file with random values (mode 0600); never overwrites one."""
    path = Path(path).expanduser()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'{key} = "{secrets.token_hex(24)}"\n' for key in KEYS)
    path.touch(mode=0o600)
    path.write_text("# shopd deploy secrets: keep off the hosts and out of git.\n" + body)
    return path
