"""Run the shop under uvicorn so that stopping it never drops a request it has accepted.

nginx may resend a GET that failed on one app server to the next, but not a POST it has already
sent, so each request uvicorn takes in and drops while it stops is a 502 for a customer adding
to the cart. Stock uvicorn dropped them in two places, fixed here:

- Its worker supervisor kept its copy of the listening socket open until every worker had
  finished. In that time the kernel still completed connections that no worker would accept,
  and reset them when the supervisor exited. Here the supervisor lets go of the socket the
  moment it is told to stop, so once the workers close theirs, new connections are refused,
  which nginx answers by trying the next app server.
- A worker told to stop closed at once every connection without a request in progress,
  including one just accepted whose request was still on its way, and a kept-alive one nginx
  had just picked for its next request. Here those get a moment to send one last request,
  which is answered with ``Connection: close``.

Both still hold in uvicorn 0.55.0 (2026-12-07): ``HttpToolsProtocol.shutdown`` closes an idle
connection at once, ``Multiprocess`` closes no socket before it exits, and with them the
kept-alive test of ``tests/test_graceful_stop.py`` fails (the connection closes without a
response). Written against uvicorn 0.54.0 and run on 0.55.0, whose internals it uses
(``HttpToolsProtocol``'s ``cycle``, ``shutdown`` and ``on_headers_complete``; ``Multiprocess``'s
``sockets``, ``signal_queue`` and ``keep_subprocess_alive``), hence ``uvicorn<0.56`` in
``pyproject.toml``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# How long a stopping worker keeps a connection with no request in progress open for one more.
LAST_REQUEST_SECONDS = 1.0


class LastRequestProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, letting an idle connection bring one last request at stop."""

    stopping = False

    def shutdown(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            super().shutdown()  # a request in progress: its response closes the connection
            return
        self.stopping = True
        self.loop.call_later(LAST_REQUEST_SECONDS, self._close_if_idle)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.stopping and self.cycle is not None:
            self.cycle.keep_alive = False

    def _close_if_idle(self) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.close()


class ReleasingMultiprocess(Multiprocess):
    """uvicorn's supervisor, closing its listening sockets as soon as a stop signal arrives."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.released = False
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_stop)

    def _on_stop(self, sig: int, frame: FrameType | None) -> None:
        # Only closing and a list append: the main thread may be anywhere, even inside a lock.
        self.release()
        self.signal_queue.append(sig)

    def release(self) -> None:
        self.released = True
        for sock in self.sockets:
            sock.close()

    def keep_subprocess_alive(self) -> None:
        # A worker started after the release would have no socket to serve.
        if not self.released:
            super().keep_subprocess_alive()


@contextlib.contextmanager
def shared_metrics() -> Iterator[None]:
    """Workers that count into one set of metrics files, so ``/metrics`` tells the whole
    server's requests whichever worker answers the scrape (prometheus_client's multiprocess
    mode, which Litestar's ``PrometheusController`` reads when the variable is set). Before,
    each scrape showed the one worker that happened to take it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield  # the operator's own directory: theirs to keep and clean
        return
    directory = tempfile.mkdtemp(prefix="shopd-metrics-")
    # Read by each worker as it starts (spawned, so it imports prometheus_client afresh).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(directory, ignore_errors=True)


def serve(config: uvicorn.Config) -> None:
    """What uvicorn.run does for one worker or many, with the releasing supervisor."""
    server = uvicorn.Server(config=config)
    if config.workers > 1:
        with shared_metrics():
            ReleasingMultiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        # One process: asyncio closes the listening socket itself when the server stops.
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
