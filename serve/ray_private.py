"""The only names recsplain takes from Ray's private modules, in one place, because Ray 2.60's
public API (`ray.serve.llm`) has no equivalent:

- `OpenAIHTTPException`: what Ray Serve LLM's OpenAI layer raises for a client error (an unknown
  model, a bad request); the ingress maps it to the same error JSON as every other error.
- `to_model_metadata`: the model card the OpenAI router serves at `/v1/models`.

A Ray upgrade that moves them breaks only this module's imports.
"""

from ray.llm._internal.serve.core.configs.openai_api_models import (
    OpenAIHTTPException,
    to_model_metadata,
)

__all__ = ["OpenAIHTTPException", "to_model_metadata"]
