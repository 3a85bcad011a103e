"""The public board's content: only fields a designer marked public, newest first, with days left."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.design import trial, workspace
from engine.errors import ExpressionError, NotFound
from engine.people import users
from engine.public import publications
from engine.store.models import Case, Publication
from engine.work import casepages, cases
from tests.conftest import DATA, PASSWORD, PROCESSES, refresh_kept
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
    frozen_clock.set(datetime(2026, 11, 29, 16, 0, tzinfo=timezone.utc))  # 11-30 00:00 in China: a day less
    assert publications.publication(deployed, resolution.id).remaining_days == 1
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
    with pytest.raises(NotFound) as err:
        publications.publication(deployed, entry.id)
    assert err.value.message == f"公示 {entry.id} 不存在或已撤回"


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

def _started(db, staff, xml: str, start: dict | None = None) -> str:
    """A case of this variant of tests/data/publicity_withdrawal.bpmn, deployed as its newest version."""
    deployments.deploy(db, xml.encode("utf-8"), "publicity_withdrawal.bpmn", SYSTEM)
    return cases.start_case(db, staff["gongzuo"], "publicity_withdrawal",
                            start or {"title": "健身器材更换"}).case_number


def _lasting_also(prop: str) -> str:
    """The variant whose PublishLasting step also has the step property `prop` (camunda:property XML)."""
    return WITHDRAWAL.replace(LASTING_PUBLISHES, LASTING_PUBLISHES + prop, 1)


def _three_publications(db, staff, frozen_clock, xml: str | None = None) -> tuple[str, dict[str, int]]:
    """A case of tests/data/publicity_withdrawal.bpmn (or of that `xml`) with a lasting entry, a 1-day one
    and a 7-day one, published on Monday; then two days pass, so only the 7-day entry is still in its period."""
    number = _started(db, staff, WITHDRAWAL if xml is None else xml)
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
    [withdrawn] = [e for e in history if e.kind == "publication_withdrawn"]
    assert (withdrawn.actor, withdrawn.step_id, withdrawn.step_name, withdrawn.lane, withdrawn.data) == (
        "gongzuo", "Objection", "登记异议", "社区工作人员", {"kind": "决议公开", "publication": ids["七天"]})


def test_each_publication_records_the_step_that_published_it_and_its_period(deployed, staff, frozen_clock):
    number, ids = _three_publications(deployed, staff, frozen_clock)
    with deployed.read() as session:
        rows = session.execute(select(Publication.step_id, Publication.withdrawn).order_by(Publication.id)).all()
    assert [tuple(r) for r in rows] == [("PublishLasting", False), ("PublishDay", False), ("PublishWeek", False)]
    assert {(p.case_number, p.procedure) for p in publications.of_case(deployed, number)} == {(number, "公示与撤回")}
    history = casepages.get_case(deployed, staff["auditor"], number).history
    lane = "社区工作人员"
    assert [(e.step_id, e.step_name, e.lane, e.data) for e in history if e.kind == "published"] == [
        ("PublishLasting", "长期公开", lane, {"kind": "实施结果公开", "publication": ids["长期"], "ends_at": None}),
        ("PublishDay", "公示一天", lane,
         {"kind": "决议公开", "publication": ids["一天"], "ends_at": "2026-11-25T00:00:00+08:00"}),
        ("PublishWeek", "公示七天", lane,
         {"kind": "决议公开", "publication": ids["七天"], "ends_at": "2026-12-01T00:00:00+08:00"})]


def test_a_second_valid_objection_withdraws_nothing_more(deployed, staff, frozen_clock):
    """What the first objection took down is not taken down (nor recorded) again by the second."""
    number, ids = _three_publications(deployed, staff, frozen_clock)
    complete(deployed, staff, number, "Objection", {"objection_valid": "成立"})
    complete(deployed, staff, number, "ObjectionAgain", {"objection_valid": "成立"})
    history = casepages.get_case(deployed, staff["auditor"], number).history
    assert [e.data["publication"] for e in history if e.kind == "publication_withdrawn"] == [ids["七天"]]
    assert sorted(p.id for p in publications.board(deployed).items) == sorted([ids["长期"], ids["一天"]])


def test_an_objection_at_the_very_end_of_a_period_leaves_that_publication_up(deployed, staff, frozen_clock):
    """At 24:00 of its last day a 1-day entry's period is over: a valid objection at that moment withdraws
    only what is still in its period (the 7-day entry)."""
    number, ids = _three_publications(deployed, staff, frozen_clock)
    [day] = [p for p in publications.of_case(deployed, number) if p.id == ids["一天"]]
    assert day.ends_at == datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)  # 11-25 00:00 in China
    frozen_clock.set(day.ends_at)
    complete(deployed, staff, number, "Objection", {"objection_valid": "成立"})
    assert sorted(p.id for p in publications.board(deployed).items) == sorted([ids["长期"], ids["一天"]])


def test_a_valid_objection_withdraws_the_publications_of_its_own_case_only(deployed, staff, frozen_clock):
    number, ids = _three_publications(deployed, staff, frozen_clock)
    other = cases.start_case(deployed, staff["gongzuo"], "publicity_withdrawal", {"title": "路灯维修"}).case_number
    complete(deployed, staff, other, "PublishLasting", {"lasting": "长期"})
    complete(deployed, staff, other, "PublishDay", {"day": "一天"})
    complete(deployed, staff, other, "PublishWeek", {"week": "七天"})
    others = [p.id for p in publications.of_case(deployed, other)]
    complete(deployed, staff, number, "Objection", {"objection_valid": "成立"})
    assert [p.id for p in publications.of_case(deployed, other)] == others
    assert [p.id for p in publications.of_case(deployed, number)] == [ids["长期"], ids["一天"]]


def test_an_objection_found_invalid_withdraws_nothing(deployed, staff, frozen_clock):
    number, ids = _three_publications(deployed, staff, frozen_clock)
    complete(deployed, staff, number, "Objection", {"objection_valid": "不成立"})
    assert sorted(p.id for p in publications.board(deployed).items) == sorted(ids.values())
    history = casepages.get_case(deployed, staff["auditor"], number).history
    assert "publication_withdrawn" not in [e.kind for e in history]


# --- the title of an entry without publishTitle ------------------------------------------------------

WITHDRAWAL = (DATA / "publicity_withdrawal.bpmn").read_text(encoding="utf-8")
CASE_TITLE = '<camunda:property name="caseTitle" value="title"/>'
LASTING_PUBLISHES = '<camunda:property name="publishAs" value="实施结果公开"/>'  # PublishLasting's only publishAs
TITLE_PUBLIC = ('<camunda:formField id="title" label="标题" type="string"><camunda:properties>'
                '<camunda:property id="public" value="true"/></camunda:properties>')


@pytest.mark.parametrize(("xml", "start", "title"), [
    (WITHDRAWAL, {"title": "健身器材更换"}, "健身器材更换"),
    (WITHDRAWAL.replace(CASE_TITLE, ""), {"title": "健身器材更换"}, "健身器材更换"),  # `title` by default
    (WITHDRAWAL.replace(CASE_TITLE, CASE_TITLE.replace('"title"', '"subject"'))
     .replace('id="title" label="标题"', 'id="subject" label="主题"'), {"subject": "路灯维修"}, "路灯维修"),
    (WITHDRAWAL.replace(TITLE_PUBLIC, TITLE_PUBLIC.replace("true", "false")), {"title": "健身器材更换"}, None),
], ids=["caseTitle", "no caseTitle", "caseTitle naming another field", "title not public"])
def test_an_entry_is_titled_by_the_case_title_only_when_its_field_is_public(deployed, staff, xml, start, title):
    """Otherwise by its kind and the case number, so a title a resident wrote stays off the board."""
    number = _started(deployed, staff, xml, start)
    complete(deployed, staff, number, "PublishLasting", {"lasting": "长期"})
    [entry] = publications.of_case(deployed, number)
    assert entry.title == (title or f"实施结果公开 {number}")


def test_a_publicity_period_that_is_no_number_of_days_refuses_the_step_naming_it(deployed, staff, frozen_clock):
    """The step stays open and publishes nothing until its `publicityDays` gives a number of days."""
    xml = WITHDRAWAL.replace('name="publicityDays" value="7"', 'name="publicityDays" value="${week}"')
    number = _started(deployed, staff, xml)
    complete(deployed, staff, number, "PublishLasting", {"lasting": "长期"})
    complete(deployed, staff, number, "PublishDay", {"day": "一天"})
    with pytest.raises(ExpressionError) as err:
        complete(deployed, staff, number, "PublishWeek", {"week": "七天"})
    assert err.value.message == "“PublishWeek” 的公示天数(publicityDays)无效:公示天数应为整数,而不是 “七天”"
    assert len(publications.of_case(deployed, number)) == 2
    complete(deployed, staff, number, "PublishWeek", {"week": "3"})
    assert [p.remaining_days for p in publications.of_case(deployed, number)] == [None, 1, 3]


def test_an_entry_lists_each_public_field_once_and_leaves_out_the_empty_ones(deployed, staff):
    """The case title, public on the start form and shown again on the step, is listed once, in the start
    form's place; a public field left empty is not listed at all."""
    shown_again = ('<camunda:formField id="title" label="标题" type="string"><camunda:properties>'
                   '<camunda:property id="public" value="true"/></camunda:properties><camunda:validation>'
                   '<camunda:constraint name="readonly"/></camunda:validation></camunda:formField>')
    xml = WITHDRAWAL.replace('<camunda:formData><camunda:formField id="lasting"',
                             f'<camunda:formData>{shown_again}<camunda:formField id="note" label="备注" type="string">'
                             '<camunda:properties><camunda:property id="public" value="true"/></camunda:properties>'
                             '</camunda:formField><camunda:formField id="lasting"', 1)
    number = _started(deployed, staff, xml)
    complete(deployed, staff, number, "PublishLasting", {"lasting": "长期"})
    [entry] = publications.of_case(deployed, number)
    assert entry.body == (("标题", "健身器材更换"), ("长期公开内容", "长期"))


