"""Storefront pages: catalog, cart, checkout, order inquiry, accounts, service center, guestbook,
reviews, compare, newsletter. Thin: each calls the same services as the JSON API."""

from __future__ import annotations

import hmac
import math
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery, PathParameter, QueryParameter

from shopd import http, security
from shopd.analytics.counter import search_key
from shopd.cart import quotes
from shopd.cart import service as carts
from shopd.catalog import service as catalog
from shopd.catalog.cache import CatalogCache, reads
from shopd.config import Settings
from shopd.content import service as content
from shopd.customers import membership, password_reset, privacy, signup
from shopd.customers import service as customers
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import DomainError, NotFound
from shopd.http import DB, Conf
from shopd.orders import lifecycle, payments
from shopd.orders import service as orders
from shopd.orders.api import OrderNumber
from shopd.orders.lifecycle import get_order
from shopd.staff import shop_settings, throttle
from shopd.validation import local_path
from shopd.web import i18n
from shopd.web.render import page, redirect

PER_PAGE = 24
SORTS = ("newest", "price_asc", "price_desc", "best_selling")
Slug = Annotated[str, PathParameter(max_length=160)]
PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]
ADDRESS_FIELDS = ("recipient", "phone", "region", "city", "line1", "line2", "postcode")


def _field_errors(exc: DomainError) -> dict[str, str]:
    field = str(exc.details.get("field") or "") or {
        "invalid_email": "email",
        "email_taken": "email",
        "invalid_phone": "phone",
        "weak_password": "password",
        "invalid_credentials": "password",
        "too_many_attempts": "password",
        "invalid_payment_method": "payment_method",
        "insufficient_points": "points",
        "points_need_account": "points",
    }.get(exc.code, "coupon" if exc.code.startswith("coupon") else "form")
    return {field: exc.message}


def order_link_token(settings: Settings, number: str) -> str:
    """Lets the browser that placed an order see its confirmation without logging in."""
    key = settings.effective_secret_key().encode()
    return hmac.new(key, f"order:{number}".encode(), "sha256").hexdigest()[:32]


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}


def _int(value: str | None, default: int = 1) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


