"""Diagrams made by other tools and people: each is accepted, or rejected with clear problems."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.actor import Actor
from engine.bpmn import deployments
from engine.work import casepages, cases
from tests.conftest import SHARED
from tests.test_foreign_diagrams import english

CORPORA = SHARED / "corpora"
FILES = sorted((CORPORA / "miwg" / "Reference").glob("*.bpmn")) + sorted((CORPORA / "realworld").rglob("*.bpmn")) \
    + sorted((CORPORA / "miwg" / "tools").rglob("*.bpmn"))
ANYONE = Actor(1, "tester", "测试", frozenset({"测试"}), grants=frozenset({("测试", 1)}), scope=None)
AUDITOR = Actor(2, "auditor", "审计", frozenset({"审计"}), grants=frozenset({("审计", 1)}), scope=None)


def test_the_corpora_are_present():
    assert len(FILES) >= 21 + 39, f"expected the MIWG and realworld corpora under {CORPORA}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPORA)))
def test_corpus_file_is_accepted_or_rejected_clearly(path: Path):
    problems = deployments.problems_of_file(path.read_bytes(), path.name)
    for problem in problems:
        assert problem.file == path.name
        assert problem.message.strip(), problem
        assert problem.element_id or problem.line, problem
        assert not english(problem.message), problem


ACCEPTED = [p for p in FILES if not deployments.problems_of_file(p.read_bytes(), p.name)]


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: str(p.relative_to(CORPORA)))
def test_accepted_corpus_diagram_starts_a_case(sqlite_db, frozen_clock, path: Path):
    """A diagram that passes validation runs: the case gets its number at once — the diagram's
    caseNumberPrefix (default AJ), the day (China time) and the first number of its sequence — and can be
    read back."""
    version, _ = deployments.deploy(sqlite_db, path.read_bytes(), path.name, ANYONE)
    with sqlite_db.read() as session:
        prefix = deployments.diagram_of(session, version.id).properties.get("caseNumberPrefix", "AJ")
    result = cases.start_case(sqlite_db, ANYONE, version.process_id, {})
    assert result.case_number == f"{prefix}-20261123-000001"
    assert result.case_status in ("running", "completed")
    view = casepages.get_case(sqlite_db, AUDITOR, result.case_number)
    assert (view.number, view.status, view.process_id) == (result.case_number, result.case_status, version.process_id)
