"""What the storefront pages share: reading a posted form, showing a domain error beside
its field, paging and sorting words, and the link that shows a guest their new order."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import PathParameter, QueryParameter

from shopd.errors import DomainError

PER_PAGE = 24
SORTS = ("newest", "price_asc", "price_desc", "best_selling")
Slug = Annotated[str, PathParameter(max_length=160)]
PageNo = Annotated[int, QueryParameter(ge=1, le=10_000)]
ADDRESS_FIELDS = ("recipient", "phone", "region", "city", "line1", "line2", "postcode")


def field_errors(exc: DomainError) -> dict[str, DomainError | str]:
    """The error beside the field it is about; the page writes it in the visitor's words."""
    field = str(exc.details.get("field") or "") or {
        "invalid_email": "email",
        "email_taken": "email",
        "invalid_phone": "phone",
        "weak_password": "password",
        "invalid_credentials": "password",
        "too_many_attempts": "password",
        "invalid_payment_method": "payment_method",
        "insufficient_points": "points",
        "points_need_account": "points",
    }.get(exc.code, "coupon" if exc.code.startswith("coupon") else "form")
    return {field: exc}


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}


def form_int(value: str | None, default: int = 1) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default
