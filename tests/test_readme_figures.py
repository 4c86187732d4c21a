"""The README's soak and fault tables are the committed result files' (issue 19, item 9)."""

from __future__ import annotations

import json

from benchmarks import readme_figures


def test_the_readme_tables_match_their_result_files():
    readme = readme_figures.README.read_text()
    assert readme_figures.render(readme) == readme, "run `python -m benchmarks.readme_figures`"


def test_a_changed_result_makes_the_table_stale():
    result = json.loads((readme_figures.RESULTS / "soak.json").read_text())
    table = readme_figures.soak_table(result)
    result["lost"] += 1
    assert readme_figures.soak_table(result) != table
    assert "11,156 / 11,156 / 0 / 0 / 1" in readme_figures.soak_table(result)
