"""The OpenAPI document, completed: every error answer documented with the one error body,
and no reference left pointing at a schema the document does not hold."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_REF = {"$ref": "#/components/schemas/Error"}

# what every operation can answer (its own errors aside), and what a body adds
_COMMON = {400: "Bad request: the request names its problem",
           401: "Missing, revoked or invalid API key or webhook signature",
           404: "No such resource in this workspace",
           422: "A parameter or field failed validation"}
_WITH_BODY = {413: "Body too large", 415: "Unsupported content type"}
_METHODS = ("get", "put", "post", "delete", "patch")


class Error(BaseModel):
    """Every error: a stable code, a sentence, and details naming the field or header."""

    error: str = Field(description="a stable machine-readable code")
    message: str
    detail: Any = Field(description="what was wrong: field, header, limits")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = complete(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict) -> dict:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _hoist_defs(schema, components)
    components["Error"] = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    for path_item in schema.get("paths", {}).values():
        for method in _METHODS:
            if method in path_item:
                _document_errors(path_item[method])
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def _document_errors(operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    extra = {**_COMMON, **(_WITH_BODY if "requestBody" in operation else {})}
    for status, description in extra.items():
        responses[str(status)] = {"description": description,
                                  "content": {"application/json": {"schema": ERROR_REF}}}


def _hoist_defs(node: Any, components: dict) -> None:
    """Schemas embedded by hand (a request body's `$defs`) join the document's components,
    where their `#/components/schemas/...` references point."""
    if isinstance(node, dict):
        for name, sub in node.pop("$defs", {}).items():
            components.setdefault(name, sub)
            _hoist_defs(sub, components)
        for value in node.values():
            _hoist_defs(value, components)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, components)
