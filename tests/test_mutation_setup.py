"""The mutation run (`make mutation`, docs/testing.md) stays in step with the code it checks: every module
and test file it names exists, each function it names is defined in its module, its output is git-ignored,
and docs/testing.md reports every module."""
from __future__ import annotations

import ast
import subprocess

from tests.conftest import ROOT
from tests.mutation import run


def test_every_module_and_test_file_the_mutation_run_names_exists():
    for module in run.MODULES:
        assert module.optional or (ROOT / module.path).is_file(), module.path
        for test_file in module.tests:
            assert (ROOT / test_file).is_file(), f"{module.name}: {test_file}"


def test_every_function_the_mutation_run_picks_is_defined_in_its_module():
    for module in run.MODULES:
        if module.functions == ("*",):
            continue
        tree = ast.parse((ROOT / module.path).read_text())
        defined = {f"x_{node.name}" for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert set(module.functions) <= defined, f"{module.name}: {set(module.functions) - defined}"


def test_the_mutation_output_is_git_ignored():
    ignored = subprocess.run(["git", "check-ignore", "-q", "mutants/claims/pyproject.toml"], cwd=ROOT)
    assert ignored.returncode == 0


def test_docs_report_a_score_for_every_module_present():
    testing = (ROOT / "docs" / "testing.md").read_text()
    for module in run.MODULES:
        if (ROOT / module.path).exists():
            assert f"| {module.name} |" in testing, module.name


def test_no_test_the_mutation_run_uses_has_postgresql_in_its_name():
    """Mutation runs are SQLite-only: they deselect `-k "not postgresql"` (pyproject.toml), which matches a
    test's name as well as its `[postgresql]` parameter — a test named for PostgreSQL would silently never
    judge a mutant, on SQLite either."""
    assert '"-k", "not postgresql"' in (ROOT / "pyproject.toml").read_text()
    named = []
    for test_file in sorted({t for module in run.MODULES for t in module.tests}):
        tree = ast.parse((ROOT / test_file).read_text())
        named += [f"{test_file}::{node.name}" for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and "postgresql" in node.name]
    assert named == []
