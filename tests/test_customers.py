"""Accounts: register, log in/out, profile, addresses, password change, order history."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.server.app import create_app
from tests.conftest import ADDRESS, SmallCatalog, checkout_body
from tests.test_storefront import csrf

PASSWORD = "correct horse battery"


async def register(client: httpx.AsyncClient, email: str = "zhang@example.com") -> dict:
    r = await client.post(
        "/api/v1/customers",
        json={"email": email, "password": PASSWORD, "name": "张三", "phone": "13800000000"},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_register_logs_in_and_stores_an_argon2_hash(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = await register(client, "Zhang@Example.com")
    assert body["customer"]["email"] == "zhang@example.com" and body["token"]
    me = await client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["name"] == "张三"
    async with db.read() as s:
        c = await s.scalar(select(Customer))
        assert c is not None and c.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_a_hash_made_with_older_parameters_is_redone_at_log_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    await register(client)
    client.cookies.clear()
    # As argon2-cffi's defaults hashed passwords before: 64 MiB, 3 passes, 4 lanes.
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    async with db.write() as s:
        await s.execute(update(Customer).values(password_hash=old))
        await s.commit()
    creds = {"email": "zhang@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/session", json=creds)).status_code == 200
    async with db.read() as s:
        renewed = await s.scalar(select(Customer.password_hash))
    assert renewed != old and renewed is not None and "m=19456,t=2,p=1" in renewed
    client.cookies.clear()
    assert (await client.post("/api/v1/session", json=creds)).status_code == 200
    wrong = {"email": "zhang@example.com", "password": "not the password"}
    assert (await client.post("/api/v1/session", json=wrong)).status_code == 401


async def test_login_logout_and_bearer_tokens(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    assert (await client.get("/api/v1/me")).status_code == 401
    r = await client.post(
        "/api/v1/session", json={"email": "zhang@example.com", "password": PASSWORD}
    )
    assert r.status_code == 200
    token = r.json()["token"]
    assert r.cookies.get("shopd_session") == token
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    assert (await client.delete("/api/v1/session", headers=auth)).status_code == 204
    # Log-out ends the session on the server, not just in the browser.
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client)
    wrong_pw = await client.post(
        "/api/v1/session", json={"email": "zhang@example.com", "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/session", json={"email": "who@example.com", "password": "nope-nope"}
    )
    assert wrong_pw.status_code == unknown.status_code == 401
    assert wrong_pw.json() == unknown.json()


async def test_repeated_failed_log_ins_lock_the_email_for_real_and_unknown_accounts(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    for email in ("zhang@example.com", "nobody@example.com"):
        for _ in range(5):  # SHOPD_LOGIN_MAX_FAILURES
            r = await client.post("/api/v1/session", json={"email": email, "password": "guess-1"})
            assert r.status_code == 401
        r = await client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        # Locked whether the account exists or not: the lock tells nobody which e-mails are ours.
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "too_many_attempts"
        assert r.json()["error"]["details"]["retry_after_seconds"] > 0
    # Another account from the same address still gets in (an address has 4× the tries).
    await register(client, "li@example.com")
    r = await client.post("/api/v1/session", json={"email": "li@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text


async def test_asking_again_and_again_whether_addresses_have_accounts_is_refused(
    db: Database, settings: Settings
) -> None:
    """Registration says when an address is taken; that answer counts like a failed log-in,
    per address asked for and per client address, so it cannot be used to check a list."""
    app = create_app(settings.model_copy(update={"login_max_failures": 2}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
    ) as c:

        async def sign_up(email: str) -> httpx.Response:
            c.cookies.clear()
            return await c.post(
                "/api/v1/customers", json={"email": email, "password": PASSWORD, "name": "x"}
            )

        taken = ("zhang@example.com", "li@example.com", "wang@example.com", "zhao@example.com")
        for email in taken:
            assert (await sign_up(email)).status_code == 201
        # Twice "taken" for one address: then that address is not answered for a while.
        for _ in range(2):
            r = await sign_up(taken[0])
            assert (r.status_code, r.json()["error"]["code"]) == (409, "email_taken")
        r = await sign_up(taken[0])
        assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts")
        # Other addresses still get their answer, until this client has had it 4 × 2 times.
        for email in (*taken[1:], *taken[1:]):
            r = await sign_up(email)
            assert (r.status_code, r.json()["error"]["code"]) == (409, "email_taken"), email
        r = await sign_up("new-person@example.com")
        assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts")
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == len(taken)


async def test_the_storefront_log_in_form_is_throttled_too(client: httpx.AsyncClient) -> None:
    await register(client)
    token = await csrf(client, "/account/login")
    form = {"email": "zhang@example.com", "password": "guess-1", "_csrf_token": token}
    for _ in range(5):
        assert (await client.post("/account/login", data=form)).status_code == 400
    r = await client.post("/account/login", data={**form, "password": PASSWORD})
    assert r.status_code == 429 and "try again later" in r.text


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "zhang@example.com", "password": PASSWORD}, "email_taken"),
        ({"email": "bad", "password": PASSWORD}, "invalid_email"),
        ({"email": "a@b.cn", "password": "short"}, "weak_password"),
        ({"email": "a@b.cn", "password": PASSWORD, "phone": "phone!"}, "invalid_phone"),
        ({"email": "a@b.cn", "password": PASSWORD, "name": "x" * 121}, "validation_error"),
        ({"email": "a@b.cn"}, "validation_error"),
        ({"email": "a@b.cn", "password": PASSWORD, "is_admin": True}, "validation_error"),
    ],
)
async def test_bad_registrations(client: httpx.AsyncClient, body: dict, code: str) -> None:
    await register(client)
    r = await client.post("/api/v1/customers", json=body)
    assert r.json()["error"]["code"] == code
    assert r.status_code in (400, 409)


async def test_profile_update(client: httpx.AsyncClient) -> None:
    await register(client)
    r = await client.patch("/api/v1/me", json={"name": "张小三", "phone": "+86 139 0000 0000"})
    assert r.status_code == 200 and r.json()["name"] == "张小三"
    assert (await client.patch("/api/v1/me", json={"phone": "??"})).status_code == 400
    assert (await client.get("/api/v1/me")).json()["phone"] == "+86 139 0000 0000"


async def test_change_password_ends_other_sessions(client: httpx.AsyncClient) -> None:
    first = (await register(client))["token"]
    second = (
        await client.post(
            "/api/v1/session", json={"email": "zhang@example.com", "password": PASSWORD}
        )
    ).json()["token"]
    r = await client.post(
        "/api/v1/me/password",
        json={"current_password": "wrong-one", "new_password": "a new password"},
        headers={"Authorization": f"Bearer {second}"},
    )
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a new password"},
        headers={"Authorization": f"Bearer {second}"},
    )
    assert r.status_code == 204
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"})
    ).status_code == 401
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"})
    ).status_code == 200
    client.cookies.clear()
    ok = await client.post(
        "/api/v1/session", json={"email": "zhang@example.com", "password": "a new password"}
    )
    assert ok.status_code == 200


async def test_addresses_and_default(client: httpx.AsyncClient) -> None:
    await register(client)
    a = (await client.post("/api/v1/me/addresses", json=ADDRESS)).json()
    assert a["is_default"] is True  # the first address is the default
    b = (
        await client.post(
            "/api/v1/me/addresses", json={**ADDRESS, "city": "苏州市", "is_default": True}
        )
    ).json()
    listed = (await client.get("/api/v1/me/addresses")).json()
    assert [x["id"] for x in listed] == [b["id"], a["id"]]
    assert [x["is_default"] for x in listed] == [True, False]
    r = await client.put(
        f"/api/v1/me/addresses/{a['id']}", json={**ADDRESS, "line1": "新地址 1 号"}
    )
    assert r.status_code == 200 and r.json()["line1"] == "新地址 1 号"
    assert (await client.delete(f"/api/v1/me/addresses/{a['id']}")).status_code == 204
    assert len((await client.get("/api/v1/me/addresses")).json()) == 1
    assert (
        await client.post("/api/v1/me/addresses", json={**ADDRESS, "phone": "x"})
    ).status_code == 400


async def test_a_customer_cannot_touch_another_customers_address_or_order(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    await register(client, "a@example.com")
    address = (await client.post("/api/v1/me/addresses", json=ADDRESS)).json()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    order = (await client.post("/api/v1/orders", json=checkout_body())).json()
    client.cookies.clear()
    await register(client, "b@example.com")
    for method, url in [
        ("PUT", f"/api/v1/me/addresses/{address['id']}"),
        ("DELETE", f"/api/v1/me/addresses/{address['id']}"),
    ]:
        r = await client.request(method, url, json=ADDRESS if method == "PUT" else None)
        assert r.status_code == 404 and r.json()["error"]["code"] == "address_not_found"
    assert (await client.get(f"/api/v1/me/orders/{order['number']}")).status_code == 404
    assert (await client.get("/api/v1/me/orders")).json()["items"] == []
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body(address_id=address["id"]))
    assert r.status_code == 404


async def test_order_history_with_saved_address(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    await register(client)
    address = (await client.post("/api/v1/me/addresses", json=ADDRESS)).json()
    await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    r = await client.post(
        "/api/v1/orders", json={"payment_method": "cod", "address_id": address["id"]}
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["email"] == "zhang@example.com"  # the account's e-mail by default
    assert r.headers["Location"] == f"/api/v1/me/orders/{order['number']}"
    history = (await client.get("/api/v1/me/orders")).json()
    assert history["total"] == 1 and history["items"][0]["number"] == order["number"]
    assert history["items"][0]["status"] == "pending_payment"
    one = await client.get(f"/api/v1/me/orders/{order['number']}")
    assert one.status_code == 200 and one.json()["ship_to"]["recipient"] == "王小明"
    assert (await client.get("/api/v1/me/orders?per_page=1000")).status_code == 400


async def test_log_in_rotates_the_session_and_its_cookie_is_locked_down(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await register(client)  # registering logs in: a first session cookie
    first = client.cookies.get("shopd_session")
    r = await client.post(
        "/api/v1/session", json={"email": "zhang@example.com", "password": PASSWORD}
    )
    second = r.cookies.get("shopd_session")
    assert first and second and second != first  # never the session from before
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    behind_tls = create_app(settings.model_copy(update={"cookie_secure": True}), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=behind_tls), base_url="https://shop.test"
    ) as tls:
        r = await tls.post(
            "/api/v1/session", json={"email": "zhang@example.com", "password": PASSWORD}
        )
        assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower()
