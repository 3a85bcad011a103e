"""Task lists from the human-task index: order, counting, filters read from the diagrams."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Forbidden, NotFound
from engine.people import units, users
from engine.work import casepages, cases, tasklist
from engine.store.models import User
from engine.work.tasklist import Colleague, Filters
from tests.conftest import DATA, PASSWORD, PROCESSES, deploy_file
from tests.minqing import Matter
from tests.sql_log import counted, statements_from_now
from tests.test_claims import two_communities
from tests.yizheng import Matter as Yizheng


def test_queue_is_ordered_by_due_date_with_undated_steps_last(db, staff, frozen_clock):
    deploy_file(db, DATA / "approval.bpmn")  # 审核 is due two days after it becomes ready
    first = cases.start_case(db, staff["clerk"], "approval", {"title": "先登记"})
    frozen_clock.set(frozen_clock.value.replace(hour=5))
    second = cases.start_case(db, staff["clerk"], "approval", {"title": "后登记"})
    queue = tasklist.tasks(db, staff["leader"], "queue")
    assert [r.case_number for r in queue.items] == [first.case_number, second.case_number]
    assert all(r.due_at for r in queue.items)


def test_holding_three_roles_a_step_of_one_of_them_is_listed_once(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    both = users.create_user(db, "both", PASSWORD, "两职", ["社区负责人", "受理员", "承办人"])
    cases.start_case(db, staff["clerk"], "approval", {"title": "一项"})
    assert tasklist.tasks(db, both, "queue").total == 1
    assert len(tasklist.tasks(db, both, "queue").items) == 1
    assert tasklist.counts(db, both).queue == 1


def test_a_step_open_to_two_of_my_roles_is_listed_and_counted_once(db, staff, tmp_path):
    """审核 offered to 社区负责人 and 受理员 (candidateGroups): someone holding both sees it once on 待认领 and
    the tab counts it once; each of the two roles alone sees it too."""
    two_roles = (DATA / "approval.bpmn").read_text(encoding="utf-8").replace(
        'camunda:dueDate="P2D"', 'camunda:candidateGroups="社区负责人,受理员" camunda:dueDate="P2D"')
    assert two_roles.count("candidateGroups") == 1
    (tmp_path / "approval.bpmn").write_text(two_roles, encoding="utf-8")
    deploy_file(db, tmp_path / "approval.bpmn")
    both = users.create_user(db, "both", PASSWORD, "两职", ["社区负责人", "受理员"])
    started = cases.start_case(db, staff["clerk"], "approval", {"title": "一项"})
    queue = tasklist.tasks(db, both, "queue")
    assert [r.case_number for r in queue.items] == [started.case_number] and queue.total == 1
    assert tasklist.counts(db, both).queue == 1
    for alone in ("clerk", "leader"):
        assert tasklist.counts(db, staff[alone]).queue == 1
        assert [r.case_number for r in tasklist.tasks(db, staff[alone], "queue").items] == [started.case_number]


def test_someone_holding_a_role_in_two_units_gets_one_queue_in_due_order_page_by_page(db, staff, frozen_clock):
    """Each (role, unit) pair is read from the queue index in due order and the pairs are merged, so every page is
    the next steps by deadline across both units, each step once."""
    deploy_file(db, DATA / "approval.bpmn")  # 审核 (社区负责人) is due two days after it becomes ready
    with db.write() as session:
        east = units.create_unit(session, "admin", "东区网格", "网格", units.default_unit(session)).id
    both = users.create_user(db, "both", PASSWORD, "两地", ["社区负责人"], grants=[("社区负责人", east)])
    numbers = []
    for hour, unit in ((2, east), (3, None), (4, east), (5, None), (6, east)):
        frozen_clock.set(frozen_clock.value.replace(hour=hour))
        numbers.append(cases.start_case(db, staff["clerk"], "approval", {"title": f"{hour}时"},
                                        unit_id=unit).case_number)
    pages = [tasklist.tasks(db, both, "queue", page=p, per_page=2) for p in (1, 2, 3)]
    assert [[r.case_number for r in page.items] for page in pages] == [numbers[0:2], numbers[2:4], numbers[4:]]
    assert {page.total for page in pages} == {5}
    assert [r.case_number for r in tasklist.tasks(db, staff["leader"], "queue").items] == numbers[1::2]
    filtered = tasklist.tasks(db, both, "queue", Filters(q="时"), per_page=4)
    assert [r.case_number for r in filtered.items] == numbers[:4] and filtered.more


def test_counts_stop_at_the_cap_and_every_page_past_it_is_reached(db, staff, monkeypatch):
    """A tab counts up to the cap ("99+"); paging on past it, each page says how far the list has been seen
    and whether it goes on, so the last step is always one “下一页” away."""
    deploy_file(db, DATA / "approval.bpmn")
    monkeypatch.setattr(tasklist, "COUNT_CAP", 3)
    numbers = [cases.start_case(db, staff["clerk"], "approval", {"title": f"事项{i}"}).case_number for i in range(7)]
    assert tasklist.counts(db, staff["leader"]).queue == 4  # shown as "3+": above the cap
    pages = [tasklist.tasks(db, staff["leader"], "queue", page=p, per_page=2) for p in (1, 2, 3, 4)]
    assert [(p.total, p.more, p.pages) for p in pages] == [(3, True, 3), (4, True, 3), (6, True, 4), (7, False, 4)]
    assert [r.case_number for p in pages for r in p.items] == numbers
    small = tasklist.tasks(db, staff["leader"], "queue", per_page=2)
    monkeypatch.setattr(tasklist, "COUNT_CAP", 7)  # at the cap exactly: counted, not "7+"
    exact = tasklist.tasks(db, staff["leader"], "queue", per_page=2)
    assert (small.total, small.more) == (3, True) and (exact.total, exact.more, exact.pages) == (7, False, 4)


def test_filters_offer_what_the_diagrams_define(db, staff):
    from engine.actor import SYSTEM
    from engine.bpmn import deployments
    from tests.conftest import PROCESSES

    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    view = tasklist.overview(db, staff["leader"], "queue")
    assert {"即办件", "承诺件", "补办件", "上报件", "建议件", "公家事"} <= set(view.choices.kinds)  # 民情 and 四单
    assert "水电气暖" in view.choices.topics
    assert "分类交办" in view.choices.steps and "一事一评" not in view.choices.steps
    assert ("minqing_liushuixian", "民情流水线") in view.choices.procedures
    assert view.colleagues and all(c.roles for c in view.colleagues)
    assert tasklist.overview(db, staff["handler"], "queue").colleagues == ()


def test_filtered_lists_report_only_what_they_saw(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    for i in range(3):
        cases.start_case(db, staff["clerk"], "approval", {"title": f"路灯{i}"})
    page = tasklist.tasks(db, staff["leader"], "queue", Filters(q="路灯"), per_page=2)
    assert (page.total, page.more, page.pages) == (2, True, 2)
    last = tasklist.tasks(db, staff["leader"], "queue", Filters(q="路灯"), page=2, per_page=2)
    assert (last.total, last.more, len(last.items)) == (3, False, 1)


def test_the_search_box_matches_its_text_literally(db, staff):
    """%, _ and / typed in the search box are characters of a title, not patterns."""
    deploy_file(db, DATA / "approval.bpmn")
    for title in ("涨价50%", "涨价500", "a_b", "axb", "1/2"):
        cases.start_case(db, staff["clerk"], "approval", {"title": title})

    def found(q: str) -> list[str]:
        return sorted(r.case_title for r in tasklist.tasks(db, staff["leader"], "queue", Filters(q=q)).items)

    assert found("50%") == ["涨价50%"]
    assert found("a_b") == ["a_b"]
    assert found("/") == ["1/2"]
    assert found("涨价") == ["涨价50%", "涨价500"]


def _three_minqing_matters(db, staff) -> None:
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    for i in range(3):
        cases.start_case(db, staff["clerk"], "minqing_liushuixian", {
            "channel": "构筑平台及时受理", "topic": "水电气暖", "title": f"暖气{i}", "description": "不热",
            "reporter_name": "刘大爷", "reporter_contact": "13800001111", "address": "3号楼"})


def test_a_task_list_page_is_six_statements_however_many_diagrams_are_deployed(db, staff, monkeypatch):
    """The page's rows, their roles, the tab counts (one statement, the leader's 本组待办 count
    included), the deployed versions (one statement for all diagrams, once this process has parsed them:
    the filter choices and the procedures the leader leads both read it) and, for a leader, the
    colleagues to assign to (two); the rows' own total is the tab's count, not counted again."""
    _three_minqing_matters(db, staff)
    tasklist.overview(db, staff["leader"], "queue")  # parses the diagrams, once per process
    ran = statements_from_now(db, monkeypatch)
    view = tasklist.overview(db, staff["leader"], "queue")
    assert len(view.choices.procedures) > 2 and view.page.total == 3 == view.counts.queue == view.counts.team
    assert len(counted(ran)) <= 6, ran


def test_a_leaders_team_page_and_only_overdue_are_six_statements_too(db, staff, monkeypatch):
    """本组待办 binds the versions the leader leads into its cached statement (no statement per
    diagram), and with 只看已逾期 on the leader's own list the team's overdue number is one more column
    of the counts statement, not a statement of its own."""
    _three_minqing_matters(db, staff)
    tasklist.overview(db, staff["leader"], "team")
    ran = statements_from_now(db, monkeypatch)
    team = tasklist.overview(db, staff["leader"], "team", Filters(sort="due_desc"))
    assert team.page.total == 3 == team.counts.team and len(counted(ran)) <= 6, ran
    ran.clear()
    overdue = tasklist.overview(db, staff["leader"], "queue", Filters(overdue=True))
    assert overdue.team_overdue == 0 and len(counted(ran)) <= 6, ran


def test_opening_a_step_reads_neither_the_bpmn_text_nor_every_diagram_when_the_case_links_none(
        db, staff, monkeypatch):
    """The step's page names its procedure from the version's name and hash alone (the parsed diagram is
    this process's, by hash), reads its open steps' roles in one statement, and decides which linked cases
    the reader may see only when there are links: 15 statements in all."""
    _three_minqing_matters(db, staff)
    task_id = tasklist.tasks(db, staff["leader"], "queue", Filters()).items[0].id
    tasklist.get_task(db, staff["leader"], task_id)  # parses the diagram, once per process
    ran = statements_from_now(db, monkeypatch)
    view = tasklist.get_task(db, staff["leader"], task_id)
    assert view.case.procedure == "民情流水线" and view.case.version_hash and view.case.linked == ()
    assert [s.roles for s in view.case.open_steps] == [("社区负责人",)]
    assert len(counted(ran)) <= 15, ran
    assert not any("bpmn" in sql or "draft" in sql for sql in ran), ran


# --- who may read a step's page (the form is theirs to submit only if the step is theirs) -----------

def _minqing_at_handling(db, staff) -> Matter:
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-12-30")
    return m


def test_the_supervisor_and_the_leader_read_a_handlers_step_to_urge_it(db, staff, frozen_clock):
    m = _minqing_at_handling(db, staff)
    task_id = m.task_id("UserTask_handle_promised")
    for who in ("supervisor", "leader", "auditor"):
        view = tasklist.get_task(db, staff[who], task_id)
        assert view.step_id == "UserTask_handle_promised" and view.can_complete is False
    assert tasklist.get_task(db, staff["handler"], task_id).can_complete is True


def test_a_handler_does_not_read_another_lanes_step(db, staff, frozen_clock):
    m = _minqing_at_handling(db, staff)
    other = Matter(db, staff)  # waiting at 分类交办, the leader's lane
    with pytest.raises(Forbidden):
        tasklist.get_task(db, staff["handler"], other.task_id("UserTask_classify"))
    with pytest.raises(Forbidden):
        tasklist.get_task(db, staff["clerk"], m.task_id("UserTask_handle_promised"))


def test_overseeing_one_procedure_does_not_open_another(db, staff, frozen_clock):
    """民情监督员 supervises 民情流水线 (its supervisorRole), not 一征三议两公开."""
    _minqing_at_handling(db, staff)
    y = Yizheng(db, staff)
    with pytest.raises(Forbidden):
        tasklist.get_task(db, staff["supervisor"], y.task_ids(y.waiting[0])[0])


# --- 放回 (unclaim): who may put a claimed step back into the queue --------------------------------

def _holder(db, actor, task_id: int) -> str | None:
    return tasklist.get_task(db, actor, task_id).assignee


def _queued(db, actor) -> list[int]:
    return [r.id for r in tasklist.tasks(db, actor, "queue").items]


def test_the_holder_puts_back_their_claimed_step(db, staff, frozen_clock):
    """放回: whoever claimed a step may put it back; it returns to the 待认领 list of its lane."""
    task_id = _minqing_at_handling(db, staff).task_id("UserTask_handle_promised")
    cases.claim(db, staff["handler"], task_id)
    assert task_id not in _queued(db, staff["handler2"])
    cases.unclaim(db, staff["handler"], task_id)
    assert _holder(db, staff["handler"], task_id) is None
    assert task_id in _queued(db, staff["handler2"])


def test_a_colleague_of_the_same_lane_cannot_put_back_a_claimed_step(db, staff, frozen_clock):
    """Holding the step's role is not enough: a 承办人 cannot take a fellow 承办人's claimed step back."""
    task_id = _minqing_at_handling(db, staff).task_id("UserTask_handle_promised")
    cases.claim(db, staff["handler"], task_id)
    with pytest.raises(Forbidden, match="只能放回自己认领的任务"):
        cases.unclaim(db, staff["handler2"], task_id)
    assert _holder(db, staff["handler"], task_id) == "张承办"
    assert task_id not in _queued(db, staff["handler2"])


def test_a_leader_puts_back_a_colleagues_claimed_step(db, staff):
    """A 社区负责人 may put back a step a colleague of the lane claimed (e.g. one who is away); the audit
    trail records who did it."""
    deploy_file(db, DATA / "approval.bpmn")  # 审核 belongs to 社区负责人
    colleague = users.create_user(db, "leader2", PASSWORD, "钱主任", ["社区负责人"])
    started = cases.start_case(db, staff["clerk"], "approval", {"title": "路灯不亮"})
    task_id = started.new_tasks[0].id
    cases.claim(db, colleague, task_id)
    cases.unclaim(db, staff["leader"], task_id)
    assert _holder(db, staff["leader"], task_id) is None
    assert task_id in _queued(db, colleague)
    history = casepages.get_case(db, staff["auditor"], started.case_number).history
    assert [(e.kind, e.actor) for e in history if e.kind in ("task_claimed", "task_unclaimed")] == [
        ("task_claimed", "leader2"), ("task_unclaimed", "leader")]


# --- 指派: whom a leader is offered --------------------------------------------------------------------

def test_a_leader_is_offered_the_active_colleagues_of_their_own_unit_and_below_only(db, staff):
    """A 社区负责人 may assign to those holding a role in their unit or below, each with the roles and units
    they hold there, by username; a step is offered to those holding its role where it was routed. Not
    to the neighbouring 社区's people, nor to a deactivated account; nobody on 已办 or to a 受理员."""
    c = two_communities(db)
    east = cases.start_case(db, c["east_clerk"], "approval", {"title": "东边的"}).new_tasks[0].id
    with db.write() as session:
        session.execute(update(User).where(User.username == "west_auditor").values(active=False))
    page = tasklist.overview(db, c["east_leader"], "queue")
    assert page.colleagues == (Colleague("east_auditor", "东审计", ("审计",), frozenset({("审计", c["east"])})),
                               Colleague("east_clerk", "东受理", ("受理员",), frozenset({("受理员", c["east"])})),
                               Colleague("east_leader", "东主任", ("社区负责人",),
                                         frozenset({("社区负责人", c["east"])})))
    assert [x.username for x in page.assignable[east]] == ["east_leader"]
    street = tasklist.overview(db, c["street_leader"], "inbox").colleagues
    assert [x.username for x in street] == ["east_auditor", "east_clerk", "east_leader", "street_leader",
                                            "west_clerk", "west_leader"]
    assert tasklist.overview(db, c["east_leader"], "archive").colleagues == ()
    assert tasklist.overview(db, c["east_clerk"], "queue").colleagues == ()


# --- 我的待办 and 已办: whose steps, in which order ------------------------------------------------------

def test_my_inbox_holds_my_open_steps_by_deadline_and_my_archive_what_i_completed_newest_first(db, staff,
                                                                                                frozen_clock):
    """我的待办 lists the open steps I hold — not a colleague's, not one I completed — by deadline, undated ones
    last, a tie by step; 已办 lists the steps I completed, the latest first (the later step of one moment), not a
    colleague's."""
    deploy_file(db, DATA / "approval.bpmn")  # 审核 is due two days after it becomes ready
    colleague = users.create_user(db, "leader2", PASSWORD, "钱主任", ["社区负责人"])
    ids = []
    for hour in (4, 2, 2, 3, 3):
        frozen_clock.set(frozen_clock.value.replace(hour=hour))
        ids.append(cases.start_case(db, staff["clerk"], "approval", {"title": f"{hour}时"}).new_tasks[0].id)
    xml = (DATA / "approval.bpmn").read_text(encoding="utf-8").replace(' camunda:dueDate="P2D"', "")
    deployments.deploy(db, xml.encode("utf-8"), "approval.bpmn", SYSTEM)
    undated = cases.start_case(db, staff["clerk"], "approval", {"title": "无期限"}).new_tasks[0].id
    late, early, early_too, middle, colleagues = ids
    for task_id in (undated, late, early_too, middle, early):
        cases.claim(db, staff["leader"], task_id)
    cases.claim(db, colleague, colleagues)

    def listed(actor, which: str) -> list[int]:
        return [r.id for r in tasklist.tasks(db, actor, which).items]

    assert listed(staff["leader"], "inbox") == [early, early_too, middle, late, undated]
    for hour, task_id in ((5, middle), (6, early_too), (6, early)):
        frozen_clock.set(frozen_clock.value.replace(hour=hour))
        cases.complete_task(db, staff["leader"], task_id, {"decision": "同意"})
    cases.complete_task(db, colleague, colleagues, {"decision": "同意"})
    assert listed(staff["leader"], "inbox") == [late, undated]
    assert listed(staff["leader"], "archive") == [early_too, early, middle]  # at one moment: the later step first
    assert listed(colleague, "inbox") == [] and listed(colleague, "archive") == [colleagues]


def test_a_leaders_team_list_holds_the_open_steps_of_what_they_lead_in_their_units_only(db, staff, frozen_clock):
    """本组待办: every open step of the procedures a 社区负责人 leads (approval: a lane of theirs; not
    workday_deadline), in their own unit and below — the 街道's leader sees both 社区, a 社区's leader its own;
    by deadline, or the latest deadline first when asked."""
    c = two_communities(db)
    deploy_file(db, DATA / "workday_deadline.bpmn")
    east = cases.start_case(db, c["east_clerk"], "approval", {"title": "东边的"}).new_tasks[0].id
    frozen_clock.set(frozen_clock.value.replace(hour=3))
    west = cases.start_case(db, c["west_clerk"], "approval", {"title": "西边的"}).new_tasks[0].id
    cases.start_case(db, c["east_clerk"], "workday_deadline", {"reply_date": "2026-11-27"})

    def team(actor, sort: str = "due") -> list[int]:
        return [r.id for r in tasklist.tasks(db, actor, "team", Filters(sort=sort)).items]

    assert team(c["east_leader"]) == [east] and team(c["west_leader"]) == [west]
    assert team(c["street_leader"]) == [east, west]
    assert team(c["street_leader"], "due_desc") == [west, east]
    with pytest.raises(NotFound) as err:
        tasklist.tasks(db, c["east_leader"], "everything")
    assert err.value.message == "没有名为 everything 的任务列表"


def test_a_refused_put_back_says_why(db, staff, frozen_clock):
    """放回 of a fellow 承办人's claimed step is refused with the rule itself as its reason."""
    task_id = _minqing_at_handling(db, staff).task_id("UserTask_handle_promised")
    cases.claim(db, staff["handler"], task_id)
    with pytest.raises(Forbidden) as err:
        cases.unclaim(db, staff["handler2"], task_id)
    assert err.value.message == "只能放回自己认领的任务"
