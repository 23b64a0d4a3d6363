"""The package's import structure: no import cycle among the modules of src/wgan (function-local imports
included, which lazy imports would otherwise hide), and no two modules with the same file name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "wgan"


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module under ``root`` by dotted name (a package by its own name, from its ``__init__.py``)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:``, which never run."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def imports_of(name: str, path: Path, modules: dict[str, Path], typing_too: bool = False) -> set[str]:
    """The modules of ``modules`` that module ``name`` imports anywhere in its body (top level or inside a
    function). Relative imports are resolved; ``from P import x`` counts as importing ``P.x`` when that is a
    module, else ``P``. Imports under ``if TYPE_CHECKING:`` count only with ``typing_too``."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = set() if typing_too else _type_checking_only(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph(modules: dict[str, Path], typing_too: bool = False) -> dict[str, set[str]]:
    return {name: imports_of(name, path, modules, typing_too) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]`` (depth-first search), or None when it has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"z"}, "z": {"y"}}) == ["y", "z", "y"]


def test_imports_of_resolves_relative_function_local_and_from_package_imports(tmp_path):
    pkg = tmp_path / "p"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("from ..a import f\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\nfrom . import c\n")
    (pkg / "sub" / "c.py").write_text("import p.a\n")
    modules = module_names(pkg)
    graph = import_graph(modules)
    assert graph == {"p": set(), "p.a": {"p.sub.b"}, "p.sub": {"p.a"}, "p.sub.b": {"p.sub.c"}, "p.sub.c": {"p.a"}}
    assert find_cycle(graph) == ["p.a", "p.sub.b", "p.sub.c", "p.a"]
    assert import_graph(modules, typing_too=True)["p.sub.b"] == {"p.a", "p.sub.c"}


def test_no_import_cycle_in_wgan():
    cycle = find_cycle(import_graph(module_names()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_in_wgan_counting_type_annotations():
    """Not even the imports that only annotations need (``if TYPE_CHECKING:``) close a cycle: a module that
    needs the shape of a caller's object types it with a Protocol of its own (e.g. :class:`wgan.kinds.base.Run`
    for what a data kind reads from the Trainer), so each layer depends only on those below it."""
    cycle = find_cycle(import_graph(module_names(), typing_too=True))
    assert cycle is None, "import cycle through TYPE_CHECKING imports: " + " -> ".join(cycle or [])


def test_no_two_modules_share_a_file_name():
    by_name = defaultdict(list)
    for path in PACKAGE.rglob("*.py"):
        if path.name not in ("__init__.py", "__main__.py"):
            by_name[path.name].append(str(path.relative_to(SRC)))
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, f"modules sharing a file name (rename one to say what it holds): {clashes}"


def test_config_is_the_schema_alone():
    """wgan.config imports nothing of wgan but its errors; the checks across modules live in wgan.resolve."""
    modules = module_names()
    assert imports_of("wgan.config", modules["wgan.config"], modules) <= {"wgan.errors"}


def test_no_reproduction_module_imports_another():
    """wgan.experiments holds one module per reproduction: what several share lives in ``_`` modules, so a
    reproduction module imports none of the others (the package itself and its ``_`` modules aside)."""
    graph = import_graph(module_names())
    prefix = "wgan.experiments."
    repro = {m for m in graph if m.startswith(prefix) and not m[len(prefix):].startswith("_")}
    assert len(repro) >= 19, sorted(repro)
    crossing = {m: sorted(graph[m] & repro) for m in sorted(repro) if graph[m] & repro}
    assert not crossing, f"reproduction modules importing another (move the shared part into a _ module): {crossing}"


def test_shared_experiment_modules_import_no_reproduction():
    """The ``_`` modules of wgan.experiments hold what reproductions share; none of them imports a reproduction."""
    graph = import_graph(module_names())
    prefix = "wgan.experiments."
    shared = {m for m in graph if m.startswith(prefix + "_")}
    repro = {m for m in graph if m.startswith(prefix) and m not in shared}
    crossing = {m: sorted(graph[m] & repro) for m in sorted(shared) if graph[m] & repro}
    assert not crossing, f"shared experiment modules importing a reproduction module: {crossing}"
