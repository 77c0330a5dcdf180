"""Customer accounts: registration, log-in sessions, profile, addresses, passwords."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security
from shopd.customers.models import Address, Customer, CustomerSession
from shopd.db import UTCDateTime, utcnow
from shopd.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from shopd.validation import clean_text, normalise_email, normalise_phone

MAX_ADDRESSES = 20


def check_password_strength(password: str) -> None:
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have at least {security.MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
        )
    if len(password) > security.MAX_PASSWORD_LENGTH:
        raise InvalidInput("the password is too long", code="invalid_password")


# Registrations from one address within an hour above this look scripted.
REGISTRATIONS_PER_IP_HOUR = 5
_LINKISH = ("http://", "https://", "www.", "://")


async def flag_reason(session: AsyncSession, name: str, ip: str) -> str:
    """Why a new registration should wait for a staff review, or "" when it looks normal."""
    lowered = name.lower()
    if any(mark in lowered for mark in _LINKISH):
        return "the name contains a link"
    if ip:
        recent = await session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(
                Customer.registered_ip == ip,
                Customer.created_at > utcnow() - dt.timedelta(hours=1),
            )
        )
        if (recent or 0) >= REGISTRATIONS_PER_IP_HOUR:
            return f"more than {REGISTRATIONS_PER_IP_HOUR} registrations from {ip} in an hour"
    return ""


async def new_password_hash(password: str) -> str:
    """A customer's new password, checked and hashed. Registration calls it before its
    transaction opens: argon2 takes tens of milliseconds, which a held connection (or
    SQLite's write lock) must not."""
    check_password_strength(password)
    return await security.hashed(password)


async def register(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    name: str = "",
    phone: str | None = None,
    ip: str = "",
) -> Customer:
    """A new account; ``password_hash`` comes from ``new_password_hash``."""
    email = normalise_email(email)
    name = clean_text(name, "name", max_length=120, required=False)
    reason = await flag_reason(session, name, ip)
    customer = Customer(
        email=email,
        password_hash=password_hash,
        name=name,
        phone=normalise_phone(phone) if phone else None,
        active=True,
        flagged=bool(reason),
        flag_reason=reason,
        registered_ip=ip[:45],
    )
    if await session.scalar(select(Customer.id).where(Customer.email == email)) is not None:
        raise Conflict("an account with this e-mail address exists already", code="email_taken")
    session.add(customer)
    await session.flush()
    return customer


async def authenticate(session: AsyncSession, email: str, password: str) -> Customer:
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    customer = await session.scalar(
        select(Customer).where(Customer.email == email, Customer.active.is_(True))
    )
    if not await security.verified(customer.password_hash if customer else None, password):
        raise NotAuthenticated("wrong e-mail address or password", code="invalid_credentials")
    assert customer is not None
    if security.needs_rehash(customer.password_hash):
        customer.password_hash = await security.hashed(password)
    return customer


async def start_session(
    session: AsyncSession, customer: Customer, days: int
) -> tuple[str, dt.datetime]:
    token = security.new_token()
    expires = utcnow() + dt.timedelta(days=days)
    session.add(
        CustomerSession(
            token_hash=security.token_digest(token), customer_id=customer.id, expires_at=expires
        )
    )
    await session.flush()
    return token, expires


# Asked on every request of a logged-in customer: built once, with bound parameters.
_BY_TOKEN = (
    select(Customer)
    .join(CustomerSession, CustomerSession.customer_id == Customer.id)
    .where(
        CustomerSession.token_hash == bindparam("token_hash"),
        CustomerSession.expires_at > bindparam("now", type_=UTCDateTime),
        Customer.active.is_(True),
    )
)


async def customer_for_token(session: AsyncSession, token: str) -> Customer | None:
    params = {"token_hash": security.token_digest(token), "now": utcnow()}
    return (await session.execute(_BY_TOKEN, params)).scalar_one_or_none()


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(CustomerSession).where(CustomerSession.token_hash == security.token_digest(token))
    )


