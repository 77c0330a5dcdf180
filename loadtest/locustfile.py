"""The load profiles, for Locust: ``locust -f loadtest/locustfile.py --host URL <Profile>``.

``shopctl loadtest run`` starts Locust with this file; the class named on its command line is the
profile. Every accepted checkout's order number is written to ``$SHOPD_LOADTEST_OUT`` so the
consistency check can find each one in the database afterwards.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

import gevent.lock
from locust import FastHttpUser, LoadTestShape, between, events, task
from locust.env import Environment

from loadtest.runner import STOP_FILE
from loadtest.shop import ADDRESS, EXPECTED_REFUSALS, QUERIES, Catalog, discover, start_flash_sale

_catalog: Catalog | None = None
_lock = gevent.lock.Semaphore()
OUT = Path(os.environ.get("SHOPD_LOADTEST_OUT", "."))
FLASH_LEAD = float(os.environ.get("SHOPD_LOADTEST_FLASH_LEAD", "5"))
# The share of campaign shoppers with an account: they register on arrival (argon2 and all)
# and shop logged in, at member prices, checking out without typing their e-mail.
REGISTERED = float(os.environ.get("SHOPD_LOADTEST_REGISTERED", "0.1"))


def catalog(host: str) -> Catalog:
    """Learned once per Locust process, by the first user that needs it."""
    global _catalog
    with _lock:
        if _catalog is None:
            _catalog = discover(host)
            if os.environ.get("SHOPD_LOADTEST_PROFILE") == "FlashSale":
                start_flash_sale(host, _catalog, lead=FLASH_LEAD)
        return _catalog


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # Which processes took part (a master and its workers show up as one file each).
    role = type(environment.runner).__name__ if environment.runner else "none"
    (OUT / f"process-{os.getpid()}.txt").write_text(role + "\n")


def _accepted(number: str) -> None:
    with (OUT / f"accepted-{os.getpid()}.txt").open("a") as f:
        f.write(number + "\n")


class Shopper(FastHttpUser):
    abstract = True
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.shop = catalog(self.host)

    # -- pages and API calls a shopper makes ------------------------------------------------

    def home(self) -> None:
        self.client.get("/", name="page /")

    def category(self) -> None:
        slug = random.choice(self.shop.categories)
        self.client.get(f"/c/{slug}", name="page /c/[category]")
        self.client.get(f"/api/v1/products?category={slug}", name="api products?category")

    def product(self) -> None:
        slug = random.choice(self.shop.products)
        self.client.get(f"/p/{slug}", name="page /p/[product]")
        self.client.get(f"/api/v1/products/{slug}", name="api products/[slug]")

    def search(self) -> None:
        q = random.choice(QUERIES)
        self.client.get("/search", params={"q": q}, name="page /search")
        self.client.get("/api/v1/products", params={"q": q}, name="api products?q")

    def add_to_cart(self, sku: str | None = None, name: str = "api cart add") -> bool:
        body = {"sku": sku or random.choice(self.shop.skus), "quantity": 1}
        with self.client.post("/api/v1/cart/items", json=body, name=name, catch_response=True) as r:
            return _judge(r, 200)

    def register(self) -> None:
        """An account for this shopper; the session cookie logs the rest of the visit in."""
        self.email = f"lt-member-{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": self.email, "password": f"pw-{uuid.uuid4().hex}", "name": "Load Test"}
        with self.client.post(
            "/api/v1/customers", json=body, name="api register", catch_response=True
        ) as r:
            if not _judge(r, 201):
                self.email = ""

    def checkout(self, name: str = "api checkout") -> None:
        member = getattr(self, "email", "")
        body: dict[str, Any] = {"payment_method": "bank_transfer", "address": ADDRESS}
        if not member:  # a member's order goes to the account's e-mail without asking
            body["email"] = f"lt-{uuid.uuid4().hex[:10]}@example.com"
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(
            "/api/v1/orders", json=body, headers=headers, name=name, catch_response=True
        ) as r:
            if _judge(r, 201) and r.status_code == 201:
                number = r.json()["number"]
                self.orders.append((number, member or body["email"]))
                _accepted(number)

    @property
    def orders(self) -> list[tuple[str, str]]:
        if not hasattr(self, "_orders"):
            self._orders: list[tuple[str, str]] = []
        return self._orders


def _judge(r: Any, ok_status: int) -> bool:
    """A refusal the shop is meant to give under a rush (sold out) is not an error."""
    if r.status_code == ok_status:
        r.success()
        return True
    try:
        code = r.json()["error"]["code"]
    except Exception:
        code = ""
    if r.status_code == 409 and code in EXPECTED_REFUSALS:
        r.success()
        return False
    r.failure(f"{r.status_code} {code or (r.text or '')[:80]}")
    return False


class Browse(Shopper):
    """Guests looking around: home, categories, products, searches (HTML and API)."""

    @task(2)
    def t_home(self) -> None:
        self.home()

    @task(3)
    def t_category(self) -> None:
        self.category()

    @task(4)
    def t_product(self) -> None:
        self.product()

    @task(3)
    def t_search(self) -> None:
        self.search()


class Campaign(Shopper):
    """The realistic mix: mostly browsing and searching, some carts, some checkouts (guests and,
    ``SHOPD_LOADTEST_REGISTERED`` of them, logged-in members), inquiries."""

    def on_start(self) -> None:
        super().on_start()
        if random.random() < REGISTERED:
            self.register()

    @task(10)
    def t_browse(self) -> None:
        random.choice((self.home, self.category, self.product))()

    @task(5)
    def t_search(self) -> None:
        self.search()

    # A shopper thinks between the steps of a purchase too: looks at the product, then adds it;
    # adds, looks at the cart, then checks out.

    @task(3)
    def t_cart(self) -> None:
        self.product()
        self.wait()
        self.add_to_cart()

    @task(2)
    def t_checkout(self) -> None:
        if self.add_to_cart():
            self.wait()
            self.client.get("/api/v1/cart", name="api cart")
            self.wait()
            self.checkout()

    @task(1)
    def t_inquiry(self) -> None:
        if self.orders:
            number, email = random.choice(self.orders)
            self.client.get(
                f"/api/v1/orders/{number}", params={"email": email}, name="api order inquiry"
            )
        else:
            self.search()


class FlashSale(Shopper):
    """A crowd waiting for the start second of a flash sale on a few SKUs, then rushing it."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        super().on_start()
        delay = self.shop.flash_starts_at - time.time()
        if delay > 0:
            gevent.sleep(delay + random.uniform(0, 0.3))

    @task
    def rush(self) -> None:
        if getattr(self, "tried", False):
            self.product()  # each buyer tries once; afterwards they browse like anyone else
            return
        self.tried = True
        sku = random.choice(self.shop.flash_skus)
        self.client.get("/api/v1/products", params={"q": sku}, name="api flash lookup")
        if self.add_to_cart(sku, name="api flash cart add"):
            self.checkout(name="api flash checkout")


