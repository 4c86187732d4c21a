"""explain-batch end to end: the CLI in its own process, with vLLM's real async engine and the
server's explanation policy.

It runs in a subprocess so the engine is gone before the served app starts its own (the files
are collected alphabetically, so this runs before test_serving).
"""

from __future__ import annotations

import polars as pl

from retrieval.recommender import Query
from serve.config import PROJECT_ROOT
from serve.model_prep import SMOLLM2, SMOLLM2_DIR_NAME, prepare_model
from tests.conftest import explain_batch


def test_explain_batch_explains_pairs_and_keeps_bad_rows(
    tmp_path, default_artifacts, default_recommender
):
    prepare_model(SMOLLM2, PROJECT_ROOT / "models" / SMOLLM2_DIR_NAME)
    pairs = []
    for user in ("1", "15"):
        recs = default_recommender.recommend([Query(default_recommender.user_history(user))], 2)[0]
        pairs += [(user, rec.item_id) for rec in recs]
    rows = pl.DataFrame(
        {
            "user_id": [u for u, _ in pairs] + ["no-such-user", "1"],
            "item_id": [i for _, i in pairs] + ["318", "no-such-item"],
        }
    )
    rows.write_csv(tmp_path / "pairs.csv")
    out = tmp_path / "explained.parquet"
    explain_batch(
        tmp_path, default_artifacts[0], ["--in", str(tmp_path / "pairs.csv"), "--out", str(out)]
    )
    result = pl.read_parquet(out)
    assert result["user_id"].to_list() == rows["user_id"].to_list()
    good, bad = result.head(4), result.tail(2)
    assert good["error"].is_null().all() and good["explanation"].is_not_null().all()
    assert set(good["source"].to_list()) <= {"llm", "template"}
    for source, reason in good.select("source", "reason").iter_rows():
        assert (reason is None) == (source == "llm"), "every template says why"
    assert all(cited for cited in good["cited_item_ids"].to_list())
    assert bad["explanation"].is_null().all()
    assert bad["error"].to_list() == [
        "unknown user_id 'no-such-user'",
        "unknown item_id 'no-such-item'",
    ]