async def _account_page(
    request: Request[Any, Any, Any],
    db: Database,
    settings: Settings,
    customer_id: int,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response[Any]:
    async with db.read() as session:
        my_orders, _ = await orders.customer_orders(session, customer_id, page=1, per_page=50)
        saved = await customers.addresses(session, customer_id)
        me = await session.get(Customer, customer_id)
        assert me is not None
        standing = await membership.standing(session, me)
        points, _levels = await membership.history(session, customer_id, limit=20)
    extra = {"form": form} if form is not None else {}
    return await page(
        request,
        db,
        settings,
        "account.html",
        status=status,
        orders=my_orders,
        addresses=saved,
        standing=standing,
        points=points,
        errors=errors or {},
        notice=notice,
        **extra,
    )


async def _guestbook_page(
    request: Request[Any, Any, Any],
    db: Database,
    settings: Settings,
    page_no: int,
    *,
    posted: bool = False,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[Any]:
    async with db.read() as session:
        entries, total = await content.guestbook(session, page=page_no)
    return await page(
        request,
        db,
        settings,
        "guestbook.html",
        status=status,
        entries=entries,
        total=total,
        page_no=page_no,
        pages=max(math.ceil(total / 20), 1),
        form=form or {},
        errors=errors or {},
        topics=content.TOPICS,
        posted=posted,
    )


class StorefrontController(Controller):
    include_in_schema = False

    # Catalog --------------------------------------------------------------------------------

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> Response[Any]:
        async def load() -> dict[str, Any]:
            async with db.read() as session:
                hide = await shop_settings.get(session, "hide_sold_out")  # one read for both
                featured, _ = await catalog.list_products(
                    session, per_page=8, sort="best_selling", hide_sold_out=hide
                )
                newest, _ = await catalog.list_products(
                    session, per_page=8, sort="newest", hide_sold_out=hide
                )
                news = await content.announcements(session)
            return {
                "featured": featured,
                "newest": newest,
                "announcements": [(a, content.render_markdown(a.body)) for a in news],
            }

        lists = await CatalogCache.of(request.app.state).short.get(("home",), load)
        return await page(request, db, settings, "home.html", cacheable=True, **lists)

    async def _listing(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        settings: Settings,
        *,
        q: str | None,
        category: str | None,
        page_no: int,
        sort: str,
        title: str,
    ) -> Response[Any]:
        sort = sort if sort in SORTS else "newest"
        items, total = await reads.listing(
            CatalogCache.of(request.app.state),
            q=q,
            category=category,
            page=page_no,
            per_page=PER_PAGE,
            sort=sort,  # type: ignore[arg-type]
        )
        if q:
            seen = [("search", search_key(q))]
            if total == 0:
                seen.append(("search_empty", search_key(q)))
        else:
            seen = [("category", category)] if category else []
        return await page(
            request,
            db,
            settings,
            "listing.html",
            cacheable=True,
            seen=seen,
            items=items,
            total=total,
            page_no=page_no,
            pages=max(math.ceil(total / PER_PAGE), 1),
            sort=sort,
            sorts=SORTS,
            title=title,
            q=q or "",
            category=category,
        )

    @get("/c/{slug:str}")
    async def category(
        self,
        request: Request[Any, Any, Any],
        slug: Slug,
        db: DB,
        settings: Conf,
        page_no: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
        sort: FromQuery[str] = "newest",
    ) -> Response[Any]:
        tree = await reads.category_tree(CatalogCache.of(request.app.state))
        names = {s.slug: s.name for s, _ in tree} | {
            c.slug: c.name for _, cats in tree for c, _n in cats
        }
        if slug not in names:
            raise NotFound("no such category", code="category_not_found")
        return await self._listing(
            request,
            db,
            settings,
            q=None,
            category=slug,
            page_no=page_no,
            sort=sort,
            title=names[slug],
        )

    @get("/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        q: Annotated[str, QueryParameter(max_length=catalog.MAX_QUERY_LENGTH)] = "",
        page_no: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
        sort: FromQuery[str] = "newest",
    ) -> Response[Any]:
        q = q.strip()
        return await self._listing(
            request, db, settings, q=q or None, category=None, page_no=page_no, sort=sort, title=q
        )

    @get("/p/{slug:str}")
    async def product(
        self, request: Request[Any, Any, Any], slug: Slug, db: DB, settings: Conf
    ) -> Response[Any]:
        customer = await http.current_customer(request, db)
        cache = CatalogCache.of(request.app.state)
        percent = await reads.member_percent(cache, customer)
        # Shared with the product API, by everyone who pays the same.
        offer = await reads.product_offer(cache, slug, percent, settings)
        detail = offer.detail
        texts = await reads.product_texts(cache, detail.product)
        shown = {
            "d": detail,
            "groups": offer.group_buys,
            "more": offer.suggestions,
            "reviews": texts.reviews,
            "rating": texts.rating,
            "description": texts.description,
            "first_available": next((v.sku.code for v in detail.skus if v.available > 0), None),
        }
        can_review = False
        if customer:
            async with db.read() as session:
                can_review = await content.has_bought(session, customer.id, shown["d"].product.id)
        return await page(
            request,
            db,
            settings,
            "product.html",
            cacheable=True,
            seen=[("product", slug)],
            can_review=can_review,
            error=request.query_params.get("error", ""),
            **shown,
        )

    @post("/p/{slug:str}/reviews")
    async def review(
        self, request: Request[Any, Any, Any], slug: Slug, db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        customer = await http.current_customer(request, db)
        if customer is None:
            return redirect(f"/account/login?next=/p/{slug}")
        async with db.write() as session:
            detail = await catalog.get_product(
                session, slug, hide_sold_out=False, settings=settings
            )
            me = await session.get(Customer, customer.id)
            assert me is not None
            try:
                await content.add_review(
                    session,
                    me,
                    detail.product,
                    rating=_int(form.get("rating"), 0),
                    body=form.get("body", ""),
                )
            except DomainError as exc:
                return redirect(f"/p/{slug}?error={exc.code}#reviews")
            await session.commit()
        return redirect(f"/p/{slug}#reviews")

    @get("/compare")
    async def compare(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        p: Annotated[list[str] | None, QueryParameter(max_items=8)] = None,
    ) -> Response[Any]:
        """Up to four products side by side."""
        found = []
        async with db.read() as session:
            for slug in list(dict.fromkeys(p or []))[:4]:
                try:
                    found.append(
                        await catalog.get_product(
                            session, slug[:160], hide_sold_out=False, settings=settings
                        )
                    )
                except NotFound:
                    continue
        return await page(request, db, settings, "compare.html", products=found)

    # Cart and checkout ----------------------------------------------------------------------

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
        form = await _form(request)
        owner, token = await http.cart_owner_for(request, db, create=True)
        assert owner is not None
        cookies = [http.cart_cookie(settings, token)] if token else []
        back = form.get("back", "/cart")
        try:
            await db.transaction(
                lambda s: carts.add_item(
                    s,
                    settings,
                    owner,
                    form.get("sku", ""),
                    _int(form.get("quantity")),
                    new_owner=token is not None,
                )
            )
        except DomainError as exc:
            target = back if back.startswith("/p/") else "/cart"
            return redirect(f"{target}?error={exc.code}", cookies)
        group = _int(form.get("group"), 0)
        return redirect(f"/checkout?group={group}" if group > 0 else "/cart", cookies)

    @post("/cart/update")
    async def cart_update(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        owner, _ = await http.cart_owner_for(request, db, create=False)
        if owner is not None:
            try:
                sku, quantity = form.get("sku", ""), _int(form.get("quantity"), 0)
                if form.get("remove") or quantity == 0:
                    await db.transaction(lambda s: carts.remove_item(s, owner, sku))
                else:
                    await db.transaction(
                        lambda s: carts.set_quantity(s, settings, owner, sku, quantity)
                    )
            except DomainError as exc:
                return redirect(f"/cart?error={exc.code}")
        return redirect("/cart")

    async def _checkout_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        settings: Settings,
        form: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
    ) -> Response[Any]:
        """The checkout form with the price as it stands: member prices, the group price when
        joining one, the coupon and points typed in (an unusable coupon is named and left out)."""
        owner, _ = await http.cart_owner_for(request, db, create=False)
        customer = await http.current_customer(request, db)
        async with db.read() as session:
            view = await carts.view(session, settings, owner)
            if not view.lines:
                return redirect("/cart")
            me = await session.get(Customer, customer.id) if customer else None
            codes = [form["coupon"]] if form.get("coupon", "").strip() else []
            group = _int(form.get("group_buy"), 0) or None
            points = max(_int(form.get("points"), 0), 0)
            quote = None
            for _ in range(3):
                try:
                    quote = await quotes.quote_for(
                        session,
                        settings,
                        owner,
                        me,
                        codes=codes,
                        points=points,
                        group_id=group,
                        payment_method=form.get("payment_method", "bank_transfer"),
                    )
                    break
                except DomainError as exc:
                    # Named beside its field; the price is shown without what was at fault.
                    if exc.code.startswith(("coupon", "too_many")):
                        errors.setdefault("coupon", exc.message)
                        codes = []
                    elif "points" in exc.code:
                        errors.setdefault("points", exc.message)
                        points = 0
                    elif exc.code.startswith("group_buy") and group is not None:
                        errors.setdefault("form", exc.message)
                        group = None
                    else:
                        errors.setdefault("form", exc.message)
                        break
        if group is None:
            form.pop("group_buy", None)
        if quote is not None:
            form["expected_total"] = str(quote.quote.total)
        return await page(
            request,
            db,
            settings,
            "checkout.html",
            status=status,
            cart=view,
            quote=quote,
            points_balance=me.points if me else None,
            form=form,
            errors=errors,
            methods=orders.PAYMENT_METHODS,
        )

    @get("/checkout")
    async def checkout_form(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        group: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[Any]:
        customer = await http.current_customer(request, db)
        # A fresh key per checkout form: a double click or a resent form places one order.
        form: dict[str, str] = {
            "payment_method": "bank_transfer",
            "idempotency_key": security.new_token()[:40],
        }
        if group:
            form["group_buy"] = str(group)
        if customer:
            form["email"] = customer.email
            async with db.read() as session:
                saved = await customers.addresses(session, customer.id)
            default = next((a for a in saved if a.is_default), saved[0] if saved else None)
            if default:
                form |= {f: getattr(default, f) for f in ADDRESS_FIELDS}
        return await self._checkout_page(request, db, settings, form, {})

    @post("/checkout")
    async def checkout(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        customer = await http.current_customer(request, db)
        owner = http.cart_owner(request, customer)
        if owner is None:
            return redirect("/cart")
        if form.get("apply"):
            # "Apply" recalculates with the coupon and points typed in; nothing is placed.
            form.pop("apply")
            return await self._checkout_page(request, db, settings, form, {})
        data = orders.CheckoutData(
            payment_method=form.get("payment_method", ""),
            email=form.get("email") or None,
            phone=form.get("phone") or None,
            address=customers.AddressData(
                **{f: form.get(f, "") for f in ADDRESS_FIELDS}, country="CN"
            ),
            note=form.get("note", ""),
            coupons=[form["coupon"]] if form.get("coupon", "").strip() else [],
            points=max(_int(form.get("points"), 0), 0),
            group_buy=_int(form.get("group_buy"), 0) or None,
            expected_total=_int(form.get("expected_total"), -1)
            if form.get("expected_total")
            else None,
        )
        try:
            async with db.write() as session:
                me = await session.get(Customer, customer.id) if customer else None
                order, _ = await orders.checkout(
                    session,
                    settings,
                    owner,
                    data,
                    # The form's hidden key makes a double click place one order.
                    idempotency_key=form.get("idempotency_key") or None,
                    request_fingerprint=form.get("idempotency_key", ""),
                    customer=me,
                )
        except DomainError as exc:
            return await self._checkout_page(
                request, db, settings, form, _field_errors(exc), status=400
            )
        token = order_link_token(settings, order.number)
        return redirect(f"/order/{order.number}/placed?t={token}")

    @get("/order/{number:str}/placed")
    async def placed(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
        t: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Response[Any]:
        if not hmac.compare_digest(t, order_link_token(settings, number)):
            raise NotFound("no such order", code="order_not_found")
        async with db.read() as session:
            order = await get_order(session, number)
        return await page(request, db, settings, "placed.html", order=order, request_token=t)

    @post("/order/{number:str}/pay")
    async def pay(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        """The confirmation page's "pay now": off to the gateway's page."""
        form = await _form(request)
        if not hmac.compare_digest(form.get("t", ""), order_link_token(settings, number)):
            raise NotFound("no such order", code="order_not_found")
        payment = await payments.card_checkout(db, settings, lambda s: get_order(s, number))
        return redirect(payment.redirect_url or "/")

    @get("/inquiry")
    async def inquiry(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        number: Annotated[str, QueryParameter(max_length=32)] = "",
        contact: Annotated[str, QueryParameter(max_length=254)] = "",
    ) -> Response[Any]:
        order, not_found = None, False
        if number and contact:
            by = {"email": contact} if "@" in contact else {"phone": contact}
            try:
                async with db.read() as session:
                    order = await orders.inquire(session, number, **by)
            except DomainError:
                not_found = True
        return await page(
            request,
            db,
            settings,
            "inquiry.html",
            order=order,
            not_found=not_found,
            number=number,
            contact=contact,
        )

    # Accounts --------------------------------------------------------------------------------

    async def _log_in(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        settings: Settings,
        customer_id: int,
        next_url: str,
    ) -> Response[Any]:
        *_, cookies = await http.open_customer_session(request, db, settings, customer_id)
        return redirect(local_path(next_url, "/account"), cookies)

    @get("/account/register")
    async def register_form(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        return await page(request, db, settings, "register.html", form={}, errors={})

    @post("/account/register")
    async def register(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        try:
            customer = await signup.sign_up(
                db,
                settings,
                email=form.get("email", ""),
                password=form.get("password", ""),
                name=form.get("name", ""),
                phone=form.get("phone") or None,
                ip=http.client_ip(request),
            )
        except DomainError as exc:
            form.pop("password", None)
            return await page(
                request,
                db,
                settings,
                "register.html",
                status=400,
                form=form,
                errors=_field_errors(exc),
            )
        return await self._log_in(request, db, settings, customer.id, "/account")

    @get("/account/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        next_url: Annotated[str, QueryParameter(name="next", max_length=200)] = "/account",
    ) -> Response[Any]:
        return await page(request, db, settings, "login.html", form={"next": next_url}, errors={})

    @post("/account/login")
    async def login(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> Response[Any]:
        form = await _form(request)
        email, password = form.get("email", ""), form.get("password", "")
        try:
            customer = await throttle.guarded(
                db,
                settings,
                scope="customer",
                name=email,
                ip=http.client_ip(request),
                attempt=lambda s: customers.authenticate(s, email, password),
            )
        except DomainError as exc:
            form.pop("password", None)
            return await page(
                request,
                db,
                settings,
                "login.html",
                status=exc.status_code if exc.status_code == 429 else 400,
                form=form,
                errors=_field_errors(exc),
            )
        return await self._log_in(request, db, settings, customer.id, form.get("next", "/account"))

    @get("/account/forgot")
    async def forgot_form(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        return await page(request, db, settings, "forgot.html", form={}, errors={})

    @post("/account/forgot")
    async def forgot(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        email = form.get("email", "")[:254]
        try:
            await throttle.counted(
                db, settings, scope="reset", name=email, ip=http.client_ip(request)
            )
        except DomainError as exc:
            return await page(
                request, db, settings, "forgot.html", status=429, form=form,
                errors={"email": exc.message},
            )  # fmt: skip
        async with db.write() as session:
            await password_reset.request_reset(session, settings, email)
            await session.commit()
        # The same answer whether the address has an account or not.
        return await page(
            request, db, settings, "notice.html",
            message="If the address has an account, a link to set a new password is on its way.",
        )  # fmt: skip

    @get("/account/reset")
    async def reset_form(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        t: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Response[Any]:
        return await page(request, db, settings, "reset.html", token=t, errors={})

    @post("/account/reset")
    async def reset(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> Response[Any]:
        form = await _form(request)
        token = form.get("t", "")[:200]
        try:
            async with db.write() as session:
                await password_reset.reset_password(session, token, form.get("password", ""))
                await session.commit()
        except DomainError as exc:
            return await page(
                request, db, settings, "reset.html", status=400, token=token,
                errors={"password": exc.message},
            )  # fmt: skip
        return await page(
            request, db, settings, "notice.html",
            message="Your new password is set. Log in with it.",
        )  # fmt: skip

    @get("/account/data")
    async def my_data(self, request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        me = await http.current_customer(request, db)
        if me is None:
            return redirect("/account/login?next=/account")
        async with db.read() as session:
            data = await privacy.export(session, me)
        return Response(
            data,
            media_type=MediaType.JSON,
            headers={
                "Content-Disposition": 'attachment; filename="my-shop-data.json"',
                "Cache-Control": "private, no-store",
            },
        )

    @post("/account/erase")
    async def erase(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> Response[Any]:
        me = await http.current_customer(request, db)
        if me is None:
            return redirect("/account/login?next=/account")
        form = await _form(request)
        try:
            async with db.write() as session:
                customer = await session.get(Customer, me.id, with_for_update=True)
                assert customer is not None
                await privacy.erase(session, customer, form.get("password", ""))
                await session.commit()
        except DomainError as exc:
            return await _account_page(
                request, db, settings, me.id, errors={"erase": exc.message}, status=400
            )
        return await page(
            request, db, settings, "notice.html",
            message="Your account is erased.",
            cookies=[http.expired_cookie(settings, http.SESSION_COOKIE)],
        )  # fmt: skip

    @post("/account/logout")
    async def logout(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        token = http.customer_token(request)
        if token:
            async with db.write() as session:
                await customers.end_session(session, token)
                await session.commit()
        return redirect("/", [http.expired_cookie(settings, http.SESSION_COOKIE)])

    @get("/account")
    async def account(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        me = await http.current_customer(request, db)
        if me is None:
            return redirect("/account/login?next=/account")
        notice = request.query_params.get("notice", "")
        return await _account_page(request, db, settings, me.id, notice=notice)

    @post("/account/{what:str}")
    async def account_change(
        self,
        request: Request[Any, Any, Any],
        what: Annotated[str, PathParameter(max_length=20)],
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        """Profile, password and address changes from the account page."""
        me = await http.current_customer(request, db)
        if me is None:
            return redirect("/account/login?next=/account")
        form = await _form(request)
        try:
            async with db.write() as session:
                customer = await session.get(Customer, me.id)
                assert customer is not None
                if what == "profile":
                    await customers.update_profile(
                        session,
                        customer,
                        customers.ProfileChange(
                            name=form.get("name", ""), phone=form.get("phone", "")
                        ),
                    )
                elif what == "password":
                    await customers.change_password(
                        session,
                        customer,
                        form.get("current_password", ""),
                        form.get("new_password", ""),
                        keep_token=http.customer_token(request),
                    )
                elif what == "address":
                    await customers.add_address(
                        session,
                        customer.id,
                        customers.AddressData(
                            **{f: form.get(f, "") for f in ADDRESS_FIELDS}, country="CN"
                        ),
                        make_default=bool(form.get("is_default")),
                    )
                elif what == "address-delete":
                    await customers.delete_address(session, customer.id, _int(form.get("id"), 0))
                else:
                    raise NotFound("no such page", code="not_found")
                await session.commit()
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.code == "not_found":
                raise
            return await _account_page(
                request, db, settings, me.id, errors={what: exc.message}, form=form, status=400
            )
        return redirect(f"/account?notice={what}")

    @get("/account/orders/{number:str}")
    async def my_order(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        me = await http.current_customer(request, db)
        if me is None:
            return redirect(f"/account/login?next=/account/orders/{number}")
        async with db.read() as session:
            order = await orders.customer_order(session, me.id, number)
        return await page(request, db, settings, "order.html", order=order)

    @post("/account/orders/{number:str}/cancel")
    async def cancel_my_order(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        me = await http.current_customer(request, db)
        if me is None:
            return redirect(f"/account/login?next=/account/orders/{number}")
        async with db.write() as session:
            await lifecycle.customer_cancel(session, settings, me.id, number)
            await session.commit()
        return redirect(f"/account/orders/{number}")

    # Service center, guestbook, newsletter, language --------------------------------------------

    @get("/help")
    async def help_index(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        async with db.read() as session:
            all_pages = await content.pages(session)
        return await page(request, db, settings, "help.html", pages=all_pages, current=None)

    @get("/help/{slug:str}")
    async def help_page(
        self,
        request: Request[Any, Any, Any],
        slug: Annotated[str, PathParameter(max_length=64)],
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        async with db.read() as session:
            all_pages = await content.pages(session)
            current = await content.page(session, slug)
        return await page(
            request,
            db,
            settings,
            "help.html",
            cacheable=True,
            seen=[("topic", slug)],
            pages=all_pages,
            current=current,
            body=content.render_markdown(current.body),
        )

    @get("/guestbook")
    async def guestbook(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        page_no: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
    ) -> Response[Any]:
        posted = request.query_params.get("posted") == "1"
        return await _guestbook_page(request, db, settings, page_no, posted=posted)

    @post("/guestbook")
    async def guestbook_post(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        customer = await http.current_customer(request, db)
        try:
            async with db.write() as session:
                await content.post_message(
                    session,
                    topic=form.get("topic", ""),
                    author=form.get("author", ""),
                    body=form.get("body", ""),
                    customer=customer,
                    ip=http.client_ip(request),
                )
                await session.commit()
        except DomainError as exc:
            return await _guestbook_page(
                request, db, settings, 1, form=form, errors=_field_errors(exc), status=400
            )
        return redirect("/guestbook?posted=1")

    @post("/newsletter")
    async def newsletter(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await _form(request)
        lang = i18n.choose(request.cookies.get(i18n.LANG_COOKIE), None, settings.language)
        try:
            async with db.write() as session:
                await content.subscribe(session, settings, form.get("email", ""), lang)
                await session.commit()
        except DomainError as exc:
            return await page(request, db, settings, "notice.html", status=400, message=exc.message)
        return await page(
            request,
            db,
            settings,
            "notice.html",
            message="Check your mailbox to confirm the subscription.",
        )

    @get("/newsletter/{action:str}/{token:str}")
    async def newsletter_link(
        self,
        request: Request[Any, Any, Any],
        action: Annotated[str, PathParameter(max_length=16)],
        token: Annotated[str, PathParameter(max_length=64)],
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        acts = {
            "confirm": (content.confirm, "Your subscription is confirmed."),
            "unsubscribe": (content.unsubscribe, "You are unsubscribed."),
        }
        if action not in acts:
            raise NotFound("no such page", code="not_found")
        change, message = acts[action]
        if http.is_head(request):
            # A mail scanner looking at the link on its reader's behalf: the same answer (an
            # unknown link is a 404 here too), and nothing changes, as a read session is
            # rolled back, never committed.
            async with db.read() as session:
                await change(session, token)
        else:
            async with db.write() as session:
                await change(session, token)
                await session.commit()
        return await page(request, db, settings, "notice.html", message=message)

    @get("/lang/{code:str}")
    async def language(
        self,
        code: Annotated[str, PathParameter(max_length=8)],
        next_url: Annotated[str, QueryParameter(name="next", max_length=300)] = "/",
    ) -> Response[Any]:
        if code not in i18n.LANGUAGES:
            raise NotFound("no such language", code="not_found")
        return redirect(
            local_path(next_url),
            [Cookie(key=i18n.LANG_COOKIE, value=code, max_age=365 * 86400, samesite="lax")],
        )
