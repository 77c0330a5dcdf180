"""The deploy's secrets (database passwords, the shop's secret key) from a TOML file outside
the repository. Deploys read it on the control machine; values travel only inside files of
mode 0600 on the hosts, never on a command line that ``ps`` would show."""

from __future__ import annotations

import secrets
import stat
import tomllib
from pathlib import Path

from infra.inventory_file import InventoryError, read_toml

KEYS = ("db_app_password", "db_backup_password", "db_repl_password", "secret_key")


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
    """Write a secrets file with random values (mode 0600). An existing file keeps every value
    it has and only gains keys a newer shopd needs."""
    path = Path(path).expanduser()
    have = tomllib.loads(path.read_text()) if path.exists() else {}
    missing = [key for key in KEYS if key not in have]
    if path.exists() and not missing:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    body = path.read_text() or "# shopd deploy secrets: keep off the hosts and out of git.\n"
    body += "".join(f'{key} = "{secrets.token_hex(24)}"\n' for key in missing)
    path.write_text(body)
    return path
