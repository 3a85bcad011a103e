"""Statistics on a known set of 民情 cases, built step by step through the engine with a frozen clock;
every number is exact. Sandbox cases and cases outside the date range are not counted."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from engine.actor import SYSTEM
from engine.audit import statistics
from engine.audit.search import CaseQuery
from engine.bpmn import deployments
from engine.errors import Forbidden
from engine.store.models import Case
from tests.conftest import PROCESSES, refresh_kept
from tests.minqing import Matter

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in China
FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已答复", "answered_at": "2026-11-23"}


def at(clock, hours: float) -> None:
    clock.set(T0 + timedelta(hours=hours))


WAYS = {"构筑平台及时受理": "民情热线", "走家入户上门受理": "民情信息员走访", "政务大厅集中受理": "投诉室"}


@pytest.fixture
def known(db, staff, frozen_clock):
    """Seven cases (one before the range) and one sandbox case; see the numbers in the tests."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    frozen_clock.set(T0 - timedelta(days=3))
    Matter(db, staff, channel="政务大厅集中受理", channel_way="投诉室")  # G: started 11-20, outside the range
    at(frozen_clock, 0)
    made = {}
    for name, channel, topic in (("A", "构筑平台及时受理", "水电气暖"), ("A2", "走家入户上门受理", "环境绿化"),
                                 ("B", "构筑平台及时受理", "水电气暖"), ("C", "政务大厅集中受理", "社区治安"),
                                 ("D", "构筑平台及时受理", "政策咨询"), ("F", "政务大厅集中受理", "水电气暖"),
                                 ("S", "构筑平台及时受理", "水电气暖")):
        made[name] = Matter(db, staff, channel=channel, channel_way=WAYS[channel], topic=topic)
    for name in ("A", "A2", "C", "S"):
        made[name].do("UserTask_classify", "leader", kind="即办件")
    made["B"].do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    made["D"].do("UserTask_classify", "leader", kind="建议件")
    at(frozen_clock, 1)
    for name in ("A", "A2", "C", "S"):
        made[name].do("UserTask_handle_immediate", "handler", handling_result="已处理")
    made["D"].do("UserTask_advise", "handler", explanation="请到区社保局", referral_department="区社保局")
    at(frozen_clock, 2)
    for name in ("A", "C", "D", "S"):
        made[name].do("UserTask_feedback", "handler", **FEEDBACK)
    made["A"].do("UserTask_rate", "clerk", rating="满意")
    made["S"].do("UserTask_rate", "clerk", rating="不满意")
    at(frozen_clock, 3)
    made["A2"].do("UserTask_feedback", "handler", **FEEDBACK)
    at(frozen_clock, 4)
    made["A2"].do("UserTask_rate", "clerk", rating="满意")
    made["C"].do("UserTask_rate", "clerk", rating="不满意")  # goes to 督办复核, stays open
    at(frozen_clock, 72)  # 11-26 10:00 China: B was promised for 11-25
    made["B"].do("UserTask_handle_promised", "handler", handling_result="已更换阀门")
    made["B"].do("UserTask_feedback", "handler", **FEEDBACK)
    made["B"].do("UserTask_rate", "clerk", rating="基本满意")
    with db.write() as session:  # no case becomes 试运行 in service: work tallies rebuilt as after a load
        session.execute(update(Case).where(Case.number == made["S"].number).values(sandbox=True))
        refresh_kept(session.connection())
    return made


def stats(db, staff, **query):
    return statistics.statistics(db, staff["auditor"], CaseQuery(**{"date_from": date(2026, 11, 23), **query}))


def test_counts_by_channel_kind_topic_and_status(db, staff, known):
    s = stats(db, staff)
    assert s.total == 6
    assert s.by_channel == (("构筑平台及时受理", 3), ("政务大厅集中受理", 2), ("走家入户上门受理", 1))
    assert s.by_kind == (("即办件", 3), ("建议件", 1), ("承诺件", 1), ("未填写", 1))
    assert dict(s.by_topic) == {"水电气暖": 3, "环境绿化": 1, "社区治安": 1, "政策咨询": 1}
    assert dict(s.by_status) == {"completed": 3, "running": 3}
    assert stats(db, staff, date_from=None).total == 7  # with the case of 11-20


