"""JSON request bodies are read strictly, and the OpenAPI document says so.

Litestar converts a decoded body to the handler's type with msgspec in lax mode (``strict=False``,
litestar 2.25 ``_signature.model``), because the same conversion serves query strings, where
``"1"`` must become ``1``. For a JSON body that laxness is a lie in the contract: ``"1"`` passes
as a quantity, ``0`` as a boolean, ``1.0`` as an integer. The ``before_request`` hook here decodes
the body once more, strictly, against the handler's type and refuses a mismatch with the usual
``validation_error``; the body is cached by the request, so the handler's own decoding reads the
same bytes. Measured cost: one extra msgspec decode of a body of at most a few KiB per write.

Every body type forbids unknown fields (``forbid_unknown_fields=True``); ``mark_strict_objects``
writes that into the document as ``additionalProperties: false``."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Schema
from litestar.params import BodyKwarg


@cache
def body_type(handler: HTTPRouteHandler) -> Any | None:
    """The type a handler's JSON body is decoded to, or None when it takes no JSON body."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    kwarg = data.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type != RequestEncodingType.JSON:
        return None
    return data.annotation


async def read_body_strictly(request: Request[Any, Any, Any]) -> None:
    """Refuse a JSON body whose values are of another JSON type than the contract's."""
    wanted = body_type(request.route_handler)
    if wanted is None:
        return
    body = await request.body()
    if not body:
        return  # the framework answers a missing body itself
    try:
        msgspec.json.decode(body, type=wanted, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        key = message.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in message else None
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"key": key, "source": "body", "message": message.split(" - ")[0]}],
        ) from exc
    except msgspec.DecodeError:
        return  # not JSON at all: the framework's own decoding answers malformed_json


def strict_structs(wanted: Any) -> set[type[msgspec.Struct]]:
    """The struct types reachable from a body type whose config forbids unknown fields."""
    found: set[type[msgspec.Struct]] = set()

    def walk(info: msgspec.inspect.Type) -> None:
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls in found:
                return
            if info.forbid_unknown_fields:
                found.add(info.cls)
            for field in info.fields:
                walk(field.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            for member in info.types:
                walk(member)
        elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType):
            walk(info.item_type)
        elif isinstance(info, msgspec.inspect.DictType):
            walk(info.value_type)
        elif isinstance(info, msgspec.inspect.Metadata):
            walk(info.type)

    walk(msgspec.inspect.type_info(wanted))
    return found


def mark_strict_objects(app: Litestar) -> None:
    """``additionalProperties: false`` on every body object that refuses unknown fields."""
    strict: set[str] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and (wanted := body_type(handler)):
                strict |= {cls.__name__ for cls in strict_structs(wanted)}
    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    for name, schema in (openapi.components.schemas or {}).items():
        if isinstance(schema, Schema) and (schema.title or name) in strict:
            schema.additional_properties = False
