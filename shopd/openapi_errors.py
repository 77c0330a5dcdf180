"""The OpenAPI document tells the truth about errors: every operation may answer a 4xx — and 503
when the database cannot take a change in time — and each has the one error shape,
``{"error": {"code", "message", "details"}}``, not the framework's own validation answer."""

from __future__ import annotations

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
                code: answer
                for code, answer in (op.responses or {}).items()
                if not code.startswith("4")
            }
            responses["4XX"] = _answer(
                "refused: bad input, unknown, forbidden or in the wrong state"
            )
            responses["503"] = _answer("busy or a service the shop needs is unavailable; try again")
            op.responses = responses
