"""A customer on the internet (run inside the lab's client namespace): browse over HTTPS through
the router, put something in the cart, check out. Prints the order as JSON.

``python lab_shopper.py https://198.51.100.2 ADDRESS_JSON``
"""

import json
import sys
import uuid

import httpx

ADDRESS = json.loads(sys.argv[2])  # the tests' standard address

# The lab's certificate is self-signed; the test checks its subject separately.
with httpx.Client(base_url=sys.argv[1], verify=False, timeout=30) as shop:
    products = shop.get("/api/v1/products", params={"per_page": 20}).raise_for_status().json()
    sku = next(
        s
        for p in products["items"]
        for s in shop.get(f"/api/v1/products/{p['slug']}").json()["skus"]
        if s["available"] >= 1
    )
    shop.post("/api/v1/cart/items", json={"sku": sku["code"], "quantity": 1}).raise_for_status()
    body = {
        "payment_method": "bank_transfer",
        "address": ADDRESS,
        "email": "lab-shopper@example.com",
        "phone": "13812345678",
    }
    placed = shop.post("/api/v1/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    if placed.status_code != 201:
        sys.exit(f"checkout failed: {placed.status_code} {placed.text}")
    print(json.dumps(placed.json()))
