"""Errors as JSON: a message, and the field path of what was wrong.

Every error body is {"message": str, "errors": [{"field": "dataset.name", "in": "body",
"message": str}]}. Anything a user sent that is wrong is a 4xx saying what and where;
a 500 is only ever a bug of ours (logged, with no internals in the body).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from nas import store as db

log = logging.getLogger("api")


class ApiError(Exception):
    """A refusal with a status code, a message and optionally the field it concerns."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        where: str = "body",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.where = status, message, field, where
        self.headers = headers


def not_found(kind: str, ident: int, field: str) -> ApiError:
    return ApiError(404, f"no {kind} with id {ident}", field, "path")


def conflict(message: str, field: str = "job_id") -> ApiError:
    return ApiError(409, message, field, "path")


def _body(message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"message": message, "errors": errors or []}


def _field_errors(errors: Any, where: str | None = None) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(x) for x in err.get("loc", ())]
        place = where
        if place is None and loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            place, loc = loc[0], loc[1:]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"field": ".".join(loc) or None, "in": place or "body", "message": msg})
    return out


def _summary(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    where = f"{first['field']}: " if first["field"] else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"invalid request: {where}{first['message']}{more}"


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    errors = [{"field": exc.field, "in": exc.where, "message": exc.message}] if exc.field else []
    return JSONResponse(_body(exc.message, errors), status_code=exc.status, headers=exc.headers)


async def _request_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc.errors())
    return JSONResponse(_body(_summary(errors), errors), status_code=422)


async def _model_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    errors = _field_errors(exc.errors(include_url=False), where="body")
    return JSONResponse(_body(_summary(errors), errors), status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 413:
        message = "request body too large (limit: NAS_MAX_UPLOAD_BYTES)"
    return JSONResponse(_body(message), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, db.StoreUnavailable) or db.is_disconnect(exc):
        # the database went away under the request (restart, pg_terminate_backend): not
        # the client's fault, and the next try will likely find it back
        log.warning("database unavailable: %s", str(exc).splitlines()[0])
        return JSONResponse(
            _body("the database is unavailable; retry shortly"),
            503,
            headers={"Retry-After": "1"},
        )
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(_body("internal error; the server log has the details"), 500)


class ContentLengthLimit:
    """413 as JSON for a request whose Content-Length is over the limit, before reading it."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app, self.max_body_size = app, max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > self.max_body_size:
                message = f"request body too large: {length} bytes, limit {self.max_body_size}"
                response = JSONResponse(_body(message), status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValidationError, _model_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
