"""Run ``shopctl`` as a user would: as a separate process, reached over real TCP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SHOPCTL = str(Path(sys.executable).parent / "shopctl")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shopctl(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [SHOPCTL, *args],
        env=full_env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def read_answer(
    conn: socket.socket, buffered: bytes = b"", *, head: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer off a kept-alive connection: status, headers, and any bytes after it.
    An answer to HEAD has no body, whatever its Content-Length says."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        assert chunk, f"the connection closed without an answer after {data!r}"
        data += chunk
    top, body = data.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {name.lower(): value for name, value in headers.items()}
    length = 0 if head else int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(4096)
        assert chunk, "the connection closed in the middle of an answer"
        body += chunk
    return int(lines[0].split()[1]), headers, body[length:]


def sqlite_shop_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a shop on a fresh, migrated SQLite file in ``tmp_path``."""
    env = {
        "SHOPD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}",
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_BACKGROUND_JOBS": "false",
    }
    assert shopctl("db", "upgrade", env=env).returncode == 0
    return env


def wait_healthy(
    base: str,
    proc: subprocess.Popen[str],
    timeout: float = 60,
    path: str = "/readyz",
    up: tuple[int, ...] = (200,),
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(f"{base}{path}", timeout=1).status_code in up:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base} did not become ready")


@contextmanager
def running(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    port: int,
    health: str = "/readyz",
    up: tuple[int, ...] = (200,),
) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """Start ``shopctl ARGS`` and yield (base URL, process, log path); stopped by its PID."""
    log = (cwd or Path(".")) / f"server-{port}.log"
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [SHOPCTL, *args], env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, path=health, up=up)
        yield base, proc, log
    except BaseException:
        # A failing test shows what the server said: its traces never reach the client.
        print(f"--- last lines of {log} ---", *log.read_text().splitlines()[-80:], sep="\n")
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
