"""Errors at the app edge: ONE table maps every error to an HTTP status and a JSON body.

Domain errors (:mod:`sitewatch.errors`) carry no HTTP; the web layer's own refusals
(not logged in, not allowed, bad CSRF token, too many logins) are defined here. Every
error answer has the same shape::

    {"error": {"status": 404, "type": "NotFoundError", "message": "...", "field": null}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sitewatch.errors import (
    ConfigError,
    ConflictError,
    GeometryError,
    InputFileError,
    InputValueError,
    NotFoundError,
    SitewatchError,
)

log = logging.getLogger(__name__)


class WebError(Exception):
    """A refusal of the web layer (no domain meaning)."""


class NotAuthenticated(WebError):
    """No valid session: log in."""


class Forbidden(WebError):
    """Logged in, but this role may not do that, or the CSRF token is missing or wrong."""


class TooManyLogins(WebError):
    """Login rate limit reached for this name and address."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class FieldError(InputValueError):
    """A value of the request is malformed; ``field`` names it (``path.site_id``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


#: the one table: the first class in an error's MRO found here decides its status
STATUS: dict[type[BaseException], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    TooManyLogins: 429,
    NotFoundError: 404,
    ConflictError: 409,
    GeometryError: 422,
    InputValueError: 422,
    InputFileError: 422,
    ConfigError: 503,
    SitewatchError: 400,
}


def status_of(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(status: int, kind: str, message: str, field: str | None = None,
               details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"status": status, "type": kind, "message": message, "field": field}
    if details is not None:
        err["details"] = details
    return {"error": err}


def _field_of(loc: Any) -> str:
    return ".".join(str(p) for p in loc)


def install(app: FastAPI) -> None:
    """Register the handlers that apply :data:`STATUS` (and shape FastAPI's own errors)."""

    async def known(request: Request, exc: Exception) -> JSONResponse:
        status = status_of(exc)
        headers = {}
        if isinstance(exc, TooManyLogins):
            headers["Retry-After"] = str(exc.retry_after_s)
        field = getattr(exc, "field", None)
        return JSONResponse(error_body(status, type(exc).__name__, str(exc), field),
                            status_code=status, headers=headers)

    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field_of(first.get("loc", ()))
        if first.get("type") == "json_invalid":  # loc is (body, character offset)
            field = "body"
        message = f"{field or 'request'}: {first.get('msg', 'invalid')}"
        details = [{"field": _field_of(e.get("loc", ())), "message": e.get("msg"),
                    "type": e.get("type")} for e in errors]
        return JSONResponse(error_body(422, "RequestValidationError", message, field, details),
                            status_code=422)

    async def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path}"
        return JSONResponse(error_body(exc.status_code, "HTTPException", message),
                            status_code=exc.status_code, headers=exc.headers)

    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(500, "InternalError", "internal error: see the "
                                       "server's log"), status_code=500)

    for cls in STATUS:
        app.add_exception_handler(cls, known)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, internal)
