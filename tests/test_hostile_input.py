"""Crafted requests: deep JSON, wrong content types, control characters in paths, redirect
targets a browser reads as another host. Each gets a clean 4xx with a stable code and changes
nothing; on both back ends."""

from __future__ import annotations

import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from shopd.catalog.models import Sku
from shopd.db import Database
from shopd.inventory.models import StockLevel
from shopd.inventory.service import MAX_ON_HAND
from shopd.promotions import flash
from shopd.server.request_checks import MAX_JSON_DEPTH, json_depth
from shopd.staff import throttle
from shopd.validation import header_safe_path, local_path, normalise_email
from tests.conftest import ADDRESS, SmallCatalog
from tests.staffkit import make_staff, place_order
from tests.test_checkout import stock_of
from tests.test_customers import PASSWORD, register
from tests.test_http_errors import WRITE_ENDPOINTS, assert_error_shape, nothing_written
from tests.test_storefront import csrf

DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS)
async def test_deeply_nested_json_is_refused_before_decoding(
    client: httpx.AsyncClient,
    db: Database,
    catalog: SmallCatalog,
    method: str,
    path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        r = await client.request(
            method, path, content=DEEP, headers={"content-type": "application/json"}
        )
    assert r.status_code == 400
    assert assert_error_shape(r)["code"] == "too_deeply_nested"
    assert "unhandled error" not in caplog.text
    assert await nothing_written(db)


async def test_nesting_within_the_limit_still_reaches_the_handler(
    client: httpx.AsyncClient,
) -> None:
    # Valid JSON nested to the limit is decoded and refused by the handler for its shape.
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    r = await client.post(
        "/api/v1/session", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert assert_error_shape(r)["code"] != "too_deeply_nested"


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert json_depth(DEEP.encode()) == 1000


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS)
async def test_json_endpoints_take_only_json(
    client: httpx.AsyncClient,
    db: Database,
    catalog: SmallCatalog,
    method: str,
    path: str,
    content_type: str,
) -> None:
    # A body that is valid JSON, so only its declared type can refuse it: a cross-site form
    # can send exactly this as text/plain without a CORS preflight.
    body = '{"email": "a@example.com", "password": "correct horse", "sku": "TEE-M", "quantity": 1}'
    headers = {"content-type": content_type} if content_type else {}
    r = await client.request(method, path, content=body, headers=headers)
    assert r.status_code == 415
    assert assert_error_shape(r)["code"] == "unsupported_media_type"
    assert await nothing_written(db)


async def test_a_json_media_type_with_parameters_is_json(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.post(
        "/api/v1/cart/items",
        content=f'{{"sku": "{catalog.sku_m}", "quantity": 1}}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["quantity"] == 1


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/static/a%00b.css", 400),
        ("/media/a%00.png", 400),
        ("/media/a%7F.png", 400),
        ("/p/x%01y", 404),
        ("/api/v1/products/x%00y", 404),
    ],
)
async def test_control_characters_in_a_path_are_a_clean_4xx(
    client: httpx.AsyncClient, path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        r = await client.get(path)
    assert r.status_code == status
    assert "unhandled error" not in caplog.text
    assert "Traceback" not in r.text


async def test_a_line_separator_copied_into_a_redirect_is_encoded(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        r = await client.get("/account/orders/x%E2%80%A8y")
    assert r.status_code == 303
    assert r.headers["location"] == "/account/login?next=/account/orders/x%E2%80%A8y"
    assert "unhandled error" not in caplog.text


# What a browser reads as another host or scheme, though a naive "starts with one slash" check
# passes some of them (WHATWG URL: tabs and newlines dropped, ends stripped, \ is /).
OFF_SITE = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\/evil.example/x",
    "/\t/evil.example",
    "/\n/evil.example",
    "\r\n//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_fall_back_to_the_default(target: str) -> None:
    assert local_path(target, "/account") == "/account"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("/c/tea?page=2&sort=price", "/c/tea?page=2&sort=price"),
        ("/p/紫砂壶", "/p/%E7%B4%AB%E7%A0%82%E5%A3%B6"),
        ("/account/orders/x\u2028y", "/account/orders/x%E2%80%A8y"),
    ],
)
def test_local_targets_are_kept_and_made_header_safe(target: str, expected: str) -> None:
    assert local_path(target) == expected


@given(st.text(max_size=40))
def test_a_local_path_is_always_one_ascii_path_of_this_site(target: str) -> None:
    path = local_path(target, "/")
    assert path.startswith("/") and not path.startswith("//")
    assert path.isascii() and path.isprintable()
    assert "\\" not in path
    assert header_safe_path(path) == path


@pytest.mark.parametrize("target", OFF_SITE)
async def test_the_language_switch_never_redirects_off_site(
    client: httpx.AsyncClient, target: str
) -> None:
    r = await client.get("/lang/zh", params={"next": target})
    assert r.status_code == 303
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("target", ["/\\evil.example/x", "/\t/evil.example", "//evil.example"])
async def test_logging_in_never_redirects_off_site(client: httpx.AsyncClient, target: str) -> None:
    await register(client)
    token = await csrf(client, "/account/login")
    form = {"email": "zhang@example.com", "password": PASSWORD, "_csrf_token": token}
    r = await client.post("/account/login", data={**form, "next": target})
    assert r.status_code == 303
    assert r.headers["location"] == "/account"
    r = await client.post("/account/login", data={**form, "next": "/c/tea"})
    assert r.headers["location"] == "/c/tea"


# Spellings of one address that a log-in, a sign-up or a reset all take for the same account.
def spellings(email: str) -> list[str]:
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in email)
    return [email, f"   {email}", f"{email}  ", email.upper(), f"\t{email.title()}\n", full_width]


