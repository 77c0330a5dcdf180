"""Opening an account, with the one answer that tells who has an account kept rare.

"This e-mail address has an account already" is the honest answer to a registration, and
also a way to find out who shops here. Each such answer counts against the address asked for
and the client's address, like a failed log-in (``shopd.staff.throttle``): past the log-in
limits registration is refused for a while, so a list of addresses cannot be checked one
after another.
"""

from __future__ import annotations

from shopd.config import Settings
from shopd.customers import service
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import Conflict
from shopd.staff import throttle
from shopd.unit_of_work import committing

SCOPE = "register"


async def sign_up(
    db: Database,
    settings: Settings,
    *,
    email: str,
    password: str,
    name: str = "",
    phone: str | None = None,
    ip: str = "",
) -> Customer:
    await throttle.ensure_open(db, scope=SCOPE, name=email, ip=ip)
    password_hash = await service.new_password_hash(password)
    try:
        async with committing(db) as session:
            customer = await service.register(
                session, email=email, password_hash=password_hash, name=name, phone=phone, ip=ip
            )
    except Conflict as exc:
        if exc.code == "email_taken":
            await throttle.counted(db, settings, scope=SCOPE, name=email, ip=ip)
        raise
    return customer
