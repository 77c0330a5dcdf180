"""Checks of e-mail addresses, phone numbers and other free text shared by every area."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from shopd.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]{1,189}\.[^@\s\x00-\x1f.]{2,63}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def identity_key(value: str) -> str:
    """The one spelling of a name or e-mail address that every lookup and every limit uses:
    Unicode NFKC (full-width and compatibility forms folded), trimmed, lower-cased.

    The log-in throttle once counted "  victim@example.com" apart from "victim@example.com"
    while the log-in found the same account for both: five fresh guesses per spelling."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def normalise_email(email: str) -> str:
    email = identity_key(email)
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("that is not a valid e-mail address", code="invalid_email")
    return email


def normalise_phone(phone: str) -> str:
    phone = phone.strip()
    if not _PHONE.match(phone):
        raise InvalidInput(
            "that is not a valid phone number (digits, spaces, dashes, an optional leading +)",
            code="invalid_phone",
        )
    return phone


def clean_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    """Trim, refuse control characters and enforce a length; the text itself is kept verbatim
    (escaping is the renderer's job)."""
    value = value.strip()
    if _CONTROL.search(value):
        raise InvalidInput(
            f"{field} contains control characters", code="invalid_text", details={"field": field}
        )
    if required and not value:
        raise InvalidInput(f"{field} is required", code="missing_field", details={"field": field})
    if len(value) > max_length:
        raise InvalidInput(
            f"{field} is longer than {max_length} characters",
            code="too_long",
            details={"field": field, "max_length": max_length},
        )
    return value


def search_terms(text: str) -> str:
    """What a search looks for: control characters removed, trimmed. A NUL reached the
    database as it was typed: SQLite's LIKE stopped at it and matched every product, MariaDB's
    matched none; a page echoed it into its HTML."""
    return _ANY_CONTROL.sub(lambda m: " " if m.group() in "\t\n\r" else "", text).strip()


def escape_like(text: str) -> str:
    """Lower-cased, with LIKE's wildcards escaped (use with ``escape="\\"``), so a customer's
    "100%" or "a_b" is searched for literally."""
    return search_terms(text).lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(text: str) -> str:
    return f"%{escape_like(text)}%"


# What a browser drops or reads differently in a URL (WHATWG URL standard): C0 controls and
# spaces at either end are stripped, tabs and newlines anywhere removed, and in http(s) URLs
# a backslash is a slash. A check that does not see the URL as a browser will lets
# "/\evil.example" or "/<TAB>/evil.example" through as a path; the browser goes to evil.example.
_URL_ENDS = "".join(chr(c) for c in range(0x21))
_URL_DROPPED = str.maketrans({"\t": None, "\n": None, "\r": None, "\\": "/"})
# Characters a path keeps as they are in a Location header; everything else is percent-encoded
# (a header is ASCII: a U+2028 copied from a request path made the response fail with a 500).
_PATH_SAFE = "/?&=#%:@!$'()*+,;~-._[]"


def local_path(target: str, default: str = "/") -> str:
    """``target`` as a path on this site, as a browser would read it, or ``default`` when a
    browser would leave the site (another host, a scheme such as ``javascript:``).

    Every ``next``/``return`` parameter goes through here before it becomes a ``Location``."""
    seen = target.strip(_URL_ENDS).translate(_URL_DROPPED)
    if not seen.startswith("/") or seen.startswith("//"):
        return default
    return quote(seen, safe=_PATH_SAFE)


def header_safe_path(path: str) -> str:
    """A site path made safe to send in a header: non-ASCII and control characters
    percent-encoded, nothing else changed."""
    return quote(path, safe=_PATH_SAFE)


def limit_key(email: str) -> str:
    """The address a per-customer limit counts against: ``name+tag@host`` is ``name@host``.

    Mail servers deliver every ``+tag`` to the same mailbox, so one shopper could otherwise
    take a flash sale's per-customer limit once per tag."""
    email = identity_key(email)
    local, at, host = email.rpartition("@")
    if not at:
        return email
    return f"{local.partition('+')[0] or local}@{host}"
