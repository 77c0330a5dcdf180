"""Registration, log-in/out, the customer's profile and addresses."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from shopd import http
from shopd.customers import password_reset, privacy, service, signup
from shopd.customers.models import Address, Customer
from shopd.customers.schemas import (
    AddressIn,
    AddressOut,
    CustomerOut,
    EraseIn,
    LoginIn,
    PasswordIn,
    ProfileIn,
    RegisterIn,
    ResetIn,
    ResetRequestIn,
    SessionOut,
)
from shopd.http import DB, Conf
from shopd.staff import throttle
from shopd.unit_of_work import committing


def customer_out(c: Customer) -> CustomerOut:
    return CustomerOut(email=c.email, name=c.name, phone=c.phone, created_at=c.created_at)


def address_out(a: Address) -> AddressOut:
    return AddressOut(
        id=a.id,
        recipient=a.recipient,
        phone=a.phone,
        country=a.country,
        region=a.region,
        city=a.city,
        line1=a.line1,
        line2=a.line2,
        postcode=a.postcode,
        is_default=a.is_default,
    )


def address_data(data: JSONBody[AddressIn]) -> service.AddressData:
    return service.AddressData(
        recipient=data.recipient,
        phone=data.phone,
        region=data.region,
        city=data.city,
        line1=data.line1,
        line2=data.line2,
        postcode=data.postcode,
        country=data.country,
    )


async def _log_in(
    request: Request[Any, Any, Any],
    db: DB,
    settings: Conf,
    customer_id: int,
    status_code: int,
) -> Response[SessionOut]:
    customer, token, expires, cookies = await http.open_customer_session(
        request, db, settings, customer_id
    )
    return Response(
        SessionOut(token=token, expires_at=expires, customer=customer_out(customer)),
        status_code=status_code,
        cookies=cookies,
    )


class CustomerController(Controller):
    path = "/api/v1"
    tags = ["customers"]

    @post("/customers", status_code=HTTP_201_CREATED)
    async def register(
        self, request: Request[Any, Any, Any], data: JSONBody[RegisterIn], db: DB, settings: Conf
    ) -> Response[SessionOut]:
        """Create an account and log it in."""
        customer = await signup.sign_up(
            db,
            settings,
            email=data.email,
            password=data.password,
            name=data.name,
            phone=data.phone,
            ip=http.client_ip(request),
        )
        return await _log_in(request, db, settings, customer.id, HTTP_201_CREATED)

    @post("/session", status_code=200)
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], db: DB, settings: Conf
    ) -> Response[SessionOut]:
        """Log in; repeated failures lock the e-mail and the address for a while
        (``too_many_attempts``, 429), whether the account exists or not."""
        customer = await throttle.guarded(
            db,
            settings,
            scope="customer",
            name=data.email,
            ip=http.client_ip(request),
            attempt=lambda s: service.authenticate(s, data.email, data.password),
        )
        return await _log_in(request, db, settings, customer.id, 200)

    @post("/password-reset", status_code=HTTP_202_ACCEPTED)
    async def ask_password_reset(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ResetRequestIn],
        db: DB,
        settings: Conf,
    ) -> None:
        """Mail a link to set a new password, if the address has an account (the answer is
        the same either way). A few per address and hour, then ``too_many_attempts``."""
        await throttle.counted(
            db, settings, scope="reset", name=data.email, ip=http.client_ip(request)
        )
        async with committing(db) as session:
            await password_reset.request_reset(session, settings, data.email)

    @post("/password-reset/confirm", status_code=HTTP_204_NO_CONTENT)
    async def reset_password(self, data: JSONBody[ResetIn], db: DB) -> None:
        """Set the new password with the mailed token: once, before it expires
        (``invalid_reset_token``); every session of the account ends."""
        async with committing(db) as session:
            await password_reset.reset_password(session, data.token, data.password)

    @delete("/session", status_code=HTTP_204_NO_CONTENT)
    async def logout(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[None]:
        token = http.customer_token(request)
        if token:
            async with committing(db) as session:
                await service.end_session(session, token)
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[http.expired_cookie(settings, http.SESSION_COOKIE)],
        )

    @get("/me/data")
    async def my_data(self, request: Request[Any, Any, Any], db: DB) -> dict[str, Any]:
        """Everything the shop keeps about the caller: account, addresses, orders with their
        lines, reviews, guestbook messages, points, newsletter subscription."""
        me = await http.require_customer(request, db)
        async with db.read() as session:
            return await privacy.export(session, me)

    @post("/me/erase", status_code=HTTP_204_NO_CONTENT)
    async def erase_me(
        self, request: Request[Any, Any, Any], data: JSONBody[EraseIn], db: DB, settings: Conf
    ) -> Response[None]:
        """Erase the account (the password again): orders stay for the accounts with the
        personal fields blanked; refused while an order still needs the address
        (``orders_in_progress``)."""
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            customer = await session.get(Customer, me.id, with_for_update=True)
            assert customer is not None
            await privacy.erase(session, customer, data.password)
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[http.expired_cookie(settings, http.SESSION_COOKIE)],
        )

    @get("/me")
    async def me(self, request: Request[Any, Any, Any], db: DB) -> CustomerOut:
        return customer_out(await http.require_customer(request, db))

    @patch("/me")
    async def update_me(
        self, request: Request[Any, Any, Any], data: JSONBody[ProfileIn], db: DB
    ) -> CustomerOut:
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            customer = await session.get(Customer, me.id)
            assert customer is not None
            await service.update_profile(
                session, customer, service.ProfileChange(name=data.name, phone=data.phone)
            )
        return customer_out(customer)

    @post("/me/password", status_code=HTTP_204_NO_CONTENT)
    async def change_password(
        self, request: Request[Any, Any, Any], data: JSONBody[PasswordIn], db: DB
    ) -> None:
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            customer = await session.get(Customer, me.id)
            assert customer is not None
            await service.change_password(
                session,
                customer,
                data.current_password,
                data.new_password,
                keep_token=http.customer_token(request),
            )

    @get("/me/addresses")
    async def addresses(self, request: Request[Any, Any, Any], db: DB) -> list[AddressOut]:
        me = await http.require_customer(request, db)
        async with db.read() as session:
            return [address_out(a) for a in await service.addresses(session, me.id)]

    @post("/me/addresses", status_code=HTTP_201_CREATED)
    async def add_address(
        self, request: Request[Any, Any, Any], data: JSONBody[AddressIn], db: DB
    ) -> AddressOut:
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            address = await service.add_address(
                session, me.id, address_data(data), make_default=data.is_default
            )
        return address_out(address)

    @put("/me/addresses/{address_id:int}")
    async def update_address(
        self,
        request: Request[Any, Any, Any],
        address_id: FromPath[int],
        data: JSONBody[AddressIn],
        db: DB,
    ) -> AddressOut:
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            address = await service.update_address(session, me.id, address_id, address_data(data))
            if data.is_default:
                await service.set_default_address(session, me.id, address_id)
        return address_out(address)

    @delete("/me/addresses/{address_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def delete_address(
        self, request: Request[Any, Any, Any], address_id: FromPath[int], db: DB
    ) -> None:
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            await service.delete_address(session, me.id, address_id)
