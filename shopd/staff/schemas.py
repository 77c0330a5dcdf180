"""Staff log-in, accounts, the audit log and shop settings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class StaffLoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Password


class StaffOut(msgspec.Struct):
    username: str
    role: str


class ShopOut(msgspec.Struct):
    """What staff tools print about the shop: its name, where parcels come back to."""

    name: str
    return_address: str
    contact_email: str


class StaffSessionOut(msgspec.Struct):
    token: str
    expires_at: dt.datetime
    staff: StaffOut
    # Staff read times in the shop's clock, wherever their terminal is.
    shop_timezone: str
    currency: str
    # The staff endpoints this member's role may not call ("POST /stock/{sku}/adjustments"),
    # each with the lowest role it serves: what a client offers is the API's own word.
    refused: dict[str, str] = msgspec.field(default_factory=dict)


class StaffAccountOut(msgspec.Struct):
    username: str
    role: str
    active: bool
    created_at: dt.datetime


class StaffCreateIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    role: Annotated[str, msgspec.Meta(max_length=16)]
    password: Password


class StaffUpdateIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    active: bool | None = None
    password: Password | None = None


class AuditOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str


class AuditPage(msgspec.Struct):
    items: list[AuditOut]
    page: int
    per_page: int
    total: int


class SettingIn(msgspec.Struct, forbid_unknown_fields=True):
    # A text per language (bank details) is an object of language → text.
    value: bool | int | str | dict[str, str]
