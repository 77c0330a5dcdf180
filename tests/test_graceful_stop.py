"""Stopping the shop: a connection made while it stops is answered or refused, never taken in and
dropped. A reverse proxy can resend a refused POST to another app server, but not one it has
already sent."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections import Counter
from pathlib import Path

from tests.server import free_port, read_answer, running, sqlite_shop_env

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n"
KEEP_ALIVE = b"GET /healthz HTTP/1.1\r\nHost: shop\r\n\r\n"


def probe(port: int) -> str:
    """One new connection and one request: 'answered', 'refused' or 'dropped'."""
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        # Reset as the listener closed, before connect() returned: not one byte of the request
        # left, so a proxy may still send it elsewhere.
        return "reset before sending"
    try:
        conn.sendall(REQUEST)
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
    except OSError:  # reset, or no answer in 5 s
        return "dropped"
    finally:
        conn.close()
    return "answered" if reply.startswith(b"HTTP/1.1 200") else "dropped"


def prober(port: int, outcomes: Counter[str], stop: threading.Event) -> None:
    try:
        while not stop.is_set() and outcomes["refused"] < 20:
            outcomes[probe(port)] += 1
            time.sleep(0.002)
    except Exception as exc:  # shown in the assertion, not lost with the thread
        outcomes[f"prober failed: {exc!r}"] += 1


def test_a_stopping_shop_refuses_new_connections_instead_of_dropping_them(
    tmp_path: Path,
) -> None:
    env = sqlite_shop_env(tmp_path)
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
    outcomes: Counter[str] = Counter()
    with running(*args, env=env, cwd=tmp_path, port=port, health="/healthz") as (_, server, _):
        stop = threading.Event()
        worker = threading.Thread(target=prober, args=(port, outcomes, stop))
        worker.start()
        try:
            time.sleep(1)
            assert outcomes["answered"] > 0
            # As systemd stops the unit (KillMode=mixed): the supervisor is told, and it tells
            # its workers.
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            worker.join(timeout=30)
        finally:
            stop.set()
            worker.join()
    assert outcomes["refused"] > 0, outcomes
    assert outcomes["dropped"] == 0, outcomes


def test_a_kept_alive_connection_gets_its_last_request_answered_while_the_shop_stops(
    tmp_path: Path,
) -> None:
    """nginx may have just picked an idle upstream connection when the app server stops: the
    request it sends on it is answered, and the answer says the connection closes."""
    env = sqlite_shop_env(tmp_path)
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
    with running(*args, env=env, cwd=tmp_path, port=port, health="/healthz") as (_, server, _):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(KEEP_ALIVE)
            status, headers, rest = read_answer(conn)
            assert status == 200 and headers.get("connection") != "close"
            server.send_signal(signal.SIGTERM)
            # The workers are stopping once they refuse new connections (the supervisor tells
            # them within half a second, later on a busy machine).
            deadline = time.monotonic() + 30
            while probe(port) != "refused":
                assert time.monotonic() < deadline, "the shop never stopped taking connections"
                time.sleep(0.01)
            conn.sendall(KEEP_ALIVE)
            status, headers, rest = read_answer(conn, rest)
            assert status == 200
            assert headers.get("connection") == "close"
            assert rest == b"" and conn.recv(1) == b""  # and the worker closed it after answering
        server.wait(timeout=30)
