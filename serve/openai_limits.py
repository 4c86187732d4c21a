"""Limits on the model's raw OpenAI-compatible routes (`/v1/chat/completions`,
`/v1/completions`).

Those routes reach the same engine as the explanations, and their text never passes the
verifier. Without limits one API key holder could fill the engine (eight prompts in one request,
1500 output tokens each) and turn every explanation into an `overloaded` template. So: one
prompt and one choice per request, output tokens capped (an unset cap becomes the limit), and
`api.openai_routes: false` turns the routes off. A request that the request models accept but
vLLM cannot render (schema fuzzing found chat messages that end in a KeyError inside vLLM) is a
400, not a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable

from fastapi.responses import Response
from ray.exceptions import RayTaskError

from serve.api import ApiError
from serve.config import ApiSettings


def limit_openai_request(body, api: ApiSettings) -> None:
    """Refuse, or bound in place, a chat or completion request under `api`'s limits."""
    if not api.openai_routes:
        raise ApiError(404, "not_found", "the OpenAI-compatible routes are off (api.openai_routes)")
    limit = api.openai_max_tokens
    caps = [
        f for f in ("max_tokens", "max_completion_tokens") if getattr(body, f, None) is not None
    ]
    for field in caps:
        if getattr(body, field) > limit:
            raise ApiError(422, "invalid_request", f"{field}: at most {limit} on this server")
    if not caps:
        body.max_tokens = limit
    if (getattr(body, "n", 1) or 1) != 1:
        raise ApiError(422, "invalid_request", "n: this server answers one choice per request")
    if getattr(body, "best_of", None) not in (None, 1):
        raise ApiError(422, "invalid_request", "best_of: this server answers one choice")
    prompt = getattr(body, "prompt", None)
    if isinstance(prompt, list) and prompt and not isinstance(prompt[0], int) and len(prompt) > 1:
        raise ApiError(422, "invalid_request", "prompt: one prompt per request")


async def unreadable_as_400(response: Awaitable[Response]) -> Response:
    """The engine's answer; a request it failed to read (a KeyError, TypeError or ValueError
    raised while rendering it in the LLM replica) becomes a 400 naming the error."""
    try:
        return await response
    except RayTaskError as exc:
        cause = exc.cause
        if not isinstance(cause, KeyError | TypeError | ValueError):
            raise
        message = f"the model could not read this request ({type(cause).__name__}: {cause})"
        raise ApiError(400, "invalid_request", message[:500]) from None
