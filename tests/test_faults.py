"""Fault injection against the session's app: SIGKILL the Retriever replica's process, then the
vLLM engine process below the LLM replica, each under load. Serve replaces what died without a
hand on it; no request is lost or answered with a 500 (503s are load shed by the session's tiny
Retriever queue), and while the engine is gone explanations are templates. These run last
(`disruptive`, see conftest) and each returns only once the app is healthy again.

The retry logic itself is unit-tested here too, with fake calls.
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ray.exceptions import ActorDiedError, ActorUnavailableError

from benchmarks import faults, soak
from benchmarks.run import population_of
from serve.api import install_error_handlers
from serve.resilience import Circuit, Unavailable, backoff_s, call_with_retries
from tests.conftest import API_KEY, SUITE_DEADLINE_MS

AUTH = {"Authorization": f"Bearer {API_KEY}"}
RATE = 2.0  # requests/s of the soak's mix: SmolLM2 on 2 cores, beside the prober
TEMPLATE_REASONS = {"llm_error", "deadline", "overloaded"}


class FlakyCall:
    """Raises the given errors in turn, then answers."""

    def __init__(self, *errors: BaseException, hang_s: float = 0.0):
        self.errors, self.calls, self.hang_s = list(errors), 0, hang_s

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        await asyncio.sleep(self.hang_s)
        return "answer"


def retrying(call, retries=3, budget_s=5.0):
    return asyncio.run(
        call_with_retries(call, retries=retries, budget_s=budget_s, retry_after_s=2, what="x")
    )


def test_a_retrieval_whose_replica_died_is_sent_again():
    call = FlakyCall(ActorDiedError(), ActorUnavailableError("gone", b"\0" * 16))
    assert retrying(call) == "answer" and call.calls == 3


def test_no_replica_within_the_budget_is_a_503_with_retry_after():
    with pytest.raises(Unavailable) as raised:
        retrying(FlakyCall(hang_s=10), budget_s=0.2)
    assert raised.value.retry_after_s == 2
    with pytest.raises(Unavailable) as raised:
        retrying(FlakyCall(*[ActorDiedError()] * 5), retries=2)
    assert str(raised.value) == "the x is restarting; retry later"
    # The HTTP edge, and only it, makes it a 503 with Retry-After.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    async def down():
        raise raised.value

    answer = TestClient(app).get("/down")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert answer.json() == {
        "error": {"code": "unavailable", "message": "the x is restarting; retry later"}
    }


def test_other_errors_are_not_retried():
    call = FlakyCall(ValueError("bad request"))
    with pytest.raises(ValueError):
        retrying(call)
    assert call.calls == 1


def test_backoff_grows_and_is_capped():
    assert [backoff_s(a) for a in range(3)] == [0.1, 0.2, 0.4]
    assert backoff_s(20) == 2.0


def test_the_llm_circuit_opens_after_failed_polls_and_closes_on_an_answer():
    circuit = Circuit("LLM", threshold=2)
    circuit.observe(answered=False)
    circuit.check()  # one slow poll is not an outage
    circuit.observe(answered=False)
    with pytest.raises(Unavailable):
        circuit.check()
    circuit.observe(answered=True)
    circuit.check()


def test_the_fault_run_waits_for_the_answers_it_was_asked_for():
    prober = faults.Prober(None, ["1"], "m")
    assert not prober.answered() and not prober.answered(explanation=False)
    prober.first_llm_explanation = 20.0
    assert not prober.answered()  # the chat route has not answered yet
    prober.first_llm_explanation, prober.first_chat = None, 12.0
    assert prober.answered(explanation=False) and not prober.answered()
    prober.first_llm_explanation = 20.0
    assert prober.answered()


def inject(service, recommender, role: str) -> dict:
    users, histories = population_of(recommender)
    item_ids = sorted({item for history in histories for item in history})
    bodies = soak.mixed_bodies(users, histories, 500, seed=31, deadline_ms=SUITE_DEADLINE_MS)
    result = asyncio.run(
        faults.inject(
            service,
            AUTH,
            role,
            bodies,
            item_ids,
            "recsplain-llm",
            RATE,
            before_s=3,
            after_s=2,
            # A replacement engine took 88 s to start beside other work on 2 cores, after ~20 s
            # of failed health checks: 120 s missed by seconds once, so `faults`' default 240 s.
            recover_timeout_s=240,
            # Then until the replacement engine answers a chat completion (asserted below): it
            # came 16.3 s after healthy once, past a fixed 15 s wait by luck. SmolLM2's
            # explanations are mostly refused, so waiting for one would wait out the bound.
            answer_timeout_s=90,
            await_explanation=False,
        )
    )
    print(result)
    # The session's Retriever holds 1 request plus 2 queued (for test_serving's overload test),
    # so while it restarts the rest is shed as 503 + Retry-After; nothing else may fail. The
    # < 1% error rate is `make faults`'s, on the served config (its queue holds 128).
    assert result["lost"] == 0 and set(result["statuses"]) <= {"200", "503"}, result["errors"]
    return result


@pytest.mark.disruptive
def test_the_retriever_dying_under_load_loses_no_request(service, default_recommender):
    result = inject(service, default_recommender, "Retriever")
    assert result["recovery_s"]["first_success"] is not None
    assert result["recovery_s"]["healthy"] < 60


@pytest.mark.disruptive
def test_the_llm_engine_dying_under_load_degrades_to_templates(service, default_recommender):
    result = inject(service, default_recommender, "llm_engine")
    assert TEMPLATE_REASONS & set(result["template_reasons"]), result["template_reasons"]
    assert result["recovery_s"]["first_chat_completion"] is not None  # the replacement engine
