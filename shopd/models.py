"""Imports every area's tables so ``Base.metadata`` is complete (Alembic, tests)."""

from shopd.analytics.models import DailyVisitor, PageView
from shopd.cart.models import Cart, CartItem
from shopd.catalog.models import CatalogVersion, Category, PriceChange, Product, Series, Sku
from shopd.content.models import (
    Announcement,
    GuestbookEntry,
    NewsletterIssue,
    Review,
    ServicePage,
    Subscriber,
)
from shopd.customers.models import (
    Address,
    Customer,
    CustomerNote,
    CustomerSession,
    LevelChange,
    MembershipLevel,
    PasswordReset,
    PointsEntry,
)
from shopd.db import Base
from shopd.inventory.models import StockLevel, StockMovement, Stocktake, StocktakeLine
from shopd.notifications.models import OutboxMessage
from shopd.orders.models import (
    GatewayEvent,
    Order,
    OrderEvent,
    OrderLine,
    OrderNote,
    Payment,
    Refund,
    ReturnLine,
    ReturnRequest,
)
from shopd.promotions.models import (
    Coupon,
    CouponRedemption,
    FlashSale,
    FlashSaleBuyer,
    GroupBuy,
    GroupBuyMember,
)
from shopd.staff.models import AuditEntry, LoginThrottle, ShopSetting, StaffSession, StaffUser

metadata = Base.metadata

__all__ = [
    "Address",
    "Announcement",
    "AuditEntry",
    "Cart",
    "CartItem",
    "CatalogVersion",
    "Category",
    "Coupon",
    "CouponRedemption",
    "Customer",
    "CustomerNote",
    "CustomerSession",
    "DailyVisitor",
    "FlashSale",
    "FlashSaleBuyer",
    "GatewayEvent",
    "GroupBuy",
    "GroupBuyMember",
    "GuestbookEntry",
    "LevelChange",
    "LoginThrottle",
    "MembershipLevel",
    "NewsletterIssue",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderNote",
    "OutboxMessage",
    "PageView",
    "PasswordReset",
    "Payment",
    "PointsEntry",
    "PriceChange",
    "Product",
    "Refund",
    "ReturnLine",
    "ReturnRequest",
    "Review",
    "Series",
    "ServicePage",
    "ShopSetting",
    "Sku",
    "StaffSession",
    "StaffUser",
    "StockLevel",
    "StockMovement",
    "Stocktake",
    "StocktakeLine",
    "Subscriber",
    "metadata",
]
