"""Forgotten passwords: a mailed link that works once and expires; asking reveals nothing."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import httpx
from sqlalchemy import select, update

from shopd.customers.models import PasswordReset
from shopd.db import Database, utcnow
from shopd.notifications.models import OutboxMessage
from tests.server import free_port, running, shopctl
from tests.test_customers import PASSWORD, register
from tests.test_storefront import csrf

NEW = "a brand new passphrase"


async def mailed_tokens(db: Database, to: str) -> list[str]:
    async with db.read() as s:
        bodies = await s.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.to_addr == to, OutboxMessage.kind == "password_reset")
            .order_by(OutboxMessage.id)
        )
        return [re.search(r"/account/reset\?t=([\w-]+)", b).group(1) for b in bodies]  # type: ignore[union-attr]


async def log_in(client: httpx.AsyncClient, password: str) -> int:
    r = await client.post(
        "/api/v1/session", json={"email": "zhang@example.com", "password": password}
    )
    return r.status_code


async def test_the_mailed_link_sets_a_new_password_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    await register(client)
    old_session = {"Authorization": f"Bearer {client.cookies.get('shopd_session')}"}
    answers = set()
    for email in ("Zhang@Example.com", "nobody@example.com", "not-an-address"):
        r = await client.post("/api/v1/password-reset", json={"email": email})
        answers.add((r.status_code, r.content))
    assert answers == {(202, r.content)}  # the same answer for all three
    [token] = await mailed_tokens(db, "zhang@example.com")
    assert await mailed_tokens(db, "nobody@example.com") == []
    async with db.read() as s:
        stored = list(await s.scalars(select(PasswordReset.token_hash)))
    assert stored and token not in stored  # only a digest is kept

    r = await client.post("/api/v1/password-reset/confirm", json={"token": token, "password": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "weak_password"
    r = await client.post("/api/v1/password-reset/confirm", json={"token": token, "password": NEW})
    assert r.status_code == 204, r.text
    assert await log_in(client, PASSWORD) == 401
    assert await log_in(client, NEW) == 200
    # Every earlier session ended with the old password.
    assert (await client.get("/api/v1/me", headers=old_session)).status_code == 401
    r = await client.post(
        "/api/v1/password-reset/confirm", json={"token": token, "password": PASSWORD}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_reset_token"
    assert await log_in(client, NEW) == 200


async def test_a_newer_link_replaces_the_older_and_links_expire(
    client: httpx.AsyncClient, db: Database
) -> None:
    await register(client)
    for _ in range(2):
        r = await client.post("/api/v1/password-reset", json={"email": "zhang@example.com"})
        assert r.status_code == 202
    first, second = await mailed_tokens(db, "zhang@example.com")
    for token in (first, "made-up-token"):
        r = await client.post(
            "/api/v1/password-reset/confirm", json={"token": token, "password": NEW}
        )
        assert r.json()["error"]["code"] == "invalid_reset_token"
    async with db.write() as s:
        await s.execute(update(PasswordReset).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        await s.commit()
    r = await client.post("/api/v1/password-reset/confirm", json={"token": second, "password": NEW})
    assert r.json()["error"]["code"] == "invalid_reset_token"
    assert await log_in(client, PASSWORD) == 200  # nothing changed


async def test_asking_again_and_again_is_refused_for_a_while(
    client: httpx.AsyncClient, db: Database
) -> None:
    await register(client)
    for _ in range(5):  # SHOPD_LOGIN_MAX_FAILURES
        r = await client.post("/api/v1/password-reset", json={"email": "zhang@example.com"})
        assert r.status_code == 202
    r = await client.post("/api/v1/password-reset", json={"email": "zhang@example.com"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"
    assert len(await mailed_tokens(db, "zhang@example.com")) == 5


async def test_the_storefront_forms(client: httpx.AsyncClient, db: Database) -> None:
    await register(client)
    client.cookies.clear()
    assert "/account/forgot" in (await client.get("/account/login")).text
    token = await csrf(client, "/account/forgot")
    r = await client.post(
        "/account/forgot", data={"email": "zhang@example.com", "_csrf_token": token}
    )
    assert r.status_code == 200 and "is on its way" in r.text
    [link] = await mailed_tokens(db, "zhang@example.com")
    form = await client.get("/account/reset", params={"t": link})
    assert f'value="{link}"' in form.text
    r = await client.post("/account/reset", data={"t": link, "password": NEW, "_csrf_token": token})
    assert r.status_code == 200 and "Your new password is set" in r.text
    r = await client.post("/account/reset", data={"t": link, "password": NEW, "_csrf_token": token})
    assert r.status_code == 400 and "expired or was used" in r.text
    assert await log_in(client, NEW) == 200


def test_tokens_and_searches_stay_out_of_the_access_log(tmp_path: Path) -> None:
    env = {"SHOPD_DATA_DIR": str(tmp_path), "SHOPD_BACKGROUND_JOBS": "false"}
    assert shopctl("db", "upgrade", env=env).returncode == 0
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--access-log")
    with running(*args, env=env, cwd=tmp_path, port=port) as (base, _, log):
        httpx.get(f"{base}/account/reset", params={"t": "SECRET-RESET-TOKEN"})
        httpx.get(f"{base}/search", params={"q": "private-words"})
        time.sleep(0.5)
    logged = log.read_text()
    assert "GET /account/reset HTTP/1.1" in logged and "GET /search HTTP/1.1" in logged
    assert "SECRET-RESET-TOKEN" not in logged and "private-words" not in logged
