"""The cart page and its forms (add, update)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from shopd import http, unit_of_work
from shopd.cart import service as carts
from shopd.errors import DomainError
from shopd.http import DB, Conf
from shopd.web.pages.forms import form_int, read_form
from shopd.web.render import page, redirect


class CartPages(Controller):
    """The cart, for guests (by cookie) and customers."""

    include_in_schema = False

    @get("/cart")
    async def cart(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> Response[Any]:
        owner, _ = await http.cart_owner_for(request, db, create=False)
        async with db.read() as session:
            view = await carts.view(session, settings, owner)
        return await page(
            request, db, settings, "cart.html", cart=view, error=request.query_params.get("error")
        )

    @post("/cart/add")
    async def cart_add(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await read_form(request)
        owner, token = await http.cart_owner_for(request, db, create=True)
        assert owner is not None
        cookies = [http.cart_cookie(settings, token)] if token else []
        back = form.get("back", "/cart")
        try:
            await unit_of_work.run(
                db,
                lambda s: carts.add_item(
                    s,
                    settings,
                    owner,
                    form.get("sku", ""),
                    form_int(form.get("quantity")),
                    new_owner=token is not None,
                ),
            )
        except DomainError as exc:
            target = back if back.startswith("/p/") else "/cart"
            return redirect(f"{target}?error={exc.code}", cookies)
        group = form_int(form.get("group"), 0)
        return redirect(f"/checkout?group={group}" if group > 0 else "/cart", cookies)

    @post("/cart/update")
    async def cart_update(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await read_form(request)
        owner, _ = await http.cart_owner_for(request, db, create=False)
        if owner is not None:
            try:
                sku, quantity = form.get("sku", ""), form_int(form.get("quantity"), 0)
                if form.get("remove") or quantity == 0:
                    await unit_of_work.run(db, lambda s: carts.remove_item(s, owner, sku))
                else:
                    await unit_of_work.run(
                        db, lambda s: carts.set_quantity(s, settings, owner, sku, quantity)
                    )
            except DomainError as exc:
                return redirect(f"/cart?error={exc.code}")
        return redirect("/cart")