def test_an_entry_shows_yes_and_no_in_words_and_a_list_joined_by_enumeration_commas(deployed, staff):
    """A boolean reads 是 or 否, a list of lines 甲、乙; a result without its own label is labelled 结果."""
    public = '<camunda:properties><camunda:property id="public" value="true"/></camunda:properties>'
    fields = (f'<camunda:formField id="agreed" label="同意" type="boolean">{public}</camunda:formField>'
              f'<camunda:formField id="refused" label="驳回" type="boolean">{public}</camunda:formField>'
              '<camunda:formField id="items" label="事项" type="string"><camunda:properties>'
              '<camunda:property id="public" value="true"/><camunda:property id="list" value="lines"/>'
              '</camunda:properties></camunda:formField>')
    xml = (WITHDRAWAL.replace('<camunda:formData><camunda:formField id="lasting"',
                              f'<camunda:formData>{fields}<camunda:formField id="lasting"', 1)
           .replace(LASTING_PUBLISHES, LASTING_PUBLISHES
                    + '<camunda:property name="publishResult" value="${agreed and not refused}"/>', 1))
    number = _started(deployed, staff, xml)
    complete(deployed, staff, number, "PublishLasting",
             {"agreed": "true", "refused": "false", "items": "更换跑步机\n维修单杠", "lasting": "长期"})
    [entry] = publications.of_case(deployed, number)
    assert entry.body == (("标题", "健身器材更换"), ("同意", "是"), ("驳回", "否"), ("事项", "更换跑步机、维修单杠"),
                          ("长期公开内容", "长期"), ("结果", "是"))