class Staff(FastHttpUser):
    """A few staff sessions working the order list during the rush: confirm payment, ship."""

    wait_time = between(2, 5)
    fixed_count = 2

    def on_start(self) -> None:
        from loadtest.shop import staff_credentials

        credentials = staff_credentials()
        if credentials is None:
            raise RuntimeError("the staff profile needs SHOPD_LOADTEST_STAFF=name:password")
        r = self.client.post(
            "/api/v1/staff/session",
            json={"username": credentials[0], "password": credentials[1]},
            name="staff log-in",
        )
        self.auth = {"Authorization": f"Bearer {r.json()['token']}"}
        # A shift starts on the order list, as the TUI does, not by chance among the tasks.
        self.ship_one()

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/api/v1/staff/orders/dashboard", headers=self.auth, name="staff dashboard")

    @task(5)
    def ship_one(self) -> None:
        r = self.client.get(
            "/api/v1/staff/orders?status=pending_payment", headers=self.auth, name="staff orders"
        )
        items = r.json().get("items", []) if r.status_code == 200 else []
        if not items:
            return
        order = random.choice(items)
        n = order["number"]
        detail = self.client.get(
            f"/api/v1/staff/orders/{n}", headers=self.auth, name="staff order"
        ).json()
        steps = (
            ("payments", {"amount": detail["total"], "reference": f"lt-{n}"}),
            ("picking", None),
            ("ship", {"carrier": "SF", "tracking_number": f"SF{uuid.uuid4().hex[:10]}"}),
        )
        for step, body in steps:
            with self.client.post(
                f"/api/v1/staff/orders/{n}/{step}",
                json=body or {},
                headers=self.auth,
                name=f"staff {step}",
                catch_response=True,
            ) as resp:
                if resp.status_code in (200, 201):
                    resp.success()
                elif resp.status_code == 409:
                    # Another staff session got there first: the shop refused cleanly.
                    resp.success()
                    return
                else:
                    resp.failure(f"{resp.status_code} {resp.text[:80]}")
                    return


class Ceiling(FastHttpUser):
    """No think time, one bare JSON endpoint: the most requests/s the server setup can answer."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        pass

    @task
    def ping(self) -> None:
        self.client.get("/ping", name="ceiling /ping")


class Steps(LoadTestShape):
    """Capacity search: raise the users by a step every interval until told to stop."""

    abstract = os.environ.get("SHOPD_LOADTEST_SHAPE") != "steps"

    def tick(self) -> tuple[int, float] | None:
        start = int(os.environ.get("SHOPD_LOADTEST_STEP_START", "50"))
        step = int(os.environ.get("SHOPD_LOADTEST_STEP_USERS", "50"))
        every = float(os.environ.get("SHOPD_LOADTEST_STEP_SECONDS", "20"))
        limit = int(os.environ.get("SHOPD_LOADTEST_STEP_MAX", "2000"))
        users = start + step * int(self.get_run_time() // every)
        # The capacity search says so with a file: a signal lands in whichever greenlet runs,
        # and under load that is a user's, which swallows it and goes on.
        if users > limit or (OUT / STOP_FILE).exists():
            return None
        return users, max(step / 2, 10)
