"""Error responses: every 4xx names the field it is about; nothing turns into a bare 500.

Body shape: ``{"detail": "<field>: <message>", "field": "<field>", "errors": [...]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from myelonav.errors import CalculationError, InputError, MyelonavError, StoreError

logger = logging.getLogger("myelonav.web")


class ErrorItem(BaseModel):
    field: str
    message: str
    type: str


class ErrorOut(BaseModel):
    """Every 4xx/5xx body the API returns."""

    detail: str = Field(description="'<field>: <message>', or the message alone.")
    field: str | None = Field(description="The field, parameter or header it is about.")
    errors: list[ErrorItem] = Field(description="Each validation error (422); else empty.")


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Documented on every API route (the router's ``responses``), so the OpenAPI spec shows
# the bodies the API really sends instead of FastAPI's default HTTPValidationError.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Bad request (unparseable header or body)."),
    401: _doc("Clinic mode: not logged in."),
    403: _doc("Refused: cross-site request, missing CSRF token or install secret, or a "
              "role that does not allow this."),
    404: _doc("No such resource (or not yours to see)."),
    408: _doc("The request body arrived too slowly."),
    413: _doc("The request body is too large."),
    422: _doc("A field is invalid; ``field`` names it."),
}


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "(request)"


def error_body(message: str, field: str | None,
               errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    detail = f"{field}: {message}" if field else message
    return {"detail": detail, "field": field, "errors": errors or []}


def status_for(exc: MyelonavError) -> int:
    if isinstance(exc, InputError | CalculationError):
        return 422
    if isinstance(exc, StoreError):
        return 503
    return 500


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _loc(e.get("loc", ())), "message": str(e.get("msg", "invalid")),
         "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return JSONResponse(error_body(f"{first['message']}{more}", first["field"], errors), 422)


async def _myelonav(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MyelonavError)
    status = status_for(exc)
    if status >= 500:
        logger.error("internal error: %s", exc.__class__.__name__)
        return JSONResponse(error_body("internal error; see the server log", None), status)
    return JSONResponse(error_body(exc.message, exc.location), status)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    field = (exc.headers or {}).get("X-Error-Field")
    headers = {k: v for k, v in (exc.headers or {}).items() if k != "X-Error-Field"}
    return JSONResponse(error_body(detail, field), exc.status_code, headers=headers or None)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Only the exception class is logged: its message could quote patient data.
    logger.error("unexpected error: %s", exc.__class__.__name__)
    return JSONResponse(error_body("internal error; see the server log", None), 500)


def install_api_errors(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(MyelonavError, _myelonav)
    app.add_exception_handler(Exception, _unexpected)


def install_http_errors(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http)


__all__ = ["ERROR_RESPONSES", "ErrorItem", "ErrorOut", "error_body", "install_api_errors",
           "install_http_errors", "status_for"]
