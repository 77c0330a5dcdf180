"""The cart: guests by cookie, customers by session; merged at log-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import http, unit_of_work
from shopd.cart import badge, quotes, service
from shopd.cart.models import Cart
from shopd.cart.schemas import CartItemIn, CartLineOut, CartOut, CartQuantityIn
from shopd.config import Settings
from shopd.customers import membership
from shopd.db import Database
from shopd.errors import NotFound
from shopd.http import DB, Conf
from shopd.promotions.schemas import AppliedOut, QuoteIn, QuoteLineOut, QuoteOut, sale_out

SkuPath = Annotated[str, PathParameter(max_length=64)]


def cart_out(view: service.CartView) -> CartOut:
    return CartOut(
        items=[
            CartLineOut(
                sku=line.sku.code,
                product_slug=line.product.slug,
                name=line.product.name,
                name_en=line.product.name_en,
                attributes={str(k): str(v) for k, v in line.sku.attributes.items()},
                image=line.product.images[0] if line.product.images else None,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                available=line.available,
                purchasable=line.purchasable,
                regular_price=line.regular_price,
                flash_sale=sale_out(line.sale) if line.sale else None,
                priced_by=line.priced_by,
            )
            for line in view.lines
        ],
        item_count=view.item_count,
        subtotal=view.subtotal,
        shipping_fee=view.shipping_fee,
        total=view.total,
        currency=view.currency,
    )


class CartController(Controller):
    path = "/api/v1/cart"
    tags = ["cart"]

    async def _reply(
        self,
        db: DB,
        settings: Conf,
        owner: service.CartOwner | None,
        new_token: str | None,
        status_code: int = 200,
    ) -> Response[CartOut]:
        async with db.read() as session:
            view = await service.view(session, settings, owner)
        return self._answer(settings, owner, view, new_token, status_code)

    async def _changed(
        self,
        db: Database,
        settings: Settings,
        owner: service.CartOwner,
        change: Callable[[AsyncSession], Awaitable[Cart | tuple[Cart, list[service.Line]]]],
        new_token: str | None = None,
    ) -> Response[CartOut]:
        """Run a cart change and answer with the cart priced in the same transaction (from
        the lines the change read and changed, when it gives them)."""

        async def changed(session: AsyncSession) -> service.CartView:
            done = await change(session)
            cart, lines = done if isinstance(done, tuple) else (done, None)
            return await service.view_of(session, settings, cart, owner, lines)

        return self._answer(settings, owner, await unit_of_work.run(db, changed), new_token)

    @staticmethod
    def _answer(
        settings: Settings,
        owner: service.CartOwner | None,
        view: service.CartView,
        new_token: str | None,
        status_code: int = 200,
    ) -> Response[CartOut]:
        cookies = [http.cart_cookie(settings, new_token)] if new_token else []
        # The pages' header shows this count from now on without counting again.
        count = badge.cookie(settings, owner, view.item_count) if owner else None
        if count is not None:
            cookies.append(count)
        return Response(cart_out(view), status_code=status_code, cookies=cookies)

    @get("/")
    async def show(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[CartOut]:
        owner, _ = await http.cart_owner_for(request, db, create=False)
        return await self._reply(db, settings, owner, None)

    @post("/items", status_code=200)
    async def add(
        self, request: Request[Any, Any, Any], data: JSONBody[CartItemIn], db: DB, settings: Conf
    ) -> Response[CartOut]:
        """Add a quantity of a SKU; refused with ``out_of_stock`` beyond what is available."""
        owner, new_token = await http.cart_owner_for(request, db, create=True)
        assert owner is not None
        return await self._changed(
            db,
            settings,
            owner,
            lambda s: service.add_item_lines(
                s, settings, owner, data.sku, data.quantity, new_owner=new_token is not None
            ),
            new_token,
        )

    @patch("/items/{sku:str}")
    async def change(
        self,
        request: Request[Any, Any, Any],
        sku: SkuPath,
        data: JSONBody[CartQuantityIn],
        db: DB,
        settings: Conf,
    ) -> Response[CartOut]:
        owner = await self._existing_owner(request, db, sku)
        return await self._changed(
            db,
            settings,
            owner,
            lambda s: service.set_quantity(s, settings, owner, sku, data.quantity),
        )

    @delete("/items/{sku:str}", status_code=200)
    async def remove(
        self, request: Request[Any, Any, Any], sku: SkuPath, db: DB, settings: Conf
    ) -> Response[CartOut]:
        owner = await self._existing_owner(request, db, sku)
        return await self._changed(
            db, settings, owner, lambda s: service.remove_item(s, owner, sku)
        )

    async def _existing_owner(
        self, request: Request[Any, Any, Any], db: DB, sku: str
    ) -> service.CartOwner:
        owner, _ = await http.cart_owner_for(request, db, create=False)
        if owner is None:
            raise NotFound(f"{sku!r} is not in the cart", code="not_in_cart", details={"sku": sku})
        return owner


def quote_out(priced: quotes.CartQuote, currency: str, level: str, percent: int) -> QuoteOut:
    q = priced.quote
    return QuoteOut(
        items=[
            QuoteLineOut(
                sku=line.sku.code,
                quantity=line.quantity,
                regular_price=line.regular_price,
                unit_price=line.unit_price,
                discount=quoted.discount,
                line_total=quoted.total,
                priced_by=line.priced_by,
            )
            for line, quoted in zip(priced.lines, q.lines, strict=True)
        ],
        subtotal=q.subtotal,
        discount=q.discount,
        shipping_fee=q.shipping_fee,
        total=q.total,
        currency=currency,
        applied=[AppliedOut(a.kind, a.code, a.amount) for a in q.applied],
        points_used=q.points_used,
        member_level=level,
        member_discount_percent=percent,
    )


class CartQuoteController(Controller):
    """The price of checking out the cart now; documented with the campaigns (its tag and
    path are the public contract), computed by the cart (shopd.cart.quotes)."""

    path = "/api/v1"
    tags = ["promotions"]

    @post("/cart/quote", status_code=200)
    async def quote(
        self, request: Request[Any, Any, Any], data: JSONBody[QuoteIn], db: DB, settings: Conf
    ) -> QuoteOut:
        """What checking out the cart now would charge with these coupons, points and (when
        joining one) group buy; refuses what checkout would refuse, with the same codes."""
        customer = await http.current_customer(request, db)
        owner = http.cart_owner(request, customer)
        async with db.read() as session:
            priced = await quotes.quote_for(
                session,
                settings,
                owner,
                customer,
                codes=data.coupons,
                points=data.points,
                group_id=data.group_buy,
            )
            level, percent = await membership.discount_of(
                session, customer.id if customer else None
            )
        return quote_out(priced, settings.currency, level, percent)
