"""Moving one running case to a newer version: offered only when safe, previewed, audited (both databases)."""
from __future__ import annotations

import pytest

from engine.design import migration, workspace
from engine.errors import Conflict
from engine.people import users
from engine.work import casepages, cases
from tests.conftest import PASSWORD
from tests.test_designer import APPROVAL, with_new_review_field

# A second review step (复核) after 审核: the case waiting at 审核 can move, it only gains a step.
RECHECK = APPROVAL.replace(
    b'<bpmn:sequenceFlow id="F2" sourceRef="Review" targetRef="Gw"/>',
    b'<bpmn:userTask id="Recheck" name="\xe5\xa4\x8d\xe6\xa0\xb8"><bpmn:incoming>F2</bpmn:incoming>'
    b'<bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>'
    b'<bpmn:sequenceFlow id="F2" sourceRef="Review" targetRef="Recheck"/>'
    b'<bpmn:sequenceFlow id="F3" sourceRef="Recheck" targetRef="Gw"/>').replace(
    b'<bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F_ok',
    b'<bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F_ok').replace(
    b"<bpmn:flowNodeRef>Review</bpmn:flowNodeRef>",
    b"<bpmn:flowNodeRef>Review</bpmn:flowNodeRef><bpmn:flowNodeRef>Recheck</bpmn:flowNodeRef>")
# 审核 renamed to a new element id: a case waiting at it has no place in the new version.
REVIEW_REPLACED = APPROVAL.replace(b'"Review"', b'"Review2"').replace(b">Review<", b">Review2<").replace(
    b'targetRef="Review"', b'targetRef="Review2"').replace(b'sourceRef="Review"', b'sourceRef="Review2"')


@pytest.fixture
def setup(db, staff):
    actor = users.create_user(db, "designer", PASSWORD, "周设计", ["流程设计人员"])
    workspace.deploy(db, actor, APPROVAL, "approval.bpmn", "首版")
    case = cases.start_case(db, staff["clerk"], "approval", {"title": "路灯不亮"})
    return actor, case.case_number


def history_kinds(db, staff, number):
    return [e.kind for e in casepages.get_case(db, staff["auditor"], number).history]


def test_safe_migration_is_previewed_then_done_and_audited(db, staff, setup):
    actor, number = setup
    workspace.deploy(db, actor, RECHECK, "approval.bpmn", "加复核")
    preview = migration.preview(db, actor, number)
    assert preview.safe, preview.reasons
    assert [(m.old_name, m.new_name) for m in preview.mapping] == [("审核", "审核")]
    assert (preview.from_label, preview.to_label) == ("第 1 版", "第 2 版")
    migration.migrate(db, actor, number, preview.from_version, preview.to_version)
    view = casepages.get_case(db, staff["auditor"], number)
    assert view.version_id == preview.to_version
    migrated = [e for e in view.history if e.kind == "migrated"]
    assert migrated and migrated[0].data["from"] == "第 1 版" and migrated[0].data["to"] == "第 2 版"
    cases.complete_task(db, staff["leader"], view.open_steps[0].task_id, {"decision": "同意"})
    assert [s.step_name for s in casepages.get_case(db, staff["auditor"], number).open_steps] == ["复核"]


def test_migration_carries_the_new_form_to_the_open_step(db, staff, setup):
    actor, number = setup
    workspace.deploy(db, actor, with_new_review_field(), "approval.bpmn", "改表单")
    preview = migration.preview(db, actor, number)
    migration.migrate(db, actor, number, preview.from_version, preview.to_version)
    task_id = casepages.get_case(db, staff["leader"], number).open_steps[0].task_id
    from engine.work import tasklist

    assert [f.id for f in tasklist.get_task(db, staff["leader"], task_id).form] == ["decision", "reason", "phone"]


def test_migration_is_refused_when_the_open_step_was_removed(db, staff, setup):
    actor, number = setup
    workspace.deploy(db, actor, REVIEW_REPLACED, "approval.bpmn", "审核改名")
    preview = migration.preview(db, actor, number)
    assert not preview.safe
    assert any("审核" in r and "已删除" in r for r in preview.reasons), preview.reasons
    with pytest.raises(Conflict):
        migration.migrate(db, actor, number, preview.from_version, preview.to_version)
    assert casepages.get_case(db, staff["auditor"], number).version_id == preview.from_version
    assert "migrated" not in history_kinds(db, staff, number)


