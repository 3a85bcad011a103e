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
