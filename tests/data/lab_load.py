"""A light, steady load from the internet (run in the lab's client namespace) until SIGTERM;
then prints how many requests succeeded and how each failure looked, as JSON.

``python lab_load.py https://198.51.100.2 [requests per second]``
"""

import json
import signal
import sys
import time

import httpx

base, rate = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
stats: dict = {"ok": 0, "failed": []}
running = True


def stop(*_: object) -> None:
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
paths = ["/", "/api/v1/categories", "/api/v1/products?per_page=5"]
with httpx.Client(base_url=base, verify=False, timeout=10) as client:
    n = 0
    while running:
        path = paths[n % len(paths)]
        n += 1
        try:
            reply = client.get(path)
            if reply.status_code == 200:
                stats["ok"] += 1
            else:
                stats["failed"].append(f"{path}: {reply.status_code}")
        except httpx.HTTPError as exc:
            stats["failed"].append(f"{path}: {type(exc).__name__} {exc}")
        time.sleep(1 / rate)
print(json.dumps(stats))