def test_a_finished_case_is_not_migrated(db, staff, setup):
    actor, number = setup
    task_id = casepages.get_case(db, staff["leader"], number).open_steps[0].task_id
    cases.complete_task(db, staff["leader"], task_id, {"decision": "同意"})
    workspace.deploy(db, actor, RECHECK, "approval.bpmn", "加复核")
    assert "事项已办结,不需要迁移" in migration.preview(db, actor, number).reasons


def test_a_stale_preview_cannot_migrate(db, staff, setup):
    actor, number = setup
    workspace.deploy(db, actor, RECHECK, "approval.bpmn", "加复核")
    preview = migration.preview(db, actor, number)
    with pytest.raises(Conflict):
        migration.migrate(db, actor, number, preview.to_version, preview.to_version)


def test_a_migrated_cases_audit_bundle_verifies_offline(db, staff, setup):
    """A case moved to a newer version carries that version's diagram in its bundle; the bundle still
    verifies, because the hashed 迁移 record names the version it moved to."""
    from engine.audit import verify

    actor, number = setup
    workspace.deploy(db, actor, RECHECK, "approval.bpmn", "加复核")
    preview = migration.preview(db, actor, number)
    migration.migrate(db, actor, number, preview.from_version, preview.to_version)
    bundle = verify.case_bundle(db, staff["auditor"], number)
    verdict = verify.verify_bundle(bundle)
    assert verdict.ok, verdict.broken


def test_a_migrated_cases_bundle_with_the_old_diagram_is_refused(db, staff, setup):
    """The bundle of a migrated case must carry the version it moved to: the first version's diagram,
    though genuine, is refused, naming the 迁移 record."""
    from engine.audit import verify
    from engine.bpmn import deployments

    actor, number = setup
    workspace.deploy(db, actor, RECHECK, "approval.bpmn", "加复核")
    preview = migration.preview(db, actor, number)
    migration.migrate(db, actor, number, preview.from_version, preview.to_version)
    bundle = verify.case_bundle(db, staff["auditor"], number)
    with db.read() as session:
        first = deployments.diagram_of(session, preview.from_version)
    bundle["diagram"] = {**bundle["diagram"], "hash": first.hash, "bpmn": APPROVAL.decode("utf-8")}
    verdict = verify.verify_bundle(bundle)
    migrated = next(e for e in bundle["events"] if e["kind"] == "migrated")
    assert (verdict.broken.seq, verdict.broken.problem) == (migrated["seq"], "迁移记录中的流程图版本与包内流程图不符")


def test_a_bundle_of_a_case_not_migrated_must_carry_the_version_it_was_registered_on(db, staff, setup):
    """A case that was not moved runs on the version its 登记受理 record names: its bundle with a later
    version's diagram, though genuine, is refused at that first record; with its own version it verifies."""
    from engine.audit import verify
    from engine.bpmn import deployments

    actor, number = setup
    workspace.deploy(db, actor, RECHECK, "approval.bpmn", "加复核")
    later_version = migration.preview(db, actor, number).to_version
    bundle = verify.case_bundle(db, staff["auditor"], number)
    events = len(bundle["events"])
    assert verify.verify_bundle(bundle) == verify.Verdict(events, 1, None)
    with db.read() as session:
        later = deployments.diagram_of(session, later_version)
    bundle["diagram"] = {**bundle["diagram"], "hash": later.hash, "bpmn": RECHECK.decode("utf-8")}
    assert verify.verify_bundle(bundle) == verify.Verdict(events, 1, verify.Break(
        "bundle", number, 1, "受理记录中的流程图版本与包内流程图不符"))


def test_a_role_new_to_the_open_step_is_wanted_in_the_case_unit(db, staff, setup):
    """审核 moves to the 社区“两委” lane: after the move the step waits for 社区“两委” where the case is."""
    actor, number = setup
    moved = APPROVAL.replace("社区负责人".encode(), "社区“两委”".encode())
    workspace.deploy(db, actor, moved, "approval.bpmn", "改由两委审核")
    preview = migration.preview(db, actor, number)
    migration.migrate(db, actor, number, preview.from_version, preview.to_version)
    [step] = casepages.get_case(db, staff["auditor"], number).open_steps
    assert step.roles == ("社区“两委”",)
    cases.complete_task(db, staff["liangwei"], step.task_id, {"decision": "同意"})
    assert casepages.get_case(db, staff["auditor"], number).status == "completed"
