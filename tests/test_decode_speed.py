"""benchmarks/decode_speed.py's command line, without an engine: a misspelt variant is refused
before anything starts, naming the known ones."""

from typer.testing import CliRunner

from benchmarks.decode_speed import VARIANTS, app


def test_an_unknown_variant_is_refused_before_any_engine_starts():
    result = CliRunner().invoke(app, ["--variants", "eager,compile"])
    assert result.exit_code == 2
    assert "compile" in result.output and all(name in result.output for name in VARIANTS)
