"""Accounts, sessions and addresses in and out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
Name = Annotated[str, msgspec.Meta(max_length=120)]


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    name: Name = ""
    phone: Phone | None = None


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class EraseIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Password


class ResetRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class ResetIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password


class CustomerOut(msgspec.Struct):
    email: str
    name: str
    phone: str | None
    created_at: dt.datetime


class SessionOut(msgspec.Struct):
    token: str
    expires_at: dt.datetime
    customer: CustomerOut


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    phone: Phone | None = None


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    recipient: Annotated[str, msgspec.Meta(max_length=120)]
    phone: Phone
    region: Annotated[str, msgspec.Meta(max_length=120)]
    city: Annotated[str, msgspec.Meta(max_length=120)]
    line1: Annotated[str, msgspec.Meta(max_length=255)]
    line2: Annotated[str, msgspec.Meta(max_length=255)] = ""
    postcode: Annotated[str, msgspec.Meta(max_length=20)] = ""
    country: Annotated[str, msgspec.Meta(max_length=2)] = "CN"
    is_default: bool = False


class AddressOut(msgspec.Struct):
    id: int
    recipient: str
    phone: str
    country: str
    region: str
    city: str
    line1: str
    line2: str
    postcode: str
    is_default: bool
