"""The raw OpenAI routes' limits, on the request models the routes parse (pure logic; the served
routes are checked in test_serving)."""

from __future__ import annotations

import asyncio

import pytest
from ray.exceptions import RayTaskError
from ray.serve.llm.openai_api_models import ChatCompletionRequest, CompletionRequest

from serve.api import ApiError
from serve.config import ApiSettings
from serve.openai_limits import limit_openai_request, unreadable_as_400

API = ApiSettings(openai_max_tokens=64)
MESSAGES = [{"role": "user", "content": "hi"}]


def chat(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest(model="m", messages=MESSAGES, **fields)


def refused(body, api=API) -> ApiError:
    with pytest.raises(ApiError) as error:
        limit_openai_request(body, api)
    return error.value


def test_output_tokens_are_capped_and_an_unset_cap_becomes_the_limit():
    assert "max_tokens: at most 64" in refused(chat(max_tokens=1500)).message
    assert refused(chat(max_completion_tokens=65)).message.startswith("max_completion_tokens")
    unset = chat()
    limit_openai_request(unset, API)
    assert unset.max_tokens == 64
    within = chat(max_tokens=8)
    limit_openai_request(within, API)
    assert within.max_tokens == 8


def test_one_prompt_and_one_choice_per_request():
    assert refused(chat(n=2)).message.startswith("n:")
    eight = CompletionRequest(model="m", prompt=["a"] * 8, max_tokens=4)
    assert refused(eight).message.startswith("prompt:")
    assert refused(CompletionRequest(model="m", prompt=[[1, 2], [3]])).message.startswith("prompt")
    for prompt in ("a", ["a"], [1, 2, 3]):  # one prompt, as text or token ids
        limit_openai_request(CompletionRequest(model="m", prompt=prompt, max_tokens=4), API)


def test_the_routes_can_be_turned_off():
    error = refused(chat(max_tokens=1), ApiSettings(openai_routes=False))
    assert error.status == 404 and "api.openai_routes" in error.message


def test_a_request_the_engine_cannot_read_is_a_400_and_other_failures_stay_errors():
    async def failing(cause: Exception):
        raise RayTaskError("chat", "traceback", cause)

    error = refused_async(failing(KeyError("role")))
    assert error.status == 400 and "KeyError: 'role'" in error.message
    with pytest.raises(RayTaskError):
        asyncio.run(unreadable_as_400(failing(RuntimeError("engine died"))))


def refused_async(response) -> ApiError:
    with pytest.raises(ApiError) as error:
        asyncio.run(unreadable_as_400(response))
    return error.value
