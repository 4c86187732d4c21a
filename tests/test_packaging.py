"""The wheel holds every package of the source tree, so a non-editable install (an image) runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from serve.config import PROJECT_ROOT

NO_CACHE = shutil.ignore_patterns("__pycache__")


def test_the_wheel_holds_every_package(tmp_path):
    source = tmp_path / "source"  # a copy: setuptools writes build/ next to pyproject.toml
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    for name in ("retrieval", "serve"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=NO_CACHE)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    subprocess.run(
        [*pip_wheel, "--no-build-isolation", "--wheel-dir", str(tmp_path), str(source)],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("recsplain-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(init.relative_to(PROJECT_ROOT))
        for top in ("retrieval", "serve")
        for init in (PROJECT_ROOT / top).rglob("__init__.py")
    }
    assert expected, "no packages found"
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert not any(Path(name).parts[0] in ("tests", "benchmarks") for name in names)
