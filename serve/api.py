"""The HTTP contract: request and response bodies, and errors as `{"error": {code, message}}`."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve.explain.explanation import TemplateReason
from serve.explain.languages import LANGUAGES

Language = Literal[tuple(LANGUAGES)]  # type: ignore[valid-type]


class ApiError(Exception):
    """An error the client can act on; `headers` carry e.g. Retry-After."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=200)
    rating: float | None = Field(
        None,
        allow_inf_nan=False,
        description="the user's value on the catalog's feedback scale (a rating, a count, or 1; "
        "see /healthz retriever.catalog); omitted means liked",
    )


class RecommendationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(None, min_length=1, max_length=200)
    history: list[HistoryEntry] | None = Field(None, min_length=1, max_length=1000)
    k: int = Field(10, ge=1, le=100)
    explain: bool = True
    language: Language = "en"
    exclude_item_ids: list[str] = Field(default_factory=list, max_length=1000)
    stream: bool = False
    deadline_ms: int | None = Field(
        None, ge=1, le=600_000, description="explanation budget; late items get templates"
    )

    @model_validator(mode="after")
    def _one_identity(self) -> RecommendationRequest:
        if (self.user_id is None) == (self.history is None):
            raise ValueError("give exactly one of user_id and history")
        return self


class EvidenceOut(BaseModel):
    item_id: str
    title: str
    rating: float | None = Field(description="the user's value: a rating, a count, or 1")
    similarity: float
    top_share: float | None = Field(
        None, description="share of the user's history valued higher (0: their top)"
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


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _field(location: tuple) -> str:
    parts = [str(part) for part in location if part != "body"]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Every error is JSON; validation errors name the field; nothing leaks a stack trace."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return JSONResponse(error_body(exc.code, exc.message), exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(
            "body: not valid JSON"
            if error["type"] == "json_invalid"
            else f"{_field(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        return JSONResponse(error_body("invalid_request", problems), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        return JSONResponse(error_body("internal", "internal error; see the server log"), 500)
