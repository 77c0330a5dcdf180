"""Checks run before serving, each failing with a message an operator can act on."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from shopd import migrations
from shopd.db import make_engine, normalise_url

SUPPORTED_BACKENDS = ("sqlite", "mysql", "mariadb")


class PreflightError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"


def check_database_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise PreflightError(
            f"SHOPD_DATABASE_URL is not a database URL: {exc}",
            "use sqlite:///path/shopd.sqlite3 or mysql://user:password@host:3306/shopd",
        ) from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise PreflightError(
            f"unsupported database {parsed.get_backend_name()!r} in {redact(url)}",
            "shopd runs on SQLite (embedded) or MariaDB/MySQL",
        )
    try:
        return normalise_url(url)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise PreflightError(f"cannot use {redact(url)}: {exc}") from None


async def check_database_reachable(url: str, timeout: float = 10.0) -> None:
    engine = make_engine(url)
    try:
        async with asyncio.timeout(timeout), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except TimeoutError:
        raise PreflightError(
            f"the database at {redact(url)} did not answer in {timeout:.0f} s"
        ) from None
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise PreflightError(
            f"cannot connect to the database at {redact(url)}: {reason}",
            "check SHOPD_DATABASE_URL, that the server runs and that the database exists",
        ) from None
    finally:
        await engine.dispose()


async def check_migrated(url: str) -> None:
    current = await migrations.current_revision(url)
    head = migrations.head_revision()
    if current != head:
        state = "has no shopd schema yet" if current is None else f"is at revision {current}"
        raise PreflightError(
            f"the database {state}; this shopd needs revision {head}",
            "run: shopctl db upgrade",
        )


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PreflightError(
                    f"port {port} on {host} is in use by another program",
                    f"stop that program or choose another port, e.g. --port {port + 1}",
                ) from None
            if exc.errno == errno.EACCES:
                raise PreflightError(
                    f"no permission to listen on port {port}",
                    "ports below 1024 need root; use --port 8000 behind nginx",
                ) from None
            raise PreflightError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for helpers the demo starts next to the shop)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_listening(host: str, port: int, alive: Callable[[], bool], seconds: float) -> None:
    """Block until something accepts connections on host:port.

    A helper process started next to the shop (the demo's payment gateway) must answer before
    the shop is announced, or the first card payment fails while it is still importing.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive():
            raise PreflightError(f"the helper meant to listen on {host}:{port} stopped")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise PreflightError(f"nothing listens on {host}:{port} after {seconds:.0f} s")
