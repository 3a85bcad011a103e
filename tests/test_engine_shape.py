"""engine/ keeps its shape: packages by concern, each importing only the packages its docstring
names ("May import: …"), no import circle between any two modules, and never Flask or web/.

Imports inside functions count as much as those at the top of a module: a late import still
ties two modules together."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
ROOT_MODULES = {"errors", "clock", "actor"}  # the only modules beside the packages
PACKAGES = ("store", "bpmn", "people", "work", "audit", "public", "design")


def module_name(path: Path, top: Path) -> str:
    parts = path.relative_to(top.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, top: Path) -> list[tuple[str, int]]:
    """Every module of the `top` package that `path` imports, with the line, however it is written."""
    name = module_name(path, top)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            # `from pkg import mod` imports a module, `from pkg.mod import Name` a name in one
            found += [(f"{source}.{alias.name}", node.lineno) for alias in node.names]
    return [(target, line) for target, line in found if target == top.name or target.startswith(top.name + ".")]


def module_graph(top: Path) -> dict[str, dict[str, int]]:
    """module → {imported module of `top`: line}; alembic's migration scripts are not part of the graph."""
    paths = [p for p in top.rglob("*.py") if "migrations" not in p.relative_to(top).parts]
    modules = {module_name(p, top): p for p in paths}
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(path, top):
            while target not in modules:  # a name in a module: the module
                target = target.rpartition(".")[0]
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def allowed_packages(top: Path) -> dict[str, set[str]]:
    """package → the packages its `__init__` docstring says it may import."""
    allowed = {}
    for init in sorted(top.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        match = re.search(r"^May import: (.*)$", doc, re.MULTILINE)
        assert match, f"{init}: the docstring has no line 'May import: …'"
        allowed[init.parent.name] = {word for word in re.findall(r"\w+", match.group(1))
                                     if (top / word / "__init__.py").exists()}
    return allowed


def upward_imports(top: Path, graph: dict[str, dict[str, int]]) -> list[str]:
    """Imports from one package into another that its docstring does not allow, and imports of
    any package from the modules at the top (which sit below every package)."""
    allowed = allowed_packages(top)

    def package(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in allowed else None

    wrong = []
    for source, edges in graph.items():
        for target, line in edges.items():
            here, there = package(source), package(target)
            if there is None or there == here:
                continue  # a module at the top, which every package may use, or one of the same package
            if here is None:
                wrong.append(f"{source} (a module at the top) imports {target} (line {line})")
            elif there not in allowed[here]:
                wrong.append(f"{source} imports {target} (line {line}): {here} may not import {there}")
    return sorted(wrong)


# --- the rules, on engine/ ---------------------------------------------------------

def test_engine_has_no_import_circle():
    assert circles(module_graph(ENGINE)) == []


def test_no_package_imports_one_above_it():
    assert upward_imports(ENGINE, module_graph(ENGINE)) == []


def test_the_packages_stack_in_one_order():
    """A package may import only packages before it in PACKAGES: one order for all, so two
    packages can never come to need each other."""
    allowed = allowed_packages(ENGINE)
    assert sorted(allowed) == sorted(PACKAGES)
    for position, package in enumerate(PACKAGES):
        assert allowed[package] <= set(PACKAGES[:position]), package


def test_only_the_root_modules_sit_beside_the_packages():
    beside = {p.stem for p in ENGINE.glob("*.py")} - {"__init__"}
    assert beside == ROOT_MODULES
    assert {p.name for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(PACKAGES)


def test_package_inits_say_what_they_hold_and_re_export_nothing():
    for init in [ENGINE / "__init__.py", *ENGINE.glob("*/__init__.py")]:
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), \
            f"{init}: only a docstring, so every name is imported from the module where it lives"
        assert len(body[0].value.value.strip().splitlines()) >= 3, f"{init}: say what the package is for"


@pytest.mark.parametrize("forbidden", ["flask", "werkzeug", "web"])
def test_engine_never_imports_the_web_layer(forbidden):
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not any(n == forbidden or n.startswith(forbidden + ".") for n in names), f"{path}:{node.lineno}"


# --- the checks themselves catch what they are for -----------------------------------

def write_package(tmp_path: Path, files: dict[str, str]) -> Path:
    top = tmp_path / "engine"
    for name, text in files.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return top


LOW = '"""Low.\n\nHolds a.\n\nMay import: the root modules only.\n"""\n'
HIGH = '"""High.\n\nHolds b.\n\nMay import: the root modules, low.\n"""\n'


def test_a_late_import_closing_a_circle_is_found(tmp_path):
    top = write_package(tmp_path, {
        "__init__.py": '"""x"""\n', "low/__init__.py": LOW, "high/__init__.py": HIGH,
        "low/a.py": "from . import b\n",
        "low/b.py": "def f():\n    from .a import thing\n",
    })
    assert circles(module_graph(top)) == [["engine.low.a", "engine.low.b"]]


def test_an_upward_import_is_named_with_its_line(tmp_path):
    top = write_package(tmp_path, {
        "__init__.py": '"""x"""\n', "errors.py": "", "low/__init__.py": LOW, "high/__init__.py": HIGH,
        "low/a.py": "import os\n\nfrom engine.high import b\n",
        "high/b.py": "from engine.low.a import x\nfrom engine import errors\n",
        "errors2.py": "from engine.low import a\n",
    })
    assert upward_imports(top, module_graph(top)) == [
        "engine.errors2 (a module at the top) imports engine.low.a (line 1)",
        "engine.low.a imports engine.high.b (line 3): low may not import high",
    ]
