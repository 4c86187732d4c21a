"""schemathesis against the served app's own /openapi.json: no input it describes gives a 5xx,
and every answer (errors included) matches the status codes, content types and schemas declared.

Bounded to fit CI (~60 s on 2 cores): few examples per operation, derandomized. Explained and
generation requests are slow on a CPU engine, so hooks cap their cost: explained bodies get a
2 s deadline and k <= 3, completions ask for at most 4 tokens. Stateful testing would add little:
the API has no links between operations (nothing is created, so no id flows from one answer into
another request), so each operation is fuzzed on its own.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXPLAIN_DEADLINE_MS = 2000
MAX_EXPLAINED_K = 3
MAX_TOKENS = 4


@pytest.fixture(scope="module")
def api_schema(service):
    schema = schemathesis.openapi.from_url(f"{service}/openapi.json", headers=AUTH, timeout=30)
    schema.config.update(base_url=service, headers=AUTH)

    @schema.hook
    def map_body(context, body):
        """Keep each example cheap: explanations within 2 s, completions of a few tokens."""
        if not isinstance(body, dict):
            return body
        path = context.operation.path if context.operation else ""
        if path == "/v1/recommendations" and body.get("explain", True):
            k, deadline = body.get("k", 10), body.get("deadline_ms")
            if isinstance(k, int) and k > MAX_EXPLAINED_K:
                body["k"] = MAX_EXPLAINED_K
            if deadline is None or (isinstance(deadline, int) and deadline > EXPLAIN_DEADLINE_MS):
                body["deadline_ms"] = EXPLAIN_DEADLINE_MS
        if path in ("/v1/chat/completions", "/v1/completions"):
            for field in ("max_tokens", "max_completion_tokens"):
                body[field] = MAX_TOKENS
            body["n"] = 1
        return body

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_openapi_document(case):
    case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=60)
