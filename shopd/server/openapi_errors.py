"""The OpenAPI document tells the truth about errors: every operation may answer a 4xx — and 503
when the database cannot take a change in time — and each has the one error shape,
``{"error": {"code", "message", "details"}}``, not the framework's own validation response.
Staff operations also say the lowest role they serve."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

ERROR = Schema(
    type=OpenAPIType.OBJECT,
    required=["error"],
    properties={
        "error": Schema(
            type=OpenAPIType.OBJECT,
            required=["code", "message", "details"],
            properties={
                "code": Schema(type=OpenAPIType.STRING, description="stable, for programs"),
                "message": Schema(type=OpenAPIType.STRING, description="for people"),
                "details": Schema(type=OpenAPIType.OBJECT),
            },
        )
    },
)


def _answer(description: str) -> OpenAPIResponse:
    schema = Reference(ref="#/components/schemas/Error")
    return OpenAPIResponse(
        description=description, content={"application/json": OpenAPIMediaType(schema=schema)}
    )


def document_errors(app: Litestar) -> None:
    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    openapi.components.schemas["Error"] = ERROR
    for item in (openapi.paths or {}).values():
        for op in (item.get, item.put, item.post, item.delete, item.patch, item.head):
            if op is None:
                continue
            responses = {
                code: response
                for code, response in (op.responses or {}).items()
                if not code.startswith("4")
            }
            if isinstance(answer_204 := responses.get("204"), OpenAPIResponse):
                # A handler that returns Response[None] is documented with a JSON body; 204
                # has none, and says so.
                answer_204.content = None
            responses["4XX"] = _answer(
                "refused: bad input, unknown, forbidden or in the wrong state"
            )
            responses["503"] = _answer("busy or a service the shop needs is unavailable; try again")
            op.responses = responses
    _document_roles(app, openapi.paths or {})


def _document_roles(app: Litestar, paths: dict) -> None:
    for route in app.routes:
        item = paths.get(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for handler in getattr(route, "route_handlers", ()):
            role = handler.opt.get("role")
            for method in handler.http_methods if role and item else ():
                op = getattr(item, method.lower(), None)
                if op is not None:
                    note = f"Needs the **{role}** role or higher (else 403 `forbidden`)."
                    op.description = f"{op.description}\n\n{note}" if op.description else note
