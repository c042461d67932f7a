"""The layout keeps its promises: the public API, the error tree, ARCHITECTURE.md's table
naming every module, and no import cycles between modules."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import harmonise
from harmonise import errors

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "harmonise"
ROOT = SRC.parent

PUBLIC_API = [
    "Crosswalk",
    "DisclosureRules",
    "EstimateTable",
    "HarmoniseError",
    "HarmonisedSurvey",
    "Manifest",
    "RunResult",
    "Schema",
    "Store",
    "SurveyFile",
    "WeightedSurvey",
    "__version__",
    "apply_crosswalk",
    "compare",
    "estimate_indicators",
    "load_crosswalk",
    "load_manifest",
    "load_schema",
    "read_survey",
    "read_targets_table",
    "report_data",
    "run",
    "select_targets",
    "trends",
    "validate_paths",
    "weight_survey",
    "write_report",
]


def test_public_api_is_what_the_docs_promise() -> None:
    assert sorted(harmonise.__all__) == sorted(PUBLIC_API)
    for name in harmonise.__all__:
        assert getattr(harmonise, name) is not None, name


def test_import_harmonise_does_not_load_the_stages() -> None:
    code = ("import sys, harmonise; "
            "print(sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def _tree_from_docstring() -> dict[str, str]:
    """``{class: parent}`` from the tree drawn at the top of errors.py."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*)(?:[│ ]*[├└]── )?([A-Z]\w*Error)\b", line)
        if not match:
            continue
        name = match.group(2)
        depth = line.index(name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_error_tree_in_the_docstring_matches_the_classes() -> None:
    drawn = _tree_from_docstring()
    classes = {
        name: cls for name in errors.__all__
        if isinstance(cls := getattr(errors, name), type) and issubclass(cls, Exception)
    }
    assert set(drawn) | {"HarmoniseError"} == set(classes)
    for name, parent in drawn.items():
        assert classes[name].__bases__ == (classes[parent],), name


def _modules() -> list[Path]:
    return sorted(
        p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py")
        if p.name not in ("__init__.py", "_version.py")
    )


def test_architecture_table_names_every_module() -> None:
    rows = [line for line in (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("|")]
    missing = []
    for module in _modules():
        path = module.as_posix()
        folder = f"{module.parent.as_posix()}/" if module.parent != Path() else ""
        named = any(
            f"`{path}`" in row or (folder and folder in row and f"`{module.name}`" in row)
            for row in rows
        )
        if not named:
            missing.append(path)
    assert not missing, f"ARCHITECTURE.md's table does not mention: {missing}"


def _imports(module: str, path: Path, modules: set[str]) -> set[str]:
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            # an import of a package's own __init__ from inside it is a re-export, not a cycle
            if name and name != module and not module.startswith(name + "."):
                found.add(name)
    return found


def test_no_import_cycles_between_modules() -> None:
    paths = {}
    for p in PACKAGE.rglob("*.py"):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        paths[".".join(parts)] = p
    graph = {m: _imports(m, p, set(paths)) for m, p in paths.items()}
    # Tarjan's strongly connected components
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"
