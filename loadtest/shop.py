"""What the load profiles need to know about the shop under test, learned from its public API."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import httpx

# Searches shoppers type: Chinese and Latin, whole and partial words.
QUERIES = ("T恤", "茶", "杯", "cotton", "tea", "linen", "包", "mug", "shirt", "壶")
ADDRESS = {
    "recipient": "压测 Load Test",
    "phone": "+86 138 0000 0000",
    "region": "浙江省",
    "city": "杭州市",
    "line1": "西湖区文三路 1 号",
    "postcode": "310000",
}
EXPECTED_REFUSALS = {"out_of_stock", "sale_sold_out", "sale_limit_reached"}


@dataclass
class Catalog:
    categories: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    # SKU codes with stock when the run started
    skus: list[str] = field(default_factory=list)
    prices: dict[str, int] = field(default_factory=dict)
    available: dict[str, int] = field(default_factory=dict)
    flash_skus: list[str] = field(default_factory=list)
    flash_starts_at: float = 0.0


def discover(base_url: str, pages: int = 3) -> Catalog:
    """Categories, listed products and in-stock SKUs, through the API any client can use."""
    catalog = Catalog()
    with httpx.Client(base_url=base_url, timeout=30) as c:
        tree = c.get("/api/v1/categories").raise_for_status().json()
        for series in tree:
            for category in series.get("categories", []):
                catalog.categories.append(category["slug"])
        for page in range(1, pages + 1):
            listing = c.get("/api/v1/products", params={"page": page, "per_page": 50})
            items = listing.raise_for_status().json().get("items", [])
            catalog.products += [p["slug"] for p in items]
            if len(items) < 50:
                break
        for slug in catalog.products[:40]:
            detail = c.get(f"/api/v1/products/{slug}").raise_for_status().json()
            for sku in detail.get("skus", []):
                if sku.get("available", 0) > 0:
                    catalog.skus.append(sku["code"])
                    catalog.prices[sku["code"]] = int(sku["price"])
                    catalog.available[sku["code"]] = int(sku["available"])
    if not catalog.products or not catalog.skus:
        raise RuntimeError(f"{base_url} has no products in stock: run shopctl db seed-demo first")
    return catalog


def staff_credentials() -> tuple[str, str] | None:
    """``SHOPD_LOADTEST_STAFF=name:password`` — for the staff and flash-sale profiles."""
    value = os.environ.get("SHOPD_LOADTEST_STAFF", "")
    name, _, password = value.partition(":")
    return (name, password) if name and password else None


def staff_login(client: httpx.Client) -> str:
    credentials = staff_credentials()
    if credentials is None:
        raise RuntimeError("set SHOPD_LOADTEST_STAFF=name:password (a manager) for this profile")
    r = client.post(
        "/api/v1/staff/session", json={"username": credentials[0], "password": credentials[1]}
    )
    r.raise_for_status()
    return str(r.json()["token"])


def start_flash_sale(base_url: str, catalog: Catalog, *, lead: float, skus: int = 3) -> None:
    """A flash sale of a few SKUs starting ``lead`` seconds from now, as a manager sets one up."""
    now = dt.datetime.now(dt.UTC)
    starts = now + dt.timedelta(seconds=lead)
    with httpx.Client(base_url=base_url, timeout=30) as c:
        token = staff_login(c)
        headers = {"Authorization": f"Bearer {token}"}
        # The best-stocked SKUs, so the sale has something to sell out.
        chosen = sorted(catalog.skus, key=lambda code: -catalog.available[code])[:skus]
        for code in chosen:
            price, available = catalog.prices[code], catalog.available[code]
            r = c.post(
                "/api/v1/staff/flash-sales",
                headers=headers,
                json={
                    "sku": code,
                    "sale_price": max(1, price * 9 // 10),
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
                    "quantity": max(1, min(available, 50)),
                    "per_customer_limit": 1,
                    "title": "压测秒杀 load test",
                },
            )
            r.raise_for_status()
            catalog.flash_skus.append(code)
    catalog.flash_starts_at = starts.timestamp()
