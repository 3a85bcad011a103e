"""Every diagram survives the designer's modeler: read and saved by bpmn-moddle + camunda-bpmn-moddle
(the versions in package-lock.json, run with node), it means the same, validates and runs a case.

A diagram a designer cannot open and save without changing what it says is a failing test.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.actor import SYSTEM, Actor
from engine.bpmn import deployments, diagram
from engine.bpmn.forms import FormField
from engine.work import cases
from tests.conftest import DATA, IN_CI, PROCESSES, ROOT
from tests.tools.meaning import differences, meaning
from tests.yizheng import Matter

SCRIPT = ROOT / "tests" / "tools" / "roundtrip.mjs"
DIAGRAMS = sorted(PROCESSES.glob("*.bpmn")) + sorted(DATA.glob("*.bpmn"))


def save_in_the_modeler(*paths: Path) -> dict[Path, tuple[bytes, list[str]]]:
    """Each diagram as the modeler writes it back, with the warnings it gave when reading it."""
    node = shutil.which("node")
    missing = "node" if node is None else None
    if node and not (ROOT / "node_modules" / "bpmn-moddle").is_dir():
        missing = "node_modules (npm ci)"
    if missing:
        if IN_CI:
            pytest.fail(f"{missing} is required under CI for the modeler round trip")
        pytest.skip(f"{missing} not installed")
    done = subprocess.run([node, str(SCRIPT), *map(str, paths)], cwd=ROOT, capture_output=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr.decode()
    return {Path(r["file"]): (r["xml"].encode(), r["warnings"]) for r in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def saved() -> dict[Path, tuple[bytes, list[str]]]:
    return save_in_the_modeler(*DIAGRAMS)


def test_there_are_diagrams_to_round_trip():
    assert {p.name for p in PROCESSES.glob("*.bpmn")} <= {p.name for p in DIAGRAMS}
    assert len(DIAGRAMS) >= 7


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_the_modeler_reads_the_diagram_without_warnings_and_keeps_its_meaning(saved, path):
    xml, warnings = saved[path]
    assert warnings == []
    assert differences(meaning(path.read_bytes()), meaning(xml)) == []
    assert diagram.problems_of(xml, path.name) == []


def sample_value(field: FormField) -> str:
    """A value the form accepts for a field, whatever the diagram."""
    if field.choices:
        return field.choices[0].id
    if field.type in ("long", "double"):
        return str(int(field.minimum if field.minimum is not None else 1))
    return {"boolean": "true", "date": "2026-11-23"}.get(field.type, "第一项\n第二项" if field.lines else "测试")


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_a_case_of_the_saved_diagram_reaches_the_same_first_steps(saved, db, frozen_clock, path):
    """The saved diagram is deployed as a new version of the same procedure and a case runs on it."""
    first_steps = []
    for xml in (path.read_bytes(), saved[path][0]):
        version, _ = deployments.deploy(db, xml, path.name, SYSTEM)
        d = diagram.load(xml, path.name)
        roles = frozenset(d.start_roles) | {"管理员"}
        starter = Actor(1, "tester", "测试", roles, grants=frozenset((r, 1) for r in roles), scope=None)
        started = cases.start_case(db, starter, version.process_id, {f.id: sample_value(f) for f in d.start_form})
        first_steps.append(sorted((t.step_name, t.roles) for t in started.new_tasks))
    original, after_saving = first_steps
    assert after_saving == original


def test_简易程序_saved_in_the_modeler_still_resolves_each_item_with_its_own_vote(saved, db, staff, frozen_clock):
    """The multi-instance over the case variable `items` survives the save: one vote per item."""
    deployments.deploy(db, saved[PROCESSES / "yizheng_jianyi.bpmn"][0], "yizheng_jianyi.bpmn", SYSTEM)
    m = Matter(db, staff, "yizheng_jianyi", title="慰问品发放", topic="慰问品发放", items="第一批\n第二批\n第三批",
               opinion_summary="无异议", proposal="按户发放")
    m.do("UserTask_review", "yishihui", review_decision="同意提交表决")
    assert len(m.task_ids("UserTask_item_vote")) == 3


def test_a_reference_the_modeler_cannot_resolve_is_lost_on_saving_and_the_comparison_sees_it(tmp_path):
    """Without its declaration, 简易程序's loopDataInputRef is dropped by the modeler (the bug this guards)."""
    source = (PROCESSES / "yizheng_jianyi.bpmn").read_text(encoding="utf-8")
    start = source.index('<bpmn:property id="items"')
    undeclared = tmp_path / "yizheng_jianyi.bpmn"
    undeclared.write_text(source[:start] + source[source.index("</bpmn:property>", start) + 16:], encoding="utf-8")
    [(xml, warnings)] = save_in_the_modeler(undeclared).values()
    assert warnings == ["unresolved reference <items>"]
    [changed] = differences(meaning(undeclared.read_bytes()), meaning(xml))
    assert changed.startswith("SubProcess_items:") and "loopDataInputRef" in changed
    assert any("多实例任务须填写循环次数(loopCardinality)或要逐项处理的列表(loopDataInputRef)" in p.message
               for p in diagram.problems_of(xml, "yizheng_jianyi.bpmn"))


def test_layout_and_prefixes_are_not_meaning_but_a_condition_is():
    source = (DATA / "approval.bpmn").read_text(encoding="utf-8")
    respelled = source.replace("bpmn:", "semantic:").replace("xmlns:bpmn=", "xmlns:semantic=") \
        .replace('cancelActivity="true" ', "").replace("<semantic:endEvent", "<!-- 注释 --><semantic:endEvent")
    assert differences(meaning(source.encode()), meaning(respelled.encode())) == []
    changed = source.replace('${decision == "同意"}', '${decision != "同意"}')
    assert [d.split(":")[0] for d in differences(meaning(source.encode()), meaning(changed.encode()))] == ["F_ok"]
