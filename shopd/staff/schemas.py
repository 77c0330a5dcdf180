"""Staff log-in in and out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec


class StaffLoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class StaffOut(msgspec.Struct):
    username: str
    role: str


class StaffSessionOut(msgspec.Struct):
    token: str
    expires_at: dt.datetime
    staff: StaffOut
