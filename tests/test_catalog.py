"""Catalog: category tree, search (Chinese and Latin, SKU, category), paging, product detail."""

from __future__ import annotations

import httpx
import pytest

from shopd.db import Database
from tests.conftest import SmallCatalog, executed


async def test_category_tree_lists_series_and_categories_with_counts(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.get("/api/v1/categories")
    assert r.status_code == 200
    tree = r.json()
    assert [s["slug"] for s in tree] == ["apparel", "home"]
    tea = tree[1]["categories"][0]
    assert tea["slug"] == "tea-sets" and tea["name"] == "茶具"
    # The delisted product is not counted.
    assert tea["product_count"] == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("紫砂", ["zisha-teapot"]),  # Chinese substring in the middle of the name
        ("圆领", ["cotton-tee"]),
        ("CREW-NECK", ["cotton-tee"]),  # Latin, case-insensitive
        ("tee-xl", ["cotton-tee"]),  # SKU code
        ("茶具", ["zisha-teapot"]),  # category name
        ("旧款", []),  # delisted products are never found
        ("100%", []),  # LIKE wildcards are literal
        ("_", []),
    ],
)
async def test_search(
    client: httpx.AsyncClient, catalog: SmallCatalog, q: str, expected: list[str]
) -> None:
    r = await client.get("/api/v1/products", params={"q": q})
    assert r.status_code == 200
    body = r.json()
    assert [p["slug"] for p in body["items"]] == expected
    assert body["total"] == len(expected)


async def test_category_filter_accepts_category_and_series_slugs(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    by_cat = (await client.get("/api/v1/products", params={"category": "t-shirts"})).json()
    by_series = (await client.get("/api/v1/products", params={"category": "home"})).json()
    assert [p["slug"] for p in by_cat["items"]] == ["cotton-tee"]
    assert [p["slug"] for p in by_series["items"]] == ["zisha-teapot"]
    none = (await client.get("/api/v1/products", params={"category": "nope"})).json()
    assert none["items"] == [] and none["total"] == 0


async def test_a_listing_page_is_its_ids_then_one_query_for_prices_stock_and_categories(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    with executed(db) as statements:
        body = (await client.get("/api/v1/products", params={"sort": "name"})).json()
    assert sorted((p["slug"], p["category"], p["in_stock"]) for p in body["items"]) == [
        ("cotton-tee", "t-shirts", True),
        ("zisha-teapot", "tea-sets", True),
    ]
    # The page's ids and the count, then the products with their category in the same query
    # as their prices and stock: no second look-up of the categories.
    assert not [s for s in statements if "FROM categories" in s]
    assert len([s for s in statements if "FROM products" in s]) == 3, statements


async def test_paging_and_sorting(client: httpx.AsyncClient, catalog: SmallCatalog) -> None:
    page1 = (await client.get("/api/v1/products?per_page=1&page=1&sort=price_asc")).json()
    page2 = (await client.get("/api/v1/products?per_page=1&page=2&sort=price_asc")).json()
    assert page1["total"] == 2 and page1["pages"] == 2
    assert page1["items"][0]["slug"] == "cotton-tee"
    assert page1["items"][0]["price"] == 7900  # the cheapest SKU
    assert page2["items"][0]["slug"] == "zisha-teapot"
    past_end = (await client.get("/api/v1/products?per_page=1&page=3")).json()
    assert past_end["items"] == []


async def test_product_detail_with_skus_and_availability(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    r = await client.get(f"/api/v1/products/{catalog.tshirt}")
    assert r.status_code == 200
    p = r.json()
    assert p["name"] == "纯棉圆领T恤" and p["series"]["slug"] == "apparel"
    skus = {s["code"]: s for s in p["skus"]}
    assert skus["TEE-M"] == {
        "code": "TEE-M",
        "attributes": {"size": "M"},
        "price": 7900,
        "available": 10,
        "stock_status": "in_stock",
        "regular_price": 7900,
        "flash_sale": None,
        "priced_by": "none",
    }
    assert skus["TEE-L"]["stock_status"] == "low_stock"
    assert skus["TEE-XL"]["price"] == 8900 and skus["TEE-XL"]["stock_status"] == "sold_out"
    assert p["price_from"] == 7900 and p["in_stock"] is True


@pytest.mark.parametrize("slug", ["old-stock", "no-such-product", "%27%20OR%201%3D1"])
async def test_unknown_or_delisted_product_is_404(
    client: httpx.AsyncClient, catalog: SmallCatalog, slug: str
) -> None:
    r = await client.get(f"/api/v1/products/{slug}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "product_not_found"


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "per_page=0",
        "per_page=101",
        "per_page=99999999999999999999",
        "sort=random",
        "q=" + "x" * 101,
    ],
)
async def test_bad_list_parameters_are_400(
    client: httpx.AsyncClient, catalog: SmallCatalog, query: str
) -> None:
    r = await client.get(f"/api/v1/products?{query}")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "validation_error"
