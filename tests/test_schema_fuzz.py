"""schemathesis against the served app's own /openapi.json: no input it describes gives a 5xx,
and every answer (errors included) matches the status codes, content types and schemas declared.

Bounded to fit CI (~60 s on 2 cores): few examples per operation, derandomized. Explained and
generation requests are slow on a CPU engine, so `cheap` caps their cost: explained bodies get a
2 s deadline and k <= 3, completions ask for at most 4 tokens. Stateful testing would add little:
the API has no links between operations (nothing is created, so no id flows from one answer into
another request), so each operation is fuzzed on its own.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
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


EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 3}  # per operation


def cheap(case: schemathesis.Case) -> None:
    """Keep an example cheap: explanations within 2 s, completions of a few tokens."""
    body = case.body
    if not isinstance(body, dict):
        return
    explained = case.operation.path == "/v1/explanations" or (
        case.operation.path == "/v1/recommendations" and body.get("explain", True)
    )
    if explained:
        k, deadline = body.get("k", 10), body.get("deadline_ms")
        if isinstance(k, int) and k > MAX_EXPLAINED_K:
            body["k"] = MAX_EXPLAINED_K
        if isinstance(body.get("item_ids"), list):
            body["item_ids"] = body["item_ids"][:MAX_EXPLAINED_K]
        if deadline is None or (isinstance(deadline, int) and deadline > EXPLAIN_DEADLINE_MS):
            body["deadline_ms"] = EXPLAIN_DEADLINE_MS
    if case.operation.path in ("/v1/chat/completions", "/v1/completions"):
        for field in ("max_tokens", "max_completion_tokens"):
            body[field] = MAX_TOKENS
        body["n"] = 1


def fuzz(operation, mode: GenerationMode) -> str | None:
    """Run `operation`'s examples in `mode`; the first failure, or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
    )
    def examples(case):
        cheap(case)
        case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=60)

    try:
        examples()
    except Unsatisfiable:  # no invalid input exists, e.g. negative mode without parameters
        return None
    except (Exception, BaseExceptionGroup) as failure:  # a FailureGroup, or a transport error
        return f"{mode.value} {operation.label}: {failure}"[:3000]
    return None


def test_every_answer_matches_the_openapi_document(service):
    # schemathesis' own pytest integration (schema.parametrize / from_fixture) breaks on
    # pytest 9 (it sets Node._nodeid), so the operations are walked here, each a Hypothesis run.
    schema = schemathesis.openapi.from_url(f"{service}/openapi.json", headers=AUTH, timeout=30)
    schema.config.update(base_url=service)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/v1/recommendations", "/v1/chat/completions", "/v1/models"} <= {
        operation.path for operation in operations
    }
    failures = [
        failure
        for operation in operations
        for mode in EXAMPLES
        if (failure := fuzz(operation, mode)) is not None
    ]
    assert not failures, "\n\n".join(failures)
