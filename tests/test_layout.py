"""The house's shape, checked: arrows point one way (benchmarks -> serve -> retrieval), the
verifier never reads the prompts that it judges, no two modules import each other at load time,
and no module in serve/ outgrows one concept (issue 16: about 400 lines)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("retrieval", "serve", "benchmarks")
MAX_SERVE_LINES = 420  # "about 400"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, load_time_only: bool = False) -> set[str]:
    """Project modules `path` imports; with `load_time_only`, only those at module level (an
    import inside a function runs when it is called, which is how a module avoids a cycle)."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if load_time_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


MODULES = {module_name(path): path for package in PACKAGES for path in sources(package)}


def known(names: set[str]) -> set[str]:
    """The project modules among `names` (`from a import b` may name a module or a symbol)."""
    return {name for name in names if name in MODULES}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("retrieval", ("serve", "benchmarks")), ("serve", ("benchmarks",))],
)
def test_arrows_point_one_way(package, forbidden):
    wrong = {
        module_name(path): sorted(name for name in imports(path) if name.startswith(forbidden))
        for path in sources(package)
    }
    assert not {module: names for module, names in wrong.items() if names}


def test_the_verifier_never_reads_what_it_judges():
    judged = ("serve.explain.prompts", "serve.explain.templates", "serve.explain.policy")
    wrong = {
        module_name(path): sorted(name for name in imports(path) if name.startswith(judged))
        for path in sorted((ROOT / "serve" / "explain" / "verify").rglob("*.py"))
    }
    assert not {module: names for module, names in wrong.items() if names}


def test_no_two_modules_need_each_other_at_load_time():
    graph = {
        name: known(imports(path, load_time_only=True)) - {name} for name, path in MODULES.items()
    }
    cycles = []
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # A package's __init__ importing its own submodules (serve.cli registers its commands) is
    # the package itself, not a cycle between concepts.
    real = [c for c in cycles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]
    assert not real, real


def test_no_module_in_serve_outgrows_one_concept():
    sizes = {module_name(p): len(p.read_text().splitlines()) for p in sources("serve")}
    assert not {name: lines for name, lines in sizes.items() if lines > MAX_SERVE_LINES}
