"""Storefront pages, one module per area of the shop. Thin: each calls the same services as
the JSON API. Not in the OpenAPI schema (HTML for browsers)."""

from shopd.web.pages.account import AccountPages
from shopd.web.pages.cart import CartPages
from shopd.web.pages.catalog import CatalogPages
from shopd.web.pages.checkout import CheckoutPages
from shopd.web.pages.content import ContentPages
from shopd.web.pages.seo import SeoPages

# Every storefront controller, as the app registers them.
STOREFRONT = [CatalogPages, CartPages, CheckoutPages, AccountPages, ContentPages, SeoPages]

__all__ = [
    "STOREFRONT",
    "AccountPages",
    "CartPages",
    "CatalogPages",
    "CheckoutPages",
    "ContentPages",
    "SeoPages",
]
