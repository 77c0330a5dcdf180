"""A steady load from the internet (run in the lab's client namespace) until SIGTERM; then
prints how many requests succeeded and how each failure looked, as JSON.

``python lab_load.py https://198.51.100.2 [requests per second per shopper] [shoppers] [mix]``

``mix`` is ``browse`` (pages and catalog API, the default) or ``shop``: browsing plus putting
a SKU into the cart and taking it out again (POST and DELETE, which nginx must not retry
blindly), each shopper with a cart of their own.
"""

import json
import signal
import sys
import threading

import httpx

base = sys.argv[1]
rate = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
shoppers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
mix = sys.argv[4] if len(sys.argv) > 4 else "browse"
stats: dict = {"ok": 0, "failed": []}
lock = threading.Lock()
stopping = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stopping.set())


def first_sku(client: httpx.Client) -> str:
    slug = client.get("/api/v1/products?per_page=1").json()["items"][0]["slug"]
    return client.get(f"/api/v1/products/{slug}").json()["skus"][0]["code"]


def shopper() -> None:
    with httpx.Client(base_url=base, verify=False, timeout=10) as client:
        steps: list[tuple[str, str]] = [
            ("GET", "/"),
            ("GET", "/api/v1/categories"),
            ("GET", "/api/v1/products?per_page=5"),
        ]
        sku = ""
        if mix == "shop":
            sku = first_sku(client)
            steps += [("POST", "/api/v1/cart/items"), ("DELETE", f"/api/v1/cart/items/{sku}")]
        n = 0
        added = False
        while not stopping.is_set():
            method, path = steps[n % len(steps)]
            n += 1
            if method == "DELETE" and not added:
                # The add before it failed (and is counted): there is nothing to take out.
                continue
            body = {"sku": sku, "quantity": 1} if method == "POST" else None
            try:
                reply = client.request(method, path, json=body)
                failure = None if reply.status_code == 200 else f"{reply.status_code}"
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__} {exc}"
            if method == "POST":
                added = failure is None
            with lock:
                if failure is None:
                    stats["ok"] += 1
                else:
                    stats["failed"].append(f"{method} {path}: {failure}")
            stopping.wait(1 / rate)


threads = [threading.Thread(target=shopper) for _ in range(shoppers)]
for thread in threads:
    thread.start()
while any(thread.is_alive() for thread in threads):
    for thread in threads:
        thread.join(timeout=0.5)  # short waits: the main thread must take the SIGTERM
print(json.dumps(stats))
