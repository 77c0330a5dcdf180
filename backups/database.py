"""A database as an outside operator reaches it: SQLite files directly, MariaDB through its CLI tools."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from shutil import which
from typing import Literal

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

IDENTIFIER = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class BackupError(Exception):
    """A backup operation failed; the message says what and where, never a stack trace."""


def check_identifier(name: str, what: str = "database name") -> str:
    if not IDENTIFIER.match(name):
        raise BackupError(f"{what} {name!r} is not allowed: use letters, digits and _ (at most 64)")
    return name


@dataclass(frozen=True)
class Database:
    kind: Literal["sqlite", "mysql"]
    # The database name (MariaDB) or the file path (SQLite).
    name: str
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> Database:
        try:
            u = make_url(url)
        except ArgumentError:
            raise BackupError(f"not a database URL: {url!r}") from None
        backend = u.get_backend_name()
        if backend == "sqlite":
            if not u.database or u.database == ":memory:":
                raise BackupError("a SQLite URL needs a file: sqlite:///path/to/shop.db")
            return cls("sqlite", u.database)
        if backend in ("mysql", "mariadb"):
            return cls(
                "mysql",
                check_identifier(u.database) if u.database else "",
                host=u.host or "127.0.0.1",
                port=u.port or 3306,
                user=u.username or "root",
                password=u.password or "",
            )
        raise BackupError(f"unsupported database {backend!r}: use sqlite:/// or mysql://")

    def named(self, name: str) -> Database:
        if self.kind == "sqlite":
            return replace(self, name=name)
        return replace(self, name=check_identifier(name))

    @property
    def label(self) -> str:
        """Where it is, without the password."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.name}"
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.name}"

    # -- MariaDB client tools --------------------------------------------------------------

    @contextlib.contextmanager
    def client_options(self) -> Iterator[list[str]]:
        """Options for mariadb/mariadb-dump/mariadb-binlog; the password never shows in ps."""
        with tempfile.NamedTemporaryFile("w", prefix="shopd-backup-", suffix=".cnf") as cnf:
            os.fchmod(cnf.fileno(), 0o600)
            cnf.write(
                "[client]\n"
                f"host={self.host}\nport={self.port}\nuser={self.user}\n"
                f'password="{_quoted(self.password)}"\n'
            )
            cnf.flush()
            yield [f"--defaults-file={cnf.name}"]

    def sql(self, statement: str, database: str | None = None) -> list[list[str]]:
        """Rows of a statement run by the mariadb client (tab-separated, no headers)."""
        with self.client_options() as opts:
            proc = subprocess.run(
                ["mariadb", *opts, "--batch", "--skip-column-names", "--raw", "-e", statement]
                + ([database] if database else []),
                capture_output=True,
                text=True,
            )
        if proc.returncode != 0:
            raise BackupError(f"{self.label}: {proc.stderr.strip() or 'mariadb failed'}")
        return [line.split("\t") for line in proc.stdout.splitlines()]

    def tables(self) -> list[str]:
        if self.kind == "sqlite":
            with closing_sqlite(self.name) as con:
                rows = con.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                ).fetchall()
            return sorted(r[0] for r in rows)
        rows = self.sql(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = '{self.name}' AND table_type = 'BASE TABLE'"
        )
        return sorted(r[0] for r in rows)

    def exists(self) -> bool:
        if self.kind == "sqlite":
            return Path(self.name).exists()
        return bool(self.sql(f"SHOW DATABASES LIKE '{self.name}'"))

    def query(self, statement: str) -> list[tuple[str | int | None, ...]]:
        """A read-only query on this database, the same SQL on both back ends."""
        if self.kind == "sqlite":
            with closing_sqlite(self.name) as con:
                return [tuple(r) for r in con.execute(statement).fetchall()]
        return [
            tuple(None if v == "NULL" else v for v in row) for row in self.sql(statement, self.name)
        ]

    def drop(self) -> None:
        if self.kind == "sqlite":
            Path(self.name).unlink(missing_ok=True)
        else:
            self.sql(f"DROP DATABASE IF EXISTS `{self.name}`")

    def create(self) -> None:
        if self.kind == "mysql":
            self.sql(
                f"CREATE DATABASE IF NOT EXISTS `{self.name}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )


@contextlib.contextmanager
def closing_sqlite(path: str | Path, *, readonly: bool = True) -> Iterator[sqlite3.Connection]:
    try:
        if readonly:
            con = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        else:
            con = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: {exc}") from None
    try:
        yield con
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: {exc}") from None
    finally:
        con.close()


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def tool(*argv: str) -> None:
    """Fail with a clear message when a MariaDB tool this needs is not installed."""
    for name in argv:
        if which(name) is None:
            raise BackupError(f"{name} is not installed (Debian: apt-get install mariadb-client)")
