"""The leader's team (本组待办): every open step of the procedures a 社区负责人 leads, whoever holds it;
只看已逾期 and 即将到期 on it; 批量认领 / 批量指派 step by step in one call; and the overdue notice that
reaches the leaders once per step. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.clock import CHINA_TZ
from engine.errors import Forbidden, InvalidInput
from engine.people import notifications, users
from engine.work import bulk, cases, tasklist, timers
from engine.work.tasklist import NO_FILTERS, Filters
from tests.conftest import PASSWORD, PROCESSES
from tests.minqing import Matter
from tests.yizheng import Matter as Yizheng


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ).astimezone(timezone.utc)


@pytest.fixture
def team(db, staff, frozen_clock):
    """Two 民情 matters — one promised by 11-25 and claimed by 张承办, one waiting for 分类交办 — and a
    一征三议两公开 matter, which no 社区负责人 leads."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    promised = Matter(db, staff, title="3号楼暖气不热")
    promised.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    cases.claim(db, staff["handler"], promised.task_id("UserTask_handle_promised"))
    waiting = Matter(db, staff, title="路灯不亮")
    Yizheng(db, staff)
    return promised, waiting


def rows(db, actor, filters: Filters = NO_FILTERS) -> list[tuple[str, str, str | None]]:
    return [(r.case_number, r.step_name, r.assignee) for r in tasklist.tasks(db, actor, "team", filters).items]


def test_the_leader_sees_every_open_step_of_the_procedures_they_lead_whoever_holds_it(db, staff, team):
    promised, waiting = team
    assert rows(db, staff["leader"]) == [(promised.number, "承诺件办理", "张承办"), (waiting.number, "分类交办", None)]
    assert tasklist.counts(db, staff["leader"]).team == 2


def test_an_administrator_sees_the_work_of_every_procedure(db, staff, team):
    admin = users.create_user(db, "admin", PASSWORD, "管理员甲", ["管理员"])
    procedures = {r.procedure for r in tasklist.tasks(db, admin, "team").items}
    assert procedures == {"民情流水线", "一征三议两公开"}


def test_someone_who_leads_no_team_has_no_team_list(db, staff, team):
    with pytest.raises(Forbidden, match="只有社区负责人"):
        tasklist.tasks(db, staff["handler"], "team")
    assert tasklist.counts(db, staff["handler"]).team is None


def test_only_overdue_finds_the_overdue_steps_of_colleagues_in_the_team_list(db, staff, team, frozen_clock):
    """The cause of “只看已逾期 shows 0”: the leader's own lists hold only their own steps. The team list
    holds the colleagues' overdue steps, and the leader's own lists say how many there are."""
    promised, _ = team
    frozen_clock.set(china(2026, 11, 26, 9, 0))                       # 承诺件 due 11-25 end of day
    overdue = Filters(overdue=True)
    assert tasklist.tasks(db, staff["leader"], "queue", overdue).items == ()
    assert rows(db, staff["leader"], overdue) == [(promised.number, "承诺件办理", "张承办")]
    assert tasklist.overview(db, staff["leader"], "queue", overdue).team_overdue == 1
    assert tasklist.overview(db, staff["leader"], "queue").team_overdue is None
    assert tasklist.overview(db, staff["handler"], "inbox", overdue).team_overdue is None


def test_a_step_whose_reminder_time_has_come_is_due_soon(db, staff, team, frozen_clock):
    promised, _ = team
    frozen_clock.set(china(2026, 11, 25, 9, 0))                       # a day before 11-25 23:59:59
    [row] = tasklist.tasks(db, staff["leader"], "team", Filters(due_soon=True)).items
    assert (row.case_number, row.due_soon, row.overdue) == (promised.number, True, False)
    frozen_clock.set(china(2026, 11, 26, 9, 0))
    assert tasklist.tasks(db, staff["leader"], "team", Filters(due_soon=True)).items == ()


def test_the_team_list_sorts_by_deadline_either_way_with_undated_steps_last(db, staff, team):
    promised, waiting = team
    later = Matter(db, staff, title="楼道灯坏")
    later.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-12-20")
    earliest = [n for n, _, _ in rows(db, staff["leader"])]
    latest = [n for n, _, _ in rows(db, staff["leader"], Filters(sort="due_desc"))]
    assert earliest == [promised.number, later.number, waiting.number]
    assert latest == [later.number, promised.number, waiting.number]


