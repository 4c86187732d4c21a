"""The HTTP contract: request and response bodies, and errors as `{"error": {code, message}}`."""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve.explain.explanation import TemplateReason
from serve.explain.lang import LANGUAGES
from serve.resilience import Unavailable

log = logging.getLogger(__name__)

Language = Literal[tuple(LANGUAGES)]  # type: ignore[valid-type]


class ApiError(Exception):
    """An error the client can act on; `headers` carry e.g. Retry-After."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


ItemId = Annotated[str, Field(min_length=1, max_length=200)]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: ItemId
    rating: float | None = Field(
        None,
        allow_inf_nan=False,
        description="the user's value on the catalog's feedback scale (a rating, a count, or 1; "
        "see /healthz retriever.catalog); omitted means liked",
    )


class _UserRequest(BaseModel):
    """Who is asked for (a stored user, or a history sent along) and how to explain."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(None, min_length=1, max_length=200)
    history: list[HistoryEntry] | None = Field(None, min_length=1, max_length=1000)
    language: Language = "en"
    stream: bool = False
    deadline_ms: int | None = Field(
        None, ge=1, le=600_000, description="explanation budget; late items get templates"
    )

    @model_validator(mode="after")
    def _one_identity(self):
        if (self.user_id is None) == (self.history is None):
            raise ValueError("give exactly one of user_id and history")
        return self


class RecommendationRequest(_UserRequest):
    k: int = Field(10, ge=1, le=100)
    explain: bool = True
    exclude_item_ids: list[ItemId] = Field(default_factory=list, max_length=1000)


class ExplanationRequest(_UserRequest):
    """Items another recommender chose, to be explained for this user in the caller's order."""

    item_ids: list[ItemId] = Field(min_length=1, max_length=100)

    @field_validator("item_ids")
    @classmethod
    def _distinct(cls, item_ids: list[str]) -> list[str]:
        twice = sorted({i for i in item_ids if item_ids.count(i) > 1})
        if twice:
            raise ValueError(f"given more than once: {twice}")
        return item_ids


class EvidenceOut(BaseModel):
    item_id: str
    title: str
    rating: float | None = Field(description="the user's value: a rating, a count, or 1")
    similarity: float
    top_share: float | None = Field(
        None, description="share of the user's history valued higher (0: their top)"
    )
    also_share: float | None = Field(
        None,
        description="of the users who liked this item, the share who also liked the "
        "recommended one (0.38: 38%); null where not known",
    )


class ExplanationOut(BaseModel):
    text: str
    cited_item_ids: list[str]
    source: Literal["llm", "template"]
    language: str
    reason: TemplateReason | None = Field(
        None, description="why a template stands in for the LLM; null for LLM text"
    )
    cached: bool = Field(False, description="served from the explanation cache")


class ItemOut(BaseModel):
    rank: int
    item_id: str
    title: str
    score: float
    evidence: list[EvidenceOut]
    shared_tags: list[str]
    in_history: bool = Field(
        False,
        description="the user already has it (only a caller's own list can name such an item); "
        "its explanation never calls it new",
    )
    explanation: ExplanationOut | None = None


class RecommendationResponse(BaseModel):
    request_id: str
    user_id: str | None
    items: list[ItemOut]
    retriever: dict
    llm: dict
    timings_ms: dict[str, float]


class CatalogItem(BaseModel):
    item_id: str
    title: str
    genres: list[str]
    tags: list[str]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error answer's body."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict:
    """OpenAPI `responses` that declare these statuses with the error body (schemathesis holds
    the app to them)."""
    return {status: {"model": ErrorOut} for status in statuses}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: an error may echo any input, lone surrogates included,
    which UTF-8 cannot encode."""

    def render(self, content) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return _AsciiJSONResponse(error_body(code, message), status, headers=headers)


class _StrictJSONRequest(Request):
    """Python's json reads `NaN` and `Infinity`, which JSON has not, and raises RecursionError on
    deep nesting, which FastAPI answers with a bare 400; both become JSON decode errors (422)."""

    async def json(self):
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body, parse_constant=_no_constant)
            except json.JSONDecodeError:
                raise
            except RecursionError:
                raise json.JSONDecodeError("nested too deeply", "", 0) from None
            except ValueError as exc:  # NaN/Infinity, or bytes that are not UTF-8
                raise json.JSONDecodeError(str(exc), "", 0) from None
            if _SURROGATE_ESCAPE.search(body) and not _is_unicode(self._json):
                raise json.JSONDecodeError("a lone surrogate escape is not Unicode text", "", 0)
        return self._json


# `\ud800`-`\udfff` escapes: in pairs they spell an emoji; alone, text no UTF-8 can carry.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _is_unicode(parsed) -> bool:
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class StrictJSONRoute(APIRoute):
    """Routes whose JSON bodies are parsed by `_StrictJSONRequest`."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request):
            return await handler(_StrictJSONRequest(request.scope, request.receive))

        return strict


def _field(location: tuple) -> str:
    parts = [str(part) for part in location if part != "body"]
    return ".".join(parts) or "body"


def _problem(error: dict) -> str:
    if error["type"] == "json_invalid":
        reason = error.get("ctx", {}).get("error")
        return f"body: not valid JSON ({reason})" if reason else "body: not valid JSON"
    return f"{_field(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"


HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
}


def install_error_handlers(app: FastAPI) -> None:
    """Every error is JSON; validation errors name the field; nothing leaks a stack trace.
    Routes added to `app` afterwards parse JSON strictly."""
    app.router.route_class = StrictJSONRoute

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable):
        """A service that did not answer in time (`resilience`): the one place it becomes HTTP."""
        retry = exc.retry_after_s
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return error_response(503, "unavailable", str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(_problem(error) for error in exc.errors())
        return error_response(422, "invalid_request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 400:
            message = f"body: {message}"
        return error_response(exc.status_code, code, message, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; see the server log")