@given(
    st.from_regex(r"\A[a-z][a-z0-9.]{0,10}@[a-z]{1,8}\.(com|cn|es)\Z"),
    st.sampled_from(["login", "reset", "signup"]),
)
def test_no_two_spellings_of_an_address_get_separate_counters(email: str, scope: str) -> None:
    counted = {tuple(throttle.keys(scope, spelling, "")) for spelling in spellings(email)}
    assert len(counted) == 1
    assert {normalise_email(spelling) for spelling in spellings(email)} == {email}


async def test_spelling_an_address_differently_gets_no_fresh_guesses(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "victim@example.com")
    # Five failures spread over spellings lock the address however it is typed next.
    for spelling in spellings("victim@example.com")[1:]:
        r = await client.post("/api/v1/session", json={"email": spelling, "password": "wrong-1"})
        assert r.status_code == 401, r.text
    for spelling in spellings("victim@example.com"):
        r = await client.post("/api/v1/session", json={"email": spelling, "password": PASSWORD})
        assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts"), spelling


def test_a_tag_does_not_make_another_buyer_for_a_limit() -> None:
    one = flash.buyer_key(None, "li@example.com")
    assert flash.buyer_key(None, "li+sale1@example.com") == one
    assert flash.buyer_key(None, " LI+2@Example.com ") == one
    assert flash.buyer_key(None, "lin@example.com") != one
    assert flash.buyer_key(7, "li@example.com") == "customer:7"


async def test_stock_received_past_the_columns_range_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    staff = await make_staff(client, db)
    async with db.write() as s:
        await s.execute(
            update(StockLevel)
            .where(
                StockLevel.sku_id
                == select(Sku.id).where(Sku.code == catalog.sku_m).scalar_subquery()
            )
            .values(on_hand=MAX_ON_HAND - 5)
        )
        await s.commit()
    before = await stock_of(db, catalog.sku_m)
    base = f"/api/v1/staff/stock/{catalog.sku_m}"
    for _ in range(3):  # past the limit, and on MariaDB past the INTEGER column's range
        r = await client.post(f"{base}/receipts", json={"quantity": 1_000_000}, headers=staff.clerk)
        assert r.status_code == 400, r.text
        assert assert_error_shape(r)["code"] == "stock_limit"
    found = {"delta": 1_000_000, "reason": "found"}
    r = await client.post(f"{base}/adjustments", json=found, headers=staff.manager)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "stock_limit")
    assert await stock_of(db, catalog.sku_m) == before
    r = await client.post(f"{base}/receipts", json={"quantity": 5}, headers=staff.clerk)
    assert r.status_code == 201 and r.json()["on_hand"] == MAX_ON_HAND


async def test_order_inquiry_is_limited_like_a_log_in(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    order = await place_order(client, catalog.sku_m)
    url = f"/api/v1/orders/{order['number']}"
    # Guessing the phone number of one order: five wrong answers, then none at all.
    for guess in range(5):
        r = await client.get(url, params={"phone": f"+86 138 0000 {guess:04d}"})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "order_not_found")
    r = await client.get(url, params={"email": "guest@example.com"})
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts")
    # Another order is answered: the lock is the guessed number's (and, later, the address's).
    other = await place_order(client, catalog.sku_m)
    r = await client.get(f"/api/v1/orders/{other['number']}", params={"email": "guest@example.com"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("\x00", ""),
        ("t-shirt\x00", "t-shirt"),
        ("tea\x00 sets", "tea sets"),
        ("\x1b[31mtea", "[31mtea"),
    ],
)
async def test_control_characters_in_a_search_mean_the_same_on_both_back_ends(
    client: httpx.AsyncClient, catalog: SmallCatalog, typed: str, same_as: str
) -> None:
    async def found(q: str) -> list[str]:
        r = await client.get("/api/v1/products", params={"q": q} if q else {})
        assert r.status_code == 200, r.text
        return [p["slug"] for p in r.json()["items"]]

    assert await found(typed) == await found(same_as)
    r = await client.get("/search", params={"q": typed})
    assert r.status_code == 200
    assert "\x00" not in r.text and "\x1b" not in r.text


@pytest.mark.parametrize("quantity", ["1", 1.0, True])
async def test_a_json_value_of_another_type_is_refused(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, quantity: object
) -> None:
    # Litestar's own conversion is lax (it serves query strings too): "1" and 1.0 became 1.
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_pot, "quantity": quantity})
    assert r.status_code == 400, r.text
    error = assert_error_shape(r)
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["field"] == "quantity"
    assert await nothing_written(db)


async def test_a_number_is_not_a_boolean(client: httpx.AsyncClient, db: Database) -> None:
    await register(client)
    r = await client.post("/api/v1/me/addresses", json={**ADDRESS, "is_default": 0})
    assert r.status_code == 400, r.text
    assert assert_error_shape(r)["details"]["errors"][0]["field"] == "is_default"
    assert (await client.get("/api/v1/me/addresses")).json() == []


async def test_an_id_past_64_bits_in_a_path_is_unknown_on_both_back_ends(
    client: httpx.AsyncClient, db: Database
) -> None:
    # SQLite could not bind it (a 500 with OverflowError); MariaDB found no row.
    await register(client)
    huge = "33955263550851276341248"
    for method, path in (
        ("PUT", f"/api/v1/me/addresses/{huge}"),
        ("DELETE", f"/api/v1/me/addresses/{huge}"),
    ):
        r = await client.request(method, path, json=ADDRESS if method == "PUT" else None)
        assert r.status_code == 404, (method, path, r.text)
        assert assert_error_shape(r)["code"].endswith("not_found")
