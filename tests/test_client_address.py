"""The client's real address reaches the shop through its proxies, and only through them.

Behind nginx every request arrives from a proxy's address. When only loopback was believed,
nginx on another app server (over the LAN) made every customer one address: twenty failed
log-ins anywhere locked everyone's log-in. Here a real ``shopctl serve`` believes the proxy at
127.0.0.2 (standing for nginx on the LAN) and nobody else, and per-address log-in limits show
which address the shop saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopd.staff import throttle
from tests.server import free_port, running, sqlite_shop_env

PROXY, STRANGER = "127.0.0.2", "127.0.0.3"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("client-address")
    env = {
        **sqlite_shop_env(tmp),
        "SHOPD_TRUSTED_PROXIES": f"{PROXY}",
        # One failure locks a name, four (the address factor) an address.
        "SHOPD_LOGIN_MAX_FAILURES": "1",
    }
    port = free_port()
    with running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, cwd=tmp, port=port):
        yield f"http://127.0.0.1:{port}"


def fail_log_ins(base: str, source: str, forwarded: str | None, names: range) -> list[int]:
    """A failed customer log-in per name, sent from ``source``; the statuses answered."""
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, base_url=base, headers=headers) as client:
        return [
            client.post(
                "/api/v1/session", json={"email": f"n{i}@example.com", "password": "wrong-pass"}
            ).status_code
            for i in names
        ]


def test_customers_behind_the_proxy_are_limited_each_by_their_own_address(shop: str) -> None:
    # One client behind the proxy uses up its address's tries ...
    assert fail_log_ins(shop, PROXY, "203.0.113.7", range(0, 4)) == [401] * 4
    assert fail_log_ins(shop, PROXY, "203.0.113.7", range(4, 5)) == [429]
    # ... and another client behind the same proxy is not locked with it.
    assert fail_log_ins(shop, PROXY, "198.51.100.9", range(5, 6)) == [401]


def test_a_client_cannot_choose_its_address(shop: str) -> None:
    # Not a trusted proxy: its header is ignored and its own address counts, so four failures
    # under four made-up addresses lock the sender.
    for i in range(4):
        assert fail_log_ins(shop, STRANGER, f"192.0.2.{i}", range(10 + i, 11 + i)) == [401]
    assert fail_log_ins(shop, STRANGER, "192.0.2.99", range(20, 21)) == [429]
    # The made-up address itself was never counted.
    assert fail_log_ins(shop, PROXY, "192.0.2.0", range(21, 22)) == [401]


def test_one_clerks_failures_never_lock_out_a_colleague() -> None:
    # Staff in the TUI over SSH all come from the app server itself.
    assert throttle.keys("staff", "li", "127.0.0.1") == ["staff:name:li"]
    assert throttle.keys("staff", "li", "::1") == ["staff:name:li"]
    assert throttle.keys("staff", "li", "203.0.113.7") == [
        "staff:name:li",
        "staff:ip:203.0.113.7",
    ]
    # Customers keep their per-address limit wherever they come from.
    assert throttle.keys("login", "a@example.com", "127.0.0.1")[1] == "login:ip:127.0.0.1"