def test_a_publishing_expression_that_cannot_be_computed_refuses_the_step_naming_it(deployed, staff):
    xml = _lasting_also('<camunda:property name="publishTitle" value="${int(lasting)}"/>')
    number = _started(deployed, staff, xml)
    with pytest.raises(ExpressionError) as err:
        complete(deployed, staff, number, "PublishLasting", {"lasting": "长期"})
    assert err.value.message == ("“PublishLasting” 的公示标题(publishTitle)无法计算:表达式求值失败"
                                 "(取值无效,例如把不是数字的文字转换为数字,或日期格式不对): int(lasting)")
    assert publications.of_case(deployed, number) == []


def test_a_step_that_withdraws_and_publishes_takes_down_the_old_entry_and_keeps_its_own(deployed, staff, frozen_clock):
    """A valid objection whose step also publishes (a corrected resolution): the 7-day entry goes, the new
    one, published after the withdrawal, stays with the two that were not in their period."""
    withdraws = '<camunda:property name="withdrawWhen" value="${objection_valid == \'成立\'}"/>'
    xml = WITHDRAWAL.replace(withdraws, withdraws + (
        '<camunda:property name="publishAs" value="决议公开"/><camunda:property name="publicityDays" value="7"/>'), 1)
    number, ids = _three_publications(deployed, staff, frozen_clock, xml)
    complete(deployed, staff, number, "Objection", {"objection_valid": "成立"})
    entries = publications.of_case(deployed, number)
    assert [p.id for p in entries[:2]] == [ids["长期"], ids["一天"]]
    assert (entries[2].kind, entries[2].remaining_days, len(entries)) == ("决议公开", 7, 3)
    history = casepages.get_case(deployed, staff["auditor"], number).history
    assert [e.data["publication"] for e in history if e.kind == "publication_withdrawn"] == [ids["七天"]]


