"""Passwords, opaque tokens and order numbers."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). argon2-cffi's default
# (64 MiB, 3 passes, 4 lanes) costs about 6 times the CPU (270 ms against 46 ms here), and a
# campaign's sign-ups and log-ins took that from every other shopper on a two-core app server.
# Older hashes still verify and are redone at the next log-in (``needs_rehash``).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A real hash to verify against when the account does not exist, so a wrong e-mail costs the
# same time as a wrong password and log-in cannot be used to find out who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the ones used now."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def hashed(password: str) -> str:
    """``hash_password`` off the event loop: argon2 takes tens of milliseconds of CPU by
    design, and a worker's other requests must not wait for a log-in (argon2 releases the GIL)."""
    return await asyncio.to_thread(hash_password, password)


async def verified(password_hash: str | None, password: str) -> bool:
    """``verify_password`` off the event loop, for the same reason as ``hashed``."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are stored hashed: a leaked table does not hand out sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# Crockford base32 without I, L, O, U: read aloud over the phone without confusion.
_ORDER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number(now: dt.datetime) -> str:
    """Date plus 10 random base32 characters (50 bits): not guessable, still sortable by day."""
    random_part = "".join(secrets.choice(_ORDER_ALPHABET) for _ in range(10))
    return f"{now:%Y%m%d}-{random_part}"


def order_token(secret_key: str, number: str) -> str:
    """What a link to one order's page carries (the confirmation after checkout, every order
    mail): an HMAC of the number under the shop's secret key, so it cannot be guessed from a
    number and works on every app server."""
    return hmac.new(secret_key.encode(), f"order:{number}".encode(), "sha256").hexdigest()[:32]


def is_order_token(secret_key: str, number: str, token: str) -> bool:
    return hmac.compare_digest(token, order_token(secret_key, number))


def new_password() -> str:
    return secrets.token_urlsafe(12)
