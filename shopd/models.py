"""Imports every area's tables so ``Base.metadata`` is complete (Alembic, tests)."""

from shopd.cart.models import Cart, CartItem
from shopd.catalog.models import Category, Product, Series, Sku
from shopd.customers.models import Address, Customer, CustomerSession
from shopd.db import Base
from shopd.inventory.models import StockLevel, StockMovement
from shopd.orders.models import Order, OrderEvent, OrderLine
from shopd.staff.models import StaffSession, StaffUser

metadata = Base.metadata

__all__ = [
    "Address",
    "Cart",
    "CartItem",
    "Category",
    "Customer",
    "CustomerSession",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Product",
    "Series",
    "Sku",
    "StaffSession",
    "StaffUser",
    "StockLevel",
    "StockMovement",
    "metadata",
]
