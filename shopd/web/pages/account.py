"""Accounts: register, log in and out, forgotten passwords, the account page (profile,
addresses, membership), my data and erasure, my orders."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter

from shopd import http
from shopd.config import Settings
from shopd.customers import membership, password_reset, privacy, signup
from shopd.customers import service as customers
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import DomainError, NotFound
from shopd.http import DB, Conf
from shopd.orders import lifecycle
from shopd.orders import service as orders
from shopd.orders.api import OrderNumber
from shopd.staff import throttle
from shopd.unit_of_work import committing
from shopd.validation import local_path
from shopd.web.pages.forms import ADDRESS_FIELDS, field_errors, form_int, read_form
from shopd.web.pages.order_view import order_extras
from shopd.web.render import language_of, page, redirect


async def account_page(
    request: Request[Any, Any, Any],
    db: Database,
    settings: Settings,
    customer_id: int,
    *,
    notice: str = "",
    errors: dict[str, DomainError | str] | None = None,
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


class AccountPages(Controller):
    """A customer's own pages."""

    include_in_schema = False

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
        form = await read_form(request)
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
                errors=field_errors(exc),
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
        form = await read_form(request)
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
                errors=field_errors(exc),
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
        form = await read_form(request)
        email = form.get("email", "")[:254]
        try:
            await throttle.counted(
                db, settings, scope="reset", name=email, ip=http.client_ip(request)
            )
        except DomainError as exc:
            return await page(
                request, db, settings, "forgot.html", status=429, form=form,
                errors={"email": exc},
            )  # fmt: skip
        async with committing(db) as session:
            await password_reset.request_reset(
                session, settings, email, language_of(request, settings)
            )
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
        form = await read_form(request)
        token = form.get("t", "")[:200]
        try:
            async with committing(db) as session:
                await password_reset.reset_password(session, token, form.get("password", ""))
        except DomainError as exc:
            return await page(
                request, db, settings, "reset.html", status=400, token=token,
                errors={"password": exc},
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
        form = await read_form(request)
        try:
            async with committing(db) as session:
                customer = await session.get(Customer, me.id, with_for_update=True)
                assert customer is not None
                await privacy.erase(session, customer, form.get("password", ""))
        except DomainError as exc:
            return await account_page(
                request, db, settings, me.id, errors={"erase": exc}, status=400
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
            async with committing(db) as session:
                await customers.end_session(session, token)
        return redirect("/", [http.expired_cookie(settings, http.SESSION_COOKIE)])

    @get("/account")
    async def account(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        me = await http.current_customer(request, db)
        if me is None:
            return redirect("/account/login?next=/account")
        notice = request.query_params.get("notice", "")
        return await account_page(request, db, settings, me.id, notice=notice)

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
        form = await read_form(request)
        try:
            async with committing(db) as session:
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
                    await customers.delete_address(
                        session, customer.id, form_int(form.get("id"), 0)
                    )
                else:
                    raise NotFound("no such page", code="not_found")
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.code == "not_found":
                raise
            return await account_page(
                request, db, settings, me.id, errors={what: exc}, form=form, status=400
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
            extras = await order_extras(session, settings, order)
        return await page(request, db, settings, "order.html", order=order, **extras)

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
        async with committing(db) as session:
            await lifecycle.customer_cancel(session, settings, me.id, number)
        return redirect(f"/account/orders/{number}")