# --- 批量认领 / 批量指派 ------------------------------------------------------------------------

def test_bulk_claim_does_each_step_the_leader_may_take_and_names_each_refusal(db, staff, team):
    promised, waiting = team
    ids = [str(promised.task_id("UserTask_handle_promised")), str(waiting.task_id("UserTask_classify"))]
    result = bulk.apply(db, staff["leader"], "claim", ids)
    assert [(i.case_number, i.step_name) for i in result.done] == [(waiting.number, "分类交办")]
    [refused] = result.refused
    assert refused.case_number == promised.number and "承办人" in refused.reason
    assert rows(db, staff["leader"])[1] == (waiting.number, "分类交办", "李主任")
    assert [e.kind for e in waiting.view().history][-1] == "task_claimed"


def test_bulk_assign_gives_each_step_to_the_colleague_when_they_hold_its_role(db, staff, team):
    promised, waiting = team
    ids = [str(promised.task_id("UserTask_handle_promised")), str(waiting.task_id("UserTask_classify"))]
    result = bulk.apply(db, staff["leader"], "assign", ids, "handler2")
    assert (result.action, result.assignee) == ("指派", "赵承办")
    assert [i.case_number for i in result.done] == [promised.number]
    assert [(i.case_number, i.reason) for i in result.refused] == [
        (waiting.number, "赵承办 在本任务所属单位没有“社区负责人”角色,不能指派")]
    assert rows(db, staff["leader"])[0] == (promised.number, "承诺件办理", "赵承办")
    assert [n.kind for n in notifications.notifications_for(db, staff["handler2"])] == ["assignment"]


@pytest.mark.parametrize("action, ids, username, field", [
    ("claim", [], "", "task"),
    ("claim", ["x", ""], "", "task"),
    ("claim", [str(i) for i in range(1, 102)], "", "task"),
    ("delete", ["1"], "", "action"),
    ("assign", ["1"], "", "username"),
    ("assign", ["1"], "nobody", "username"),
])
def test_a_bad_bulk_request_names_the_field_and_changes_nothing(db, staff, team, action, ids, username, field):
    before = rows(db, staff["leader"])
    with pytest.raises(InvalidInput) as err:
        bulk.apply(db, staff["leader"], action, ids, username)
    assert field in err.value.fields
    assert rows(db, staff["leader"]) == before


def test_only_a_leader_may_bulk_assign(db, staff, team):
    promised, _ = team
    with pytest.raises(Forbidden, match="只有社区负责人可以指派任务"):
        bulk.apply(db, staff["handler"], "assign", [str(promised.task_id("UserTask_handle_promised"))], "handler2")


def test_a_step_that_does_not_exist_is_refused_by_itself(db, staff, team):
    _, waiting = team
    result = bulk.apply(db, staff["leader"], "claim", [str(waiting.task_id("UserTask_classify")), "999999"])
    assert len(result.done) == 1 and [i.reason for i in result.refused] == ["步骤 999999 不存在"]


# --- the overdue notice to the leaders ----------------------------------------------------------

def test_the_leader_is_told_once_when_a_step_of_their_team_goes_overdue(db, staff, team, frozen_clock):
    promised, _ = team
    frozen_clock.set(china(2026, 11, 26, 0, 1))
    assert timers.sweep(db)["overdue"] == 1
    assert timers.sweep(db)["overdue"] == 0
    told = [n for n in notifications.notifications_for(db, staff["leader"]) if n.kind == "overdue"]
    assert [n.text for n in told] == [
        f"本组步骤“承诺件办理”({promised.number} 3号楼暖气不热)已超过办理期限 2026-11-25 23:59,办理人:张承办。"]
    assert [n.kind for n in notifications.notifications_for(db, staff["handler"])].count("overdue") == 1
    [event] = [e for e in promised.view().history if e.kind == "overdue"]
    assert event.data["notified"] == ["handler"] and event.data["leaders"] == ["leader"]


def test_the_leader_may_open_every_step_of_their_team_read_only(db, staff, team):
    """The team list's 查看 opens: a leader sees every case of the procedures they lead."""
    promised, _ = team
    task = tasklist.get_task(db, staff["leader"], promised.task_id("UserTask_handle_promised"))
    assert (task.step_name, task.assignee, task.can_complete) == ("承诺件办理", "张承办", False)