def test_a_title_is_cut_to_200_characters(deployed, staff):
    xml = _lasting_also('<camunda:property name="publishTitle" value="${title + lasting}"/>')
    number = _started(deployed, staff, xml)
    complete(deployed, staff, number, "PublishLasting", {"lasting": "甲" * 194 + "乙"})  # 201 with the title
    [entry] = publications.of_case(deployed, number)
    assert entry.title == "健身器材更换" + "甲" * 194


def test_the_board_pages_entries_published_at_one_moment_newest_first(deployed, staff, frozen_clock):
    """Three entries of one case published at the same moment: the last published comes first; a page
    number below 1 is the first page."""
    number, ids = _three_publications(deployed, staff, frozen_clock)
    first = publications.board(deployed, per_page=2)
    assert ([p.id for p in first.items], first.total, first.page, first.per_page) == (
        [ids["七天"], ids["一天"]], 3, 1, 2)
    second = publications.board(deployed, page=2, per_page=2)
    assert ([p.id for p in second.items], second.total, second.page) == ([ids["长期"]], 3, 2)
    assert {(p.procedure, p.case_number) for p in first.items + second.items} == {("公示与撤回", number)}
    assert publications.board(deployed, page=0, per_page=2) == first
    assert [p.id for p in publications.board(deployed).items] == [ids["七天"], ids["一天"], ids["长期"]]
    assert [p.id for p in publications.board(deployed, kind="决议公开").items] == [ids["七天"], ids["一天"]]


def test_a_board_page_holds_twenty_entries_by_the_time_they_were_published(deployed, staff, frozen_clock):
    """18 entries stored one after the other, each published a minute before the one stored before it: the
    board goes by the time published, not by the order stored."""
    number, ids = _three_publications(deployed, staff, frozen_clock)
    with deployed.write() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
        session.add_all(Publication(case_id=case_id, kind="实施结果公开", title=f"第 {i} 条", body=[],
                                    published_at=frozen_clock.value - timedelta(minutes=i), ends_at=None)
                        for i in range(1, 19))
    for found in (publications.board(deployed), publications.board_page(deployed).entries):
        assert (len(found.items), found.total, found.pages) == (20, 21, 2)
        assert [p.title for p in found.items[:2]] == ["第 1 条", "第 2 条"]
        assert [p.id for p in found.items[18:]] == [ids["七天"], ids["一天"]]
