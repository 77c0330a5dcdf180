"""Staff catalog work: series and categories, drafts and review, prices with history, images,
and CSV export/import."""

from __future__ import annotations

import httpx
import pytest

from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff
from tests.test_checkout import stock_of

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def test_series_and_categories_add_rename_reorder_move(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    r = await client.post(
        "/api/v1/staff/series",
        json={"slug": "gifts", "name": "礼品", "name_en": "Gifts", "position": 0},
        headers=staff.clerk,
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/staff/series",
        json={"slug": "gifts", "name": "礼品", "name_en": "Gifts", "position": 0},
        headers=staff.manager,
    )
    assert r.status_code == 201
    r = await client.post(
        "/api/v1/staff/series", json={"slug": "gifts", "name": "x"}, headers=staff.manager
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "slug_taken"
    r = await client.post(
        "/api/v1/staff/series", json={"slug": "Bad Slug!", "name": "x"}, headers=staff.manager
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_slug"
    await client.patch(
        "/api/v1/staff/series/home", json={"position": 0, "name": "家居生活"}, headers=staff.manager
    )
    await client.patch("/api/v1/staff/series/apparel", json={"position": 5}, headers=staff.manager)
    # Move the tea sets under gifts.
    r = await client.patch(
        "/api/v1/staff/categories/tea-sets", json={"series": "gifts"}, headers=staff.manager
    )
    assert r.status_code == 200 and r.json()["series"] == "gifts"
    tree = (await client.get("/api/v1/categories")).json()
    flat = [(s["slug"], [c["slug"] for c in s["categories"]]) for s in tree]
    assert flat[0] == ("gifts", ["tea-sets"]) or flat[1] == ("gifts", ["tea-sets"])
    assert flat[-1][0] == "apparel"
    # Search still finds the teapot by its new series name.
    r = await client.get("/api/v1/products", params={"q": "礼品"})
    assert [p["slug"] for p in r.json()["items"]] == [catalog.teapot]


async def test_draft_review_listing_and_prices(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    body = {
        "slug": "linen-shirt",
        "category": "t-shirts",
        "name": "亚麻衬衫",
        "name_en": "Linen shirt",
        "list_price": 19900,
        "skus": [{"code": "LIN-M", "attributes": {"size": "M"}}],
    }
    r = await client.post("/api/v1/staff/products", json=body, headers=staff.clerk)
    assert r.status_code == 201, r.text
    assert r.json()["review_state"] == "draft" and r.json()["listed"] is False
    assert (await client.get("/api/v1/products/linen-shirt")).status_code == 404

    r = await client.post("/api/v1/staff/products/linen-shirt/list", headers=staff.manager)
    assert r.status_code == 409  # a draft is not listed before approval
    r = await client.post(
        "/api/v1/staff/products/linen-shirt/approve", json={"list": True}, headers=staff.clerk
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/staff/products/linen-shirt/approve", json={"list": True}, headers=staff.manager
    )
    assert r.json()["review_state"] == "approved" and r.json()["listed"] is True
    assert (await client.get("/api/v1/products/linen-shirt")).status_code == 200

    # A clerk's change sends it back to review and out of the shop until approved again.
    r = await client.patch(
        "/api/v1/staff/products/linen-shirt",
        json={"description": "<script>alert(1)</script> 透气"},
        headers=staff.clerk,
    )
    assert r.json()["review_state"] == "draft" and r.json()["listed"] is False
    queue = await client.get(
        "/api/v1/staff/products", params={"review_state": "draft"}, headers=staff.clerk
    )
    assert [p["slug"] for p in queue.json()["items"]] == ["linen-shirt"]
    await client.post(
        "/api/v1/staff/products/linen-shirt/approve", json={"list": True}, headers=staff.manager
    )
    # A manager's own edit keeps it listed.
    r = await client.patch(
        "/api/v1/staff/products/linen-shirt",
        json={"name_en": "Linen shirt II"},
        headers=staff.manager,
    )
    assert r.json()["listed"] is True

    price = "/api/v1/staff/products/linen-shirt/price"
    assert (await client.put(price, json={"price": 17900}, headers=staff.clerk)).status_code == 403
    r = await client.put(price, json={"price": 17900}, headers=staff.manager)
    assert r.status_code == 200 and r.json()["list_price"] == 17900
    r = await client.put(price, json={"price": 16900, "sku": "LIN-M"}, headers=staff.manager)
    assert r.json()["skus"][0]["effective_price"] == 16900
    r = await client.put(price, json={"price": -1}, headers=staff.manager)
    assert r.status_code == 400
    r = await client.put(price, json={"price": 1, "sku": "TEE-M"}, headers=staff.manager)
    assert r.status_code == 404  # not this product's SKU
    history = r = await client.get("/api/v1/staff/products/linen-shirt", headers=staff.clerk)
    changes = [(c["sku"], c["old_price"], c["new_price"]) for c in history.json()["price_history"]]
    assert changes == [("LIN-M", None, 16900), (None, 19900, 17900)]
    public = (await client.get("/api/v1/products/linen-shirt")).json()
    assert public["skus"][0]["price"] == 16900

    r = await client.post("/api/v1/staff/products/linen-shirt/delist", headers=staff.manager)
    assert r.json()["listed"] is False
    assert (await client.get("/api/v1/products/linen-shirt")).status_code == 404
    r = await client.post(
        "/api/v1/staff/products/linen-shirt/skus",
        json={"code": "TEE-M"},
        headers=staff.clerk,
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "sku_exists"
    r = await client.patch("/api/v1/staff/skus/LIN-M", json={"active": False}, headers=staff.clerk)
    assert r.status_code == 200 and r.json()["active"] is False


async def test_image_upload_checked_by_content_and_served(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    url = f"/api/v1/staff/products/{catalog.tshirt}/images"
    r = await client.post(url, content=PNG, headers=staff.clerk)
    assert r.status_code == 201, r.text
    image = r.json()["images"][-1]
    assert image.startswith("/media/products/") and image.endswith(".png")
    served = await client.get(image)
    assert served.status_code == 200 and served.content == PNG
    again = await client.post(url, content=PNG, headers=staff.clerk)
    assert again.json()["images"].count(image) == 1
    for bad in (b"", b"<?php echo 1; ?>", b"GIF8" + b"\x00" * 10, b"<svg onload=alert(1)>"):
        r = await client.post(url, content=bad, headers=staff.clerk)
        assert r.status_code == 400, bad
    r = await client.request("DELETE", url, params={"url": image}, headers=staff.clerk)
    assert r.status_code == 200 and image not in r.json()["images"]


async def test_csv_export_then_import_prices_stock_and_new_products(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    exported = await client.get("/api/v1/staff/catalog/export.csv", headers=staff.clerk)
    assert exported.status_code == 200 and "text/csv" in exported.headers["content-type"]
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("sku,product_slug,product_name")
    assert any(line.startswith("POT-1,zisha-teapot,宜兴紫砂壶") for line in lines)

    csv_text = (
        "sku,product_slug,product_name,category,list_price,sku_price,on_hand,threshold\n"
        "TEE-M,,,,,6900,40,8\n"
        "POT-1,,,,,,0,\n"
        "MUG-1,tea-mug,茶杯,tea-sets,2500,,12,\n"
    )
    url = "/api/v1/staff/catalog/import"
    headers = {**staff.clerk, "Content-Type": "text/csv"}
    assert (await client.post(url, content=csv_text, headers=headers)).status_code == 403
    headers = {**staff.manager, "Content-Type": "text/csv"}
    dry = await client.post(url, params={"dry_run": "true"}, content=csv_text, headers=headers)
    assert dry.status_code == 200 and dry.json()["stock_changes"] == 3
    assert await stock_of(db, "TEE-M") == (10, 10, 0)  # a dry run writes nothing

    r = await client.post(url, content=csv_text.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "dry_run": False,
        "created_products": 1,
        "created_skus": 1,
        "price_changes": 1,
        "stock_changes": 3,
        "threshold_changes": 1,
    }
    assert await stock_of(db, "TEE-M") == (40, 40, 0)
    assert await stock_of(db, "POT-1") == (0, 0, 0)
    assert await stock_of(db, "MUG-1") == (12, 12, 0)
    mug = await client.get("/api/v1/staff/products/tea-mug", headers=staff.clerk)
    assert mug.json()["review_state"] == "draft"

    broken = "sku,sku_price,on_hand\nTEE-L,abc,1\nNEW-9,,1\nTEE-XL,100,-5\nTEE-M,5,1\n"
    r = await client.post(url, content=broken, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_csv"
    assert [e["line"] for e in r.json()["error"]["details"]["errors"]] == [2, 3, 4]
    assert await stock_of(db, "TEE-M") == (40, 40, 0)  # the good row was not applied either
    r = await client.post(url, content="name,price\nx,1\n", headers=headers)
    assert r.status_code == 400
    r = await client.post(url, content=b"\xff\xfe\x00bad", headers=headers)
    assert r.status_code == 400
