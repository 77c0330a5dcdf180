"""Settings read from ``SHOPD_*`` environment variables and an optional TOML file.

The same names are used on every host, so a deploy only has to write one env file. The fields
are grouped by concern (shop, storage, security, pricing, limits, caches, serving, jobs,
payments, mail); the environment names stay flat (``SHOPD_<FIELD>``): they are the public contract.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPD_", extra="ignore")

    # --- Shop: who it is, what it sells in, where its customers are -----------------------
    shop_name: str = "shopd demo shop"
    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    # The storefront's language: en, zh or es (customers can switch).
    language: str = "en"
    contact_email: str = "service@example.com"
    # Where customers send parcels back: printed on every packing slip ("" prints none).
    return_address: str = Field(default="", max_length=300)
    # The address customers and the payment gateway reach the shop at (links, return URLs).
    public_url: str = "http://127.0.0.1:8000"

    # --- Storage: files, database and its pool ---------------------------------------------
    data_dir: Path = Path("var")
    database_url: str = ""
    db_pool_size: int = Field(default=10, ge=1)
    # How long a request waits for a pooled connection before it is answered 503 busy.
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    db_echo: bool = False
    # Uploaded product images.
    # At most the database column's 16 MiB (catalog.models.MediaFile).
    max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=16 * 1024 * 1024 - 1)

    # --- Security: keys, sessions, cookies, log-in throttling, trusted proxies ------------
    secret_key: str = ""
    session_days: int = Field(default=14, ge=1, le=365)
    # How long a password-reset link sent by e-mail works (once).
    password_reset_minutes: int = Field(default=60, ge=5, le=24 * 60)
    staff_session_hours: int = Field(default=12, ge=1, le=24 * 7)
    cookie_secure: bool = False
    # Staff log-in throttling: this many failures in the window locks the name (and the address)
    # for the lock-out time.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # The proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the
    # client: nginx on every app server, which may pass a request on to another app server
    # over the LAN. Anyone else's header is ignored, so a client cannot choose its address.
    trusted_proxies: str = Field(default="127.0.0.1", max_length=2000)

    # --- Pricing and orders: shipping, promotions' floor, points, unpaid expiry -----------
    # Shipping is a flat fee waived above a threshold; both in minor units.
    shipping_fee: int = Field(default=1000, ge=0)
    free_shipping_over: int = Field(default=19900, ge=0)
    # No promotion charges less than this share of the regular price unless marked exempt.
    price_floor_percent: int = Field(default=70, ge=0, le=100)
    # Points earned on what a customer pays, as a percentage of it (1 point = 1 minor unit).
    points_earn_percent: int = Field(default=1, ge=0, le=100)
    # Orders paid by transfer or card that stay unpaid this long are cancelled, stock released.
    unpaid_cancel_minutes: int = Field(default=24 * 60, ge=1)

    # --- Limits: what one cart and one worker take on -------------------------------------
    max_cart_lines: int = Field(default=50, ge=1)
    max_line_quantity: int = Field(default=99, ge=1)
    # Requests a worker runs at once; more wait their turn in arrival order (0: no limit).
    max_concurrent_requests: int = Field(default=32, ge=0, le=100_000)

    # --- Caches: how long a worker keeps catalog reads ------------------------------------
    # How long a worker keeps catalog reads shown to anonymous visitors (0: not at all). The
    # price and stock a page shows may be this old; carts and checkout always read the database.
    catalog_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    # Product suggestions (bought together, best sellers) rank all orders and move slowly.
    ranking_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Products' names, texts, SKUs, prices and reviews (not stock) are cached this long; a change
    # made anywhere reaches every worker within catalog_watch_seconds (the catalog version).
    product_cache_seconds: float = Field(default=300.0, ge=0, le=86400)
    catalog_watch_seconds: float = Field(default=1.0, gt=0, le=60)
    # A product's stock and prices as its page shows them are cached up to this long while its
    # stock does not move (the stock ledger, looked at with the catalog version); products on
    # a flash sale or group buy keep to catalog_cache_seconds (0: all do).
    offer_cache_seconds: float = Field(default=30.0, ge=0, le=600)

    # --- Serving: runtime tuning of each worker -------------------------------------------
    # Page views and visitors are counted in memory and written this often (and at shutdown).
    visit_flush_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Each worker freezes what it built at start and runs the cyclic garbage collector less
    # often (shopd.server.gc_tuning); off: CPython's defaults.
    gc_tuned: bool = True
    # gzip level for responses of 1 KiB and more to clients that accept it (0: never compress,
    # e.g. behind an nginx that compresses). Level 1, nginx's default too, takes a third of
    # level 5's time on a 12 KB page for 8 % more bytes (2.2 KB instead of 2.0); level 9
    # costs several times more for a few percent fewer.
    gzip_level: int = Field(default=1, ge=0, le=9)

    # --- Jobs: the outbox sender and unpaid-order expiry ----------------------------------
    # Background jobs inside each server process; turn off when `shopctl worker` runs them as
    # a unit of its own.
    background_jobs: bool = True
    job_interval_seconds: float = Field(default=15.0, gt=0)

    # --- Payments: the card gateway (the local test one: `shopctl paygate`) ---------------
    payment_gateway_url: str = ""
    payment_gateway_key: str = ""
    payment_webhook_secret: str = ""

    # --- Mail: outgoing mail and its retries ----------------------------------------------
    # "smtp", or "files" (each mail an .eml file in <data_dir>/mail; the demo).
    mail_backend: Literal["smtp", "files"] = "smtp"
    mail_from: str = "shop@example.com"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_max_attempts: int = Field(default=12, ge=1)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @field_validator("currency")
    @classmethod
    def _upper(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError("currency must be an ISO 4217 code such as CNY or EUR")
        return v.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("SHOPD_CONFIG")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'shopd.sqlite3').resolve()}"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data dir (demo, one box)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            # Another worker won the race; use its key so all workers agree.
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


@lru_cache
def get_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
