"""Gzip for responses of ``minimum_size`` bytes and more, to clients that accept it.

It takes the place of Litestar's compression middleware, which built a gzip writer, and with it
zlib's 256 KiB of compressor state, for every request that accepted gzip: also for responses too
small to compress, for 304s and for images. That was 40-100 us of a cached page's 300. Here the
choice is made when the first part of the body is known, and a whole response is compressed in
one call with a window no larger than the response: the same bytes out, less state to set up.

Only what compresses is compressed (text, JSON, JavaScript, XML, SVG), and such responses say
``Vary: Accept-Encoding`` whether or not this client took gzip, so that a cache in front keeps
the two apart. Streamed responses (files) are compressed part by part as they go. A gzipped
response's strong ETag is made weak: it no longer names these bytes.

Measured against Litestar 2.25.0's ``CompressionMiddleware`` (gzip, the same level and minimum
size), in process (``python -m benchmarks.response_cost``, five alternating runs, 2026-12-07):
it cost 13-25 us more per ``/healthz`` response (47-60 us with this one) and 19-58 us more per cached
product API response (112-156 us). Only Litestar's public ASGI types are used here, so Litestar's
version is not bounded for it; measure again when its compression middleware changes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from litestar.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024
# zlib's memory level: 6 set up a 12 KB page's compressor in two thirds of the default 8's
# time, for the same bytes out.
MEM_LEVEL = 6
_TYPES = frozenset(
    {
        b"application/json",
        b"application/javascript",
        b"application/xml",
        b"image/svg+xml",
    }
)


def accepts_gzip(scope: Scope) -> bool:
    """Whether the request's Accept-Encoding takes gzip (``gzip;q=0`` refuses it)."""
    wildcard = False
    for name, value in scope["headers"]:
        if name.lower() != b"accept-encoding":
            continue
        for part in bytes(value).lower().split(b","):
            coding, _, params = part.partition(b";")
            coding = coding.strip()
            if coding not in (b"gzip", b"*"):
                continue
            q = params.strip()
            wanted = True
            if q.startswith(b"q="):
                try:
                    wanted = float(q[2:]) > 0
                except ValueError:
                    wanted = False
            if coding == b"gzip":
                return wanted
            wildcard = wanted
    return wildcard


def compressible(content_type: bytes) -> bool:
    media = content_type.partition(b";")[0].strip().lower()
    return media.startswith(b"text/") or media in _TYPES or media.endswith((b"+json", b"+xml"))


def _weak(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """A strong ETag names the exact bytes of the uncompressed response, and the gzipped response
    is other bytes: it goes out weak (as nginx does), still matching the same ETag sent back
    in If-None-Match, which compares weakly."""
    if bytes(name).lower() == b"etag" and not bytes(value).startswith(b"W/"):
        return name, b"W/" + bytes(value)
    return name, value


def _window_bits(size: int) -> int:
    """The smallest zlib window (9-15 bits) that holds ``size`` bytes: it finds the same
    matches as the largest for a response that fits, with less memory to set up."""
    return min(max(size.bit_length(), 9), 15)


def gzip_answers(level: int, minimum_size: int = MINIMUM_SIZE) -> Callable[[ASGIApp], ASGIApp]:
    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start: Message | None = None
            decided = False
            stream: zlib._Compress | None = None

            async def send_gzipped(message: Message) -> None:
                nonlocal start, decided, stream
                if decided:
                    if stream is not None and message["type"] == "http.response.body":
                        more = message.get("more_body", False)
                        data = stream.compress(message.get("body", b""))
                        data += stream.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
                        message = {**message, "body": data}
                    await send(message)
                    return
                if message["type"] == "http.response.start":
                    if message["status"] in (204, 304) or message["status"] < 200:
                        decided = True
                        if message["status"] == 304 and accepts_gzip(scope):
                            # The ETag as the gzipped 200 it stands for gave it.
                            weak = [_weak(n, v) for n, v in message.get("headers", ())]
                            message = {**message, "headers": weak}
                        await send(message)
                    else:
                        start = message
                    return
                if start is None or message["type"] != "http.response.body":
                    await send(message)
                    return
                decided = True
                body: bytes = message.get("body", b"")
                more = message.get("more_body", False)
                headers = list(start.get("headers", ()))
                content_type, encoded, vary = b"", False, None
                for i, (name, value) in enumerate(headers):
                    name = bytes(name).lower()
                    if name == b"content-type":
                        content_type = bytes(value)
                    elif name == b"content-encoding":
                        encoded = True
                    elif name == b"vary":
                        vary = i
                small = not more and len(body) < minimum_size
                if encoded or small or not compressible(content_type):
                    await send(start)
                    await send(message)
                    return
                if vary is None:
                    headers.append((b"vary", b"Accept-Encoding"))
                elif b"accept-encoding" not in bytes(headers[vary][1]).lower():
                    headers[vary] = (b"vary", bytes(headers[vary][1]) + b", Accept-Encoding")
                if not accepts_gzip(scope):
                    await send({**start, "headers": headers})
                    await send(message)
                    return
                headers = [_weak(n, v) for n, v in headers if bytes(n).lower() != b"content-length"]
                headers.append((b"content-encoding", b"gzip"))
                bits = 15 if more else _window_bits(len(body))
                compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + bits, MEM_LEVEL)
                data = compressor.compress(body)
                if more:
                    stream = compressor
                    data += compressor.flush(zlib.Z_SYNC_FLUSH)
                else:
                    data += compressor.flush()
                    headers.append((b"content-length", str(len(data)).encode()))
                await send({**start, "headers": headers})
                await send({**message, "body": data})

            await app(scope, receive, send_gzipped)

        return handle

    return middleware
