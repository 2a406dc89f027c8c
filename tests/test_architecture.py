"""The package's shape: one-way imports, no borrowed private names, cheap import.

The module graph is read from the source (every ``import`` statement, function-level ones
included, since those make cycles too) and must be acyclic; the graph drawn in
docs/developer.md must be this graph, so the picture cannot go stale.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_texture"
DEVELOPER_NOTES = PACKAGE.parent / "docs" / "developer.md"


def _module_name(path):
    return path.stem


def _imports(path):
    """(imported module, imported names) of every package-internal import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:  # from . import x
                found += [(alias.name, ()) for alias in node.names]
            elif node.level == 1:
                found.append((node.module.split(".")[0], tuple(a.name for a in node.names)))
            elif node.module == "sklearn_texture":
                found += [(alias.name, ()) for alias in node.names
                          if (PACKAGE / f"{alias.name}.py").is_file()]
            elif node.module and node.module.startswith("sklearn_texture."):
                found.append((node.module.split(".")[1], tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn_texture."):
                    found.append((alias.name.split(".")[1], ()))
    return found


def module_graph():
    """``{module: set of package modules it imports}`` for every module of the package."""
    graph = {}
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in ("__init__", "__main__"):
            continue  # the lazy façade and the entry point import by name, not for use
        graph[_module_name(path)] = {module for module, _ in _imports(path)} - {path.stem}
    return graph


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target):], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_module_graph_has_no_cycles():
    graph = module_graph()
    assert set(graph) >= {"gram", "spectrum", "backbones", "_images", "_tiling", "_base"}
    assert _find_cycle(graph) is None, f"import cycle: {' -> '.join(_find_cycle(graph))}"


def test_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_another_modules_private_names():
    borrowed = []
    for path in sorted(PACKAGE.glob("*.py")):
        for module, names in _imports(path):
            borrowed += [f"{path.name} imports {module}.{name}" for name in names
                         if name.startswith("_") and name != "__version__"]
    assert borrowed == []


def test_developer_notes_draw_the_real_module_graph():
    text = DEVELOPER_NOTES.read_text()
    drawn = set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", text, flags=re.MULTILINE))
    actual = {(source, target) for source, targets in module_graph().items()
              for target in targets}
    assert drawn == actual, (
        f"missing from docs/developer.md: {sorted(actual - drawn)}; "
        f"drawn but not imported: {sorted(drawn - actual)}"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import sklearn_texture",
        "from sklearn_texture import PowerSpectrumVectorizer, PerlinTextureDataset",
        "from sklearn_texture import LandmarkMDS, angle_rmse, linear_r2, texture_distances",
        "import sklearn_texture.spectrum, sklearn_texture.datasets, sklearn_texture.io",
    ],
)
def test_import_without_torch_or_matplotlib(statement):
    code = (f"{statement}\nimport sys\n"
            "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True)
    assert completed.stdout.strip() == "[]"


def test_lazy_names_resolve_and_unknown_names_fail():
    import sklearn_texture

    for name in sklearn_texture.__all__:
        assert getattr(sklearn_texture, name) is not None
    assert set(sklearn_texture.__all__) <= set(dir(sklearn_texture))
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        sklearn_texture.missing  # noqa: B018


def test_library_modules_log_instead_of_printing():
    """Only the command line prints; the library speaks through logging."""
    printing = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in ("cli", "__main__"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                printing.append(f"{path.name}:{node.lineno}")
    assert printing == []
