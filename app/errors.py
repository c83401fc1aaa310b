"""The one error family: every failure a client can cause renders as {error, message, detail}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from pipelines.types import ParseError


class VerbatimError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, detail: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail if detail is not None else {}
        if code:
            self.code = code


class NotFound(VerbatimError):
    status_code = 404
    code = "not_found"


class Unauthorized(VerbatimError):
    status_code = 401
    code = "unauthorized"


class Conflict(VerbatimError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(VerbatimError):
    status_code = 413
    code = "too_large"


class Unprocessable(VerbatimError):
    status_code = 422
    code = "invalid"


_PARSE_STATUS = {"too_large": 413, "unknown_format": 415, "unreadable": 422}


def from_parse_error(exc: ParseError) -> VerbatimError:
    err = VerbatimError(exc.message, detail=exc.detail, code=exc.code)
    err.status_code = _PARSE_STATUS.get(exc.code, 422 if exc.code.startswith("invalid") else 400)
    return err


def _body(code: str, message: str, detail: Any) -> dict:
    return {"error": code, "message": message, "detail": detail}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(VerbatimError)
    async def _verbatim(_req: Request, exc: VerbatimError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            _body(exc.code, exc.message, exc.detail), exc.status_code, headers=headers
        )

    @app.exception_handler(ParseError)
    async def _parse(req: Request, exc: ParseError) -> JSONResponse:
        return await _verbatim(req, from_parse_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "problem": "invalid request"}
        message = f"{first['field']}: {first['problem']}"
        return JSONResponse(_body("invalid_request", message, {"errors": errors}), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(req))
        return JSONResponse(_body(code, str(exc.detail), {}), exc.status_code,
                            headers=headers or None)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                   for route in request.app.routes)]
