"""Forgotten passwords: a link by e-mail that works once, for ``password_reset_minutes``.

Asking tells nobody whether the address has an account: the answer is the same, and a mail is
queued only for a real, active account. A new request replaces the account's earlier links;
using one sets the password and ends every session of the account.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security, translations
from shopd.config import Settings
from shopd.customers.models import Customer, CustomerSession, PasswordReset
from shopd.customers.service import check_password_strength
from shopd.db import utcnow
from shopd.errors import InvalidInput
from shopd.notifications.service import enqueue_mail
from shopd.validation import normalise_email

MAIL_KIND = "password_reset"


async def request_reset(
    session: AsyncSession, settings: Settings, email: str, language: str = ""
) -> None:
    try:
        email = normalise_email(email)
    except InvalidInput:
        return
    customer = await session.scalar(
        select(Customer).where(Customer.email == email, Customer.active.is_(True))
    )
    if customer is None:
        return
    await session.execute(
        delete(PasswordReset).where(
            PasswordReset.customer_id == customer.id, PasswordReset.used_at.is_(None)
        )
    )
    token = security.new_token()
    minutes = settings.password_reset_minutes
    session.add(
        PasswordReset(
            token_hash=security.token_digest(token),
            customer_id=customer.id,
            expires_at=utcnow() + dt.timedelta(minutes=minutes),
        )
    )
    link = f"{settings.public_url.rstrip('/')}/account/reset?{urlencode({'t': token})}"
    # In the language of the page that asked (else the shop's).
    _ = translations.translator(translations.language_or(language, settings.language))
    body = "\n\n".join(
        [
            _(
                "Someone (we hope you) asked to set a new password for {email} at {shop}.",
                email=email,
                shop=settings.shop_name,
            ),
            _("Set it here within {minutes} minutes; the link works once:", minutes=minutes)
            + f"\n{link}",
            _("If it was not you, do nothing: your password stays as it is."),
        ]
    )
    subject = _("{shop}: set a new password", shop=settings.shop_name)
    enqueue_mail(session, MAIL_KIND, email, subject, body + "\n")
    await session.flush()


async def reset_password(session: AsyncSession, token: str, password: str) -> Customer:
    reset = await session.get(
        PasswordReset, security.token_digest(token[:200]), with_for_update=True
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise InvalidInput(
            "this link has expired or was used already; ask for a new one",
            code="invalid_reset_token",
        )
    check_password_strength(password)
    customer = await session.get(Customer, reset.customer_id)
    if customer is None or not customer.active:
        raise InvalidInput("this account cannot log in", code="invalid_reset_token")
    customer.password_hash = await security.hashed(password)
    reset.used_at = utcnow()
    await session.execute(delete(CustomerSession).where(CustomerSession.customer_id == customer.id))
    await session.flush()
    return customer