def test_on_time_rate_and_overdue_list(db, staff, known):
    s = stats(db, staff)
    assert (s.on_time.numerator, s.on_time.denominator) == (3, 4)  # B's 承诺件办理 was late
    assert [(o.case_number, o.step_name, o.person) for o in s.overdue] == [
        (known["B"].number, "承诺件办理", "张承办")]
    # asked for more than units, the late steps are read from the chosen cases that kept one: the same list
    assert stats(db, staff, kind="承诺件").overdue == s.overdue
    assert stats(db, staff, kind="即办件").overdue == ()


def test_handling_time_average_and_p90_per_kind(db, staff, known):
    s = stats(db, staff)
    assert [(k.kind, k.cases, k.average_hours, k.p90_hours) for k in s.handling] == [
        ("即办件", 2, 3.0, 4.0), ("承诺件", 1, 72.0, 72.0)]


def test_satisfaction_and_the_three_ranking_rates(db, staff, known):
    s = stats(db, staff)
    assert (s.satisfaction.numerator, s.satisfaction.denominator) == (3, 4)
    assert (s.response.numerator, s.response.denominator) == (4, 5)  # D answered, not yet called back
    assert s.resolution.value == 0.75
    assert s.weighted_satisfaction.value == pytest.approx((2 + 0.9) / 4)
    half = statistics.statistics(db, staff["auditor"], CaseQuery(date_from=date(2026, 11, 23)), basic_weight=0.5)
    assert half.weighted_satisfaction.value == pytest.approx(2.5 / 4)


def test_work_done_per_person_and_per_role(db, staff, known):
    s = stats(db, staff)
    assert s.by_person == (("张承办", 10), ("李主任", 5), ("王受理", 4))
    assert s.by_role == (("承办人", 10), ("社区负责人", 5), ("居民", 4))


def test_filters_narrow_every_figure(db, staff, known):
    s = stats(db, staff, kind="即办件")
    assert s.total == 3 and s.on_time.denominator == 3 and s.overdue == ()
    assert stats(db, staff, date_to=date(2026, 11, 22)).total == 0


def test_statistics_are_for_auditors(db, staff, known):
    with pytest.raises(Forbidden):
        stats(db, {"auditor": staff["clerk"]})


def test_person_and_overdue_filters_select_cases_not_steps(db, staff, known):
    """The overdue list and the per-person counts cover every step of the selected cases."""
    late = stats(db, staff, overdue=True)
    assert late.total == 1 and late.by_kind == (("承诺件", 1),)
    assert [o.case_number for o in late.overdue] == [known["B"].number]
    assert late.by_person == (("张承办", 2), ("李主任", 1), ("王受理", 1))
    worked = stats(db, staff, person="handler")
    assert worked.total == 5  # F was never handled
    assert worked.by_person == (("张承办", 10), ("李主任", 5), ("王受理", 4))
    assert [o.case_number for o in worked.overdue] == [known["B"].number]


def test_the_unfiltered_view_leaves_out_sandbox_steps(db, staff, known):
    everything = statistics.statistics(db, staff["auditor"], CaseQuery())
    assert everything.total == 7  # with G of 11-20, which has no finished steps; never the sandbox case S
    assert [o.case_number for o in everything.overdue] == [known["B"].number]  # walked in due order
    assert everything.by_person == (("张承办", 10), ("李主任", 5), ("王受理", 4))
    assert (everything.on_time.numerator, everything.on_time.denominator) == (3, 4)


def test_p90_is_the_nearest_rank_of_the_completed_cases_times_and_a_filter_narrows_it(db, staff, frozen_clock):
    """Eleven completed 即办件 taking 1 … 11 hours (one running case beside them): the p90 is the value at rank
    ⌈0.9 × 11⌉ = 10 ascending, read from the top of the kind's handling times, not the largest."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    at(frozen_clock, 0)
    matters = [Matter(db, staff) for _ in range(12)]
    with db.write() as session:  # rows written behind the engine, then kept as the engine keeps them
        for hours, m in enumerate(matters[:11], start=1):
            session.execute(update(Case).where(Case.number == m.number).values(
                kind="即办件", status="completed", completed_at=T0 + timedelta(hours=hours)))
        session.execute(update(Case).where(Case.number == matters[11].number).values(kind="即办件"))
        refresh_kept(session.connection())
    [handled] = stats(db, staff).handling
    assert (handled.kind, handled.cases, handled.average_hours, handled.p90_hours) == ("即办件", 11, 6.0, 10.0)
    assert stats(db, staff, kind="即办件").handling == (handled,)
    assert stats(db, staff, kind="承诺件").handling == ()
    assert stats(db, staff, status="running").handling == ()
