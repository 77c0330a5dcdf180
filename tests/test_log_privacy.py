"""What the shop writes to its logs keeps secrets and people out of them: passwords, tokens,
session ids, card data, addresses and phone numbers (issue 12, privacy).

A real server, at debug level, with its access log on, and with mail failing so the outbox's
error path writes too. Every secret the session handles is then looked for in everything it
logged.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.server import free_port, running, shopctl

PASSWORD = "Customer-Pass-4711"
NEW_PASSWORD = "Customer-New-Pass-0815"
WRONG = "Wrong-Guess-3141"
STAFF_PASSWORD = "Staff-Pass-2718"
CARD = "4111111111111111"
ADDRESS = {
    "recipient": "Privat Person",
    "phone": "+49 170 5550199",
    "region": "Bayern",
    "city": "Nürnberg",
    "line1": "Geheimgasse 77",
    "postcode": "90402",
}


@pytest.mark.parametrize("level", ["info", "debug"])
def test_no_secret_or_personal_detail_reaches_the_logs(tmp_path: Path, level: str) -> None:
    port, dead_smtp = free_port(), free_port()
    env = {
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Nothing listens there: every mail fails and the outbox says so in the log.
        "SHOPD_MAIL_BACKEND": "smtp",
        "SHOPD_SMTP_HOST": "127.0.0.1",
        "SHOPD_SMTP_PORT": str(dead_smtp),
        "SHOPD_SMTP_TIMEOUT_SECONDS": "1",
        "SHOPD_JOB_INTERVAL_SECONDS": "1",
    }
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "6", env=env).returncode == 0
    added = shopctl(
        "staff", "add", "priv.admin", "--role", "admin", "--password-stdin",
        env=env, stdin=STAFF_PASSWORD,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    args = ("serve", "--port", str(port), "--log-level", level, "--access-log")
    secrets = [PASSWORD, NEW_PASSWORD, WRONG, STAFF_PASSWORD, CARD]
    secrets += [ADDRESS["line1"], ADDRESS["phone"], "5550199", "Geheimgasse"]
    with running(*args, env=env, cwd=tmp_path, port=port) as (base, _, log):
        with httpx.Client(base_url=base, timeout=30) as shop:
            r = shop.post(
                "/api/v1/customers",
                json={"email": "privat@example.com", "password": PASSWORD, "name": "Privat"},
            )
            assert r.status_code == 201, r.text
            secrets.append(r.json()["token"])
            secrets.append(shop.cookies["shopd_session"])
            wrong = {"email": "privat@example.com", "password": WRONG}
            assert shop.post("/api/v1/session", json=wrong).status_code == 401
            # Malformed JSON that carries a password: refused, and not echoed anywhere.
            broken = '{"email": "privat@example.com", "password": "' + WRONG + '"'
            r = shop.post(
                "/api/v1/session", content=broken, headers={"content-type": "application/json"}
            )
            assert r.status_code == 400 and WRONG not in r.text
            slug = shop.get("/api/v1/products").json()["items"][0]["slug"]
            sku = shop.get(f"/api/v1/products/{slug}").json()["skus"][0]["code"]
            assert shop.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1}).is_success
            # Card data the shop never asked for is refused, not stored or logged.
            order = {"payment_method": "bank_transfer", "address": ADDRESS, "card_number": CARD}
            r = shop.post("/api/v1/orders", json=order)
            assert r.status_code == 400 and CARD not in r.text
            order.pop("card_number")
            r = shop.post("/api/v1/orders", json=order)
            assert r.status_code == 201, r.text
            assert shop.post("/api/v1/password-reset", json={"email": "privat@example.com"})
            link = ""
            for _ in range(50):
                mail = shop_mail(tmp_path)
                if mail:
                    link = mail
                    break
                time.sleep(0.2)
            assert link, "the reset mail is in the outbox"
            secrets.append(link)
            r = shop.post(
                "/api/v1/password-reset/confirm", json={"token": link, "password": NEW_PASSWORD}
            )
            assert r.status_code in (200, 204), r.text

        r = httpx.post(
            f"{base}/api/v1/staff/session",
            json={"username": "priv.admin", "password": STAFF_PASSWORD},
        )
        token = r.json()["token"]
        secrets.append(token)
        staff = {"Authorization": f"Bearer {token}"}
        orders = httpx.get(f"{base}/api/v1/staff/orders", headers=staff)
        assert orders.status_code == 200 and orders.json()["total"] == 1
        time.sleep(3)  # the outbox tries (and fails) to send the order and reset mails
    logged = log.read_text()
    # The log is not empty: requests and the failing mail were written...
    assert "POST /api/v1/session" in logged and "POST /api/v1/password-reset/confirm" in logged
    assert re.search(r"shopd.mail .* mail \d+ not sent", logged), logged[-2000:]
    # ...and nothing of the above is in it.
    leaked = [s for s in secrets if s in logged]
    assert leaked == [], [line for line in logged.splitlines() if any(s in line for s in leaked)]


def shop_mail(data_dir: Path) -> str:
    """The reset token from the outbox, read the way an operator could: through SQLite."""
    import sqlite3

    db = sqlite3.connect(data_dir / "shopd.sqlite3")
    try:
        row = db.execute(
            "SELECT body FROM outbox WHERE kind = 'password_reset' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    match = re.search(r"/account/reset\?t=([\w-]+)", row[0]) if row else None
    return match.group(1) if match else ""
