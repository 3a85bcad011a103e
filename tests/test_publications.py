"""The public board's content: only fields a designer marked public, newest first, with days left."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.design import trial, workspace
from engine.errors import NotFound
from engine.people import users
from engine.public import publications
from engine.store.models import Case
from engine.work import casepages, cases
from tests.conftest import DATA, PASSWORD, PROCESSES, deploy_file, refresh_kept
from tests.minqing import INTAKE
from tests.minqing import Matter as MinqingMatter
from tests.yizheng import PUBLISH, Matter

FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已联系热力公司,暖气已恢复。", "answered_at": "2026-11-23"}


@pytest.fixture
def deployed(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def answered(db, staff, **feedback) -> MinqingMatter:
    m = MinqingMatter(db, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已修复")
    m.do("UserTask_feedback", "handler", **{**FEEDBACK, **feedback})
    return m


def test_a_民情_answer_marked_for_集中式公示_is_published_with_its_public_fields_only(deployed, staff):
    m = answered(deployed, staff, publish="true", public_summary="3号楼暖气已修复,室温恢复正常。")
    [entry] = publications.board(deployed).items
    assert (entry.kind, entry.title, entry.case_number) == ("集中式公示", "3号楼暖气不热", m.number)
    assert entry.body == (("事项标题", "3号楼暖气不热"), ("公示内容", "3号楼暖气已修复,室温恢复正常。"))
    assert entry.ends_at is None and entry.remaining_days is None
    shown = repr(entry)
    for personal in (INTAKE["reporter_name"], INTAKE["reporter_contact"], INTAKE["address"]):
        assert personal not in shown


def test_a_民情_answer_not_marked_for_publicity_stays_off_the_board(deployed, staff):
    answered(deployed, staff)
    assert publications.board(deployed).total == 0


def test_the_board_lists_newest_first_filters_by_kind_and_counts_the_days_left(deployed, staff, frozen_clock):
    answered(deployed, staff, publish="true", public_summary="已修复")
    frozen_clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc))
    m = Matter(deployed, staff)
    m.consult({})
    m.propose_and_review()
    m.vote()
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    assert [p.kind for p in publications.board(deployed).items] == ["决议公开", "集中式公示"]
    [resolution] = publications.board(deployed, kind="决议公开").items
    assert resolution.remaining_days == 7 and resolution.in_publicity
    assert ("决议内容", PUBLISH["resolution"]) in resolution.body and ("赞成", "20") in resolution.body
    frozen_clock.set(datetime(2026, 11, 29, 14, 0, tzinfo=timezone.utc))
    assert publications.publication(deployed, resolution.id).remaining_days == 2
    frozen_clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc))  # 23:00 on the last day, 12-01
    last = publications.publication(deployed, resolution.id)
    assert last.remaining_days == 0 and last.in_publicity and str(last.last_day) == "2026-12-01"
    frozen_clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc))  # 24:00: the period is over
    assert not publications.publication(deployed, resolution.id).in_publicity
    frozen_clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc))
    assert publications.publication(deployed, resolution.id).remaining_days == 0


def test_a_withdrawn_publication_is_not_found(deployed, staff):
    m = Matter(deployed, staff)
    m.consult({})
    m.propose_and_review()
    m.vote()
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    [entry] = m.published()
    m.do("UserTask_objection", "liangwei", objection_content="程序有误", objection_valid="成立",
         objection_review="成立")
    with pytest.raises(NotFound):
        publications.publication(deployed, entry.id)


def test_a_试运行_case_publishes_nothing(deployed, staff):
    """A designer's sandbox case walked through a publishing step (集中式公示 chosen) writes no entry for
    residents, while the same answer in a real case is on the board."""
    designer = users.create_user(deployed, "designer", PASSWORD, "周设计", ["流程设计人员"])
    xml = (PROCESSES / "minqing_liushuixian.bpmn").read_text(encoding="utf-8").replace(
        'name="分类交办"', 'name="分类交办(试)"', 1)
    draft = workspace.save_draft(deployed, designer, xml.encode("utf-8"), "minqing_liushuixian.bpmn")
    number = trial.start(deployed, designer, draft.version_id, INTAKE).case_number
    for step_id, values in (("UserTask_classify", {"kind": "即办件"}),
                            ("UserTask_handle_immediate", {"handling_result": "已修复"}),
                            ("UserTask_feedback", {**FEEDBACK, "publish": "true", "public_summary": "试运行的公示"})):
        [step] = [s for s in trial.trial_case(deployed, designer, number).steps if s.step_id == step_id]
        trial.complete_step(deployed, designer, step.task_id, values)
    sandbox = trial.trial_case(deployed, designer, number).case
    assert "UserTask_rate" in [s.step_id for s in sandbox.open_steps]  # the publishing step did complete
    assert publications.of_case(deployed, number, include_withdrawn=True) == []
    assert "published" not in [e.kind for e in sandbox.history]
    real = answered(deployed, staff, publish="true", public_summary="真实的公示")
    assert [p.case_number for p in publications.board(deployed).items] == [real.number]


def test_the_board_never_shows_an_entry_of_a_试运行_case(deployed, staff):
    """Whatever a sandbox case holds, the board leaves it out: not listed, not by kind, not by its id."""
    m = answered(deployed, staff, publish="true", public_summary="已修复")
    [entry] = publications.board(deployed).items
    with deployed.write() as session:
        session.execute(update(Case).where(Case.number == m.number).values(sandbox=True))
        refresh_kept(session.connection())  # no case becomes 试运行 in service: kept figures as after a load
    assert publications.board(deployed).total == 0 and publications.board(deployed).items == ()
    assert publications.board(deployed, kind="集中式公示").total == 0
    with pytest.raises(NotFound):
        publications.publication(deployed, entry.id)


# --- withdrawWhen (a valid objection) takes down only what is still in its publicity period ----------

def _three_publications(db, staff, frozen_clock) -> tuple[str, dict[str, int]]:
    """A case of tests/data/publicity_withdrawal.bpmn with a lasting entry, a 1-day one and a 7-day one,
    published on Monday; then two days pass, so only the 7-day entry is still in its period."""
    deploy_file(db, DATA / "publicity_withdrawal.bpmn")
    number = cases.start_case(db, staff["gongzuo"], "publicity_withdrawal", {"title": "健身器材更换"}).case_number
    for step_id, values in (("PublishLasting", {"lasting": "长期"}), ("PublishDay", {"day": "一天"}),
                            ("PublishWeek", {"week": "七天"})):
        complete(db, staff, number, step_id, values)
    frozen_clock.set(frozen_clock.value + timedelta(days=2))
    ids = {p.body[-1][1]: p.id for p in publications.of_case(db, number)}
    assert set(ids) == {"长期", "一天", "七天"}
    return number, ids


def complete(db, staff, number: str, step_id: str, values: dict) -> None:
    view = casepages.get_case(db, staff["auditor"], number)
    [step] = [s for s in view.open_steps if s.step_id == step_id]
    cases.complete_task(db, staff["gongzuo"], step.task_id, values)


def test_a_valid_objection_withdraws_only_publications_still_in_their_publicity_period(deployed, staff, frozen_clock):
    """The 7-day entry is taken down; the lasting one (no period) and the 1-day one (period over) stay
    on the board, and the audit trail records exactly the one withdrawal."""
    number, ids = _three_publications(deployed, staff, frozen_clock)
    complete(deployed, staff, number, "Objection", {"objection_valid": "成立"})
    assert sorted(p.id for p in publications.board(deployed).items) == sorted([ids["长期"], ids["一天"]])
    with pytest.raises(NotFound):
        publications.publication(deployed, ids["七天"])
    history = casepages.get_case(deployed, staff["auditor"], number).history
    assert [e.data["publication"] for e in history if e.kind == "publication_withdrawn"] == [ids["七天"]]


def test_an_objection_found_invalid_withdraws_nothing(deployed, staff, frozen_clock):
    number, ids = _three_publications(deployed, staff, frozen_clock)
    complete(deployed, staff, number, "Objection", {"objection_valid": "不成立"})
    assert sorted(p.id for p in publications.board(deployed).items) == sorted(ids.values())
    history = casepages.get_case(deployed, staff["auditor"], number).history
    assert "publication_withdrawn" not in [e.kind for e in history]