@dataclass(slots=True)
class ProfileChange:
    name: str | None = None
    phone: str | None = None


async def update_profile(
    session: AsyncSession, customer: Customer, change: ProfileChange
) -> Customer:
    if change.name is not None:
        customer.name = clean_text(change.name, "name", max_length=120, required=False)
    if change.phone is not None:
        customer.phone = normalise_phone(change.phone) if change.phone.strip() else None
    await session.flush()
    return customer


async def change_password(
    session: AsyncSession, customer: Customer, current: str, new: str, keep_token: str | None
) -> None:
    """Changing the password signs out every other session of the account."""
    if not await security.verified(customer.password_hash, current):
        raise NotAuthenticated("the current password is wrong", code="invalid_credentials")
    customer.password_hash = await new_password_hash(new)
    stmt = delete(CustomerSession).where(CustomerSession.customer_id == customer.id)
    if keep_token:
        stmt = stmt.where(CustomerSession.token_hash != security.token_digest(keep_token))
    await session.execute(stmt)
    await session.flush()


@dataclass(slots=True)
class AddressData:
    recipient: str
    phone: str
    region: str
    city: str
    line1: str
    line2: str = ""
    postcode: str = ""
    country: str = "CN"

    def cleaned(self) -> AddressData:
        country = self.country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise InvalidInput(
                "country must be a two-letter code such as CN", code="invalid_country"
            )
        return AddressData(
            recipient=clean_text(self.recipient, "recipient", max_length=120),
            phone=normalise_phone(self.phone),
            region=clean_text(self.region, "region", max_length=120),
            city=clean_text(self.city, "city", max_length=120),
            line1=clean_text(self.line1, "line1", max_length=255),
            line2=clean_text(self.line2, "line2", max_length=255, required=False),
            postcode=clean_text(self.postcode, "postcode", max_length=20, required=False),
            country=country,
        )


async def addresses(session: AsyncSession, customer_id: int) -> list[Address]:
    rows = await session.execute(
        select(Address)
        .where(Address.customer_id == customer_id)
        .order_by(Address.is_default.desc(), Address.id)
    )
    return list(rows.scalars())


async def get_address(session: AsyncSession, customer_id: int, address_id: int) -> Address:
    # Someone else's address answers exactly like a missing one.
    address = await session.scalar(
        select(Address).where(Address.id == address_id, Address.customer_id == customer_id)
    )
    if address is None:
        raise NotFound("no such address", code="address_not_found")
    return address


async def add_address(
    session: AsyncSession, customer_id: int, data: AddressData, make_default: bool = False
) -> Address:
    count = await session.scalar(
        select(func.count()).select_from(Address).where(Address.customer_id == customer_id)
    )
    if (count or 0) >= MAX_ADDRESSES:
        raise Conflict(f"at most {MAX_ADDRESSES} addresses per account", code="too_many_addresses")
    d = data.cleaned()
    address = Address(customer_id=customer_id, **_fields(d))
    session.add(address)
    await session.flush()
    if make_default or not count:
        await set_default_address(session, customer_id, address.id)
    return address


async def update_address(
    session: AsyncSession, customer_id: int, address_id: int, data: AddressData
) -> Address:
    address = await get_address(session, customer_id, address_id)
    for key, value in _fields(data.cleaned()).items():
        setattr(address, key, value)
    await session.flush()
    return address


async def set_default_address(session: AsyncSession, customer_id: int, address_id: int) -> None:
    target = await get_address(session, customer_id, address_id)
    for address in await addresses(session, customer_id):
        address.is_default = address.id == target.id
    await session.flush()


async def delete_address(session: AsyncSession, customer_id: int, address_id: int) -> None:
    address = await get_address(session, customer_id, address_id)
    await session.delete(address)
    await session.flush()


def _fields(d: AddressData) -> dict[str, str]:
    return {
        "recipient": d.recipient,
        "phone": d.phone,
        "region": d.region,
        "city": d.city,
        "line1": d.line1,
        "line2": d.line2,
        "postcode": d.postcode,
        "country": d.country,
    }
