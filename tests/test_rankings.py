"""考核 and rankings: the figures of units on a small tree with known cases (every figure asserted), the
drill-down 区 → 街道 → 社区 → 网格, periods in China time, who may see which units, 四单 积旗 with its
通报, and the results of 社区评议街道 — run through the engine like any other procedure."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from itertools import count

import pytest

from engine.audit import assessment, flags, periods, rankings, reviews, statistics
from engine.audit.search import CaseQuery
from engine.errors import Forbidden, InvalidInput
from engine.people import units, users
from engine.store.models import AuditEvent, Case, ExtensionRequest, HumanTask
from engine.work import cases, tasklist
from tests.conftest import PASSWORD, PROCESSES, deploy_file, refresh_kept
from tests.sql_log import counted, statements_from_now

NOVEMBER = periods.Period("month", 2026, 11)
UTC = timezone.utc
_serial = count(1)


def at(day: int, month: int = 11, hour: int = 2) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def tree(db, frozen_clock):
    """龙山区 → 城关街道 (光明社区 → 光明一/二/三网格, 和平社区) and 西城街道 (新华社区); each of 光明一网格 and
    光明二网格 has a 包保单位 beside it."""
    frozen_clock.set(at(28))
    with db.write() as session:
        made = {}
        for key, name, level, parent, beside in (
                ("区", "龙山区", "区", None, False), ("S1", "城关街道", "街道", "区", False),
                ("S2", "西城街道", "街道", "区", False), ("C1", "光明社区", "社区", "S1", False),
                ("C2", "和平社区", "社区", "S1", False), ("C3", "新华社区", "社区", "S2", False),
                ("G1", "光明一网格", "网格", "C1", False), ("G2", "光明二网格", "网格", "C1", False),
                ("G3", "光明三网格", "网格", "C1", False), ("B1", "龙里移动公司", "包保单位", "G1", True),
                ("B2", "龙里林场", "包保单位", "G2", True)):
            made[key] = units.create_unit(session, "admin", name, level, made[parent] if parent else None,
                                          beside=beside).id
    for path in ("minqing_liushuixian.bpmn", "sidan.bpmn", "shequ_pingyi_jiedao.bpmn"):
        deploy_file(db, PROCESSES / path)
    return made


def add_case(db, unit_id, started, *, rating=None, sandbox=False, process="minqing_liushuixian"):
    from engine.bpmn import deployments

    with db.write() as session:
        n = next(_serial)
        case = Case(number=f"T-{n:05d}", version_id=deployments.latest_version_id(session, process),
                    process_id=process, unit_id=unit_id, status="completed" if rating else "running",
                    rating=rating, sandbox=sandbox, started_by="clerk", started_at=started, updated_at=started)
        session.add(case)
        session.flush()
        return case.id


def add_step(db, case_id, step_id, *, status="COMPLETED", due=None, done=None, lane="承办人", name="办理",
             by=None):
    with db.write() as session:
        unit_id = session.get(Case, case_id).unit_id
        row = HumanTask(case_id=case_id, unit_id=unit_id, task_uuid=str(uuid.uuid4()), step_id=step_id, name=name,
                        lane=lane,
                        status=status, created_at=at(2), due_at=due, completed_at=done, completed_by_id=by)
        session.add(row)
        session.flush()
        refresh_kept(session.connection())  # written here, not by the engine: kept figures as after a load
        return row.id


def add_event(db, case_id, kind, step_id="", data=None):
    with db.write() as session:
        seq = next(_serial)
        session.add(AuditEvent(case_id=case_id, seq=seq, at=at(5), actor="x", kind=kind, step_id=step_id,
                               data=data or {}, prev_hash="0" * 64, hash=f"{seq:064d}"))
        session.flush()
        refresh_kept(session.connection())


def add_extension(db, case_id, task_id, status):
    with db.write() as session:
        session.add(ExtensionRequest(human_task_id=task_id, case_id=case_id, requested_by="handler",
                                     requested_at=at(6), reason="材料未到", requested_due=at(20), status=status))


@pytest.fixture
def known(db, tree):
    """The cases of November 2026 (China time), with what each contributes:
    a 光明社区 满意: one step on time, one late (逾期件), a pending 延期 (not counted);
    b 光明一网格 基本满意: one step on time, an approved 延期, one 退单 and one step completed without it;
    c 光明二网格 不满意: a 督办复核 step in the 民情监督员 lane (督办);
    d 光明二网格 not rated, waiting at 一事一评 (响应率), an open step past its due time (逾期件);
    e 和平社区 满意, an overdue step escalated (督办);
    f 新华社区 满意;
    g 光明社区, received 00:30 on 1 November in China (still 31 October in UTC): counted;
    not counted: one received 00:30 on 1 December in China, one in October, one 试运行 case."""
    t = tree
    a = add_case(db, t["C1"], at(3), rating="满意")
    add_step(db, a, "UserTask_classify", due=at(4), done=at(3, hour=5))
    late = add_step(db, a, "UserTask_handle_promised", due=at(10), done=at(12))
    add_extension(db, a, late, "pending")
    b = add_case(db, t["G1"], at(4), rating="基本满意")
    handled = add_step(db, b, "UserTask_handle_promised", due=at(15), done=at(14))
    add_extension(db, b, handled, "approved")
    add_event(db, b, "task_completed", "UserTask_handle_promised", {"values": {"return_to_leader": True}})
    add_event(db, b, "task_completed", "UserTask_handle_promised", {"values": {"return_to_leader": False}})
    c = add_case(db, t["G2"], at(5), rating="不满意")
    add_step(db, c, "UserTask_review", lane="民情监督员", name="督办复核", done=at(9))
    d = add_case(db, t["G2"], at(6))
    add_step(db, d, "UserTask_rate", status="READY", lane="居民", name="一事一评")
    add_step(db, d, "UserTask_feedback", status="READY", due=at(20))
    e = add_case(db, t["C2"], at(7), rating="满意")
    add_event(db, e, "escalated", "UserTask_handle_promised", {"to": "民情监督员"})
    add_case(db, t["C3"], at(8), rating="满意")
    add_case(db, t["C1"], datetime(2026, 10, 31, 16, 30, tzinfo=UTC))
    add_case(db, t["C1"], datetime(2026, 11, 30, 16, 30, tzinfo=UTC), rating="不满意")
    add_case(db, t["C1"], at(15, month=10), rating="不满意")
    add_case(db, t["C1"], at(9), rating="不满意", sandbox=True)
    return t


def person(db, name, role, unit_id):
    return users.create_user(db, name, PASSWORD, name, [], grants=[(role, unit_id)])


def rows_by_name(r):
    return {row.name: row for row in r.rows}


def test_the_区_ranks_its_街道_by_every_figure_of_their_cases(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    r = rankings.ranking(db, auditor, NOVEMBER)
    assert r.unit.name == "龙山区" and r.level == "街道" and r.levels == ("街道", "社区", "网格")
    s1, s2 = rows_by_name(r)["城关街道"].counts, rows_by_name(r)["西城街道"].counts
    assert s1.received == 6  # a b c d e g
    assert (s1.on_time.numerator, s1.on_time.denominator) == (2, 3)  # a on time + a late + b on time
    assert (s1.response.numerator, s1.response.denominator) == (4, 5)  # rated a b c e; d waits at 一事一评
    assert (s1.resolution.numerator, s1.resolution.denominator) == (3, 4)
    assert (s1.satisfaction.numerator, s1.satisfaction.denominator) == (3, 4)  # 满意 a e + 基本满意 b
    assert (s1.overdue, s1.returned, s1.extended, s1.supervised) == (2, 1, 1, 2)
    assert (s2.received, s2.satisfaction.value, s2.on_time.value, s2.overdue) == (1, 1.0, None, 0)
    assert [(row.name, row.rank) for row in r.rows] == [("西城街道", 1), ("城关街道", 2)]  # by 满意率
    assert r.total.received == 7


def test_the_whole_tree_agrees_with_the_auditors_statistics_of_the_same_days(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    total = rankings.ranking(db, auditor, NOVEMBER).total
    with db.read() as session:
        s = statistics.compute(session, CaseQuery(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)), 0.9)
    assert total.received == s.total
    for mine, theirs in ((total.on_time, s.on_time), (total.response, s.response),
                         (total.resolution, s.resolution), (total.satisfaction, s.satisfaction)):
        assert (mine.numerator, mine.denominator) == (theirs.numerator, theirs.denominator)


def test_a_街道_drills_down_to_its_社区_and_to_their_网格(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    r = rankings.ranking(db, auditor, NOVEMBER, unit_id=known["S1"])
    assert [c.name for c in r.crumbs] == ["龙山区", "城关街道"] and r.levels == ("社区", "网格")
    assert {n: row.counts.received for n, row in rows_by_name(r).items()} == {"光明社区": 5, "和平社区": 1}
    assert all(row.drills for row in r.rows if row.name == "光明社区")
    grids = rankings.ranking(db, auditor, NOVEMBER, unit_id=known["S1"], level="网格", sort="overdue")
    assert {n: row.counts.received for n, row in rows_by_name(grids).items()} == {
        "光明一网格": 1, "光明二网格": 2, "光明三网格": 0}
    assert [(row.name, row.rank) for row in grids.rows] == [("光明一网格", 1), ("光明三网格", 1), ("光明二网格", 3)]
    assert grids.total.received == 6  # the 街道's cases, also those kept at 光明社区 itself


def test_a_unit_without_a_value_is_listed_last_unranked(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    r = rankings.ranking(db, auditor, NOVEMBER, unit_id=known["C1"], sort="satisfaction")
    assert [(row.name, row.rank) for row in r.rows] == [("光明一网格", 1), ("光明二网格", 2), ("光明三网格", None)]


def test_periods_run_in_china_time_and_quarters_and_years_add_up(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    assert periods.parse("2026-11") == NOVEMBER and NOVEMBER.label == "2026年11月"
    assert NOVEMBER.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert periods.parse("2026-Q4").label == "2026年第4季度" and periods.parse("2026").label == "2026年"
    assert periods.parse("2026-01").previous() == periods.Period("month", 2025, 12)
    assert rankings.ranking(db, auditor, periods.parse("2026-Q4")).total.received == 9  # + October, December
    assert rankings.ranking(db, auditor, periods.parse("2026-10")).total.received == 1
    with pytest.raises(InvalidInput) as caught:
        periods.parse("2026-13")
    assert set(caught.value.fields) == {"period"}


def test_a_社区负责人_ranks_only_inside_their_社区(db, known):
    leader = person(db, "leader", "社区负责人", known["C1"])
    r = rankings.ranking(db, leader, NOVEMBER)
    assert r.unit.name == "光明社区" and [c.name for c in r.crumbs] == ["光明社区"]
    assert {row.name for row in r.rows} == {"光明一网格", "光明二网格", "光明三网格"}
    assert r.total.received == 5
    for outside in ("S1", "C2", "区"):
        with pytest.raises(Forbidden):
            rankings.ranking(db, leader, NOVEMBER, unit_id=known[outside])


def test_a_街道的上级部门_sees_its_社区_and_someone_without_a_ranking_role_sees_nothing(db, known):
    street = person(db, "street", "上级部门", known["S1"])
    assert {row.name for row in rankings.ranking(db, street, NOVEMBER).rows} == {"光明社区", "和平社区"}
    handler = person(db, "handler", "承办人", known["区"])
    with pytest.raises(Forbidden):
        rankings.ranking(db, handler, NOVEMBER)


def test_a_bad_level_or_sort_names_its_field(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    for kwargs, field in (({"level": "省"}, "level"), ({"sort": "rank"}, "sort")):
        with pytest.raises(InvalidInput) as caught:
            rankings.ranking(db, auditor, NOVEMBER, **kwargs)
        assert set(caught.value.fields) == {field}


def test_the_csv_has_a_row_per_unit_and_the_total(db, known):
    auditor = person(db, "auditor", "审计", known["区"])
    header, rows = rankings.csv_table(rankings.ranking(db, auditor, NOVEMBER))
    assert header[:4] == ("名次", "单位", "层级", "受理量") and header[-1] == "督办"
    assert rows[0][:5] == (1, "西城街道", "街道", 1, "") and rows[1][:4] == (2, "城关街道", "街道", 6)
    assert rows[1][4:] == ("0.6667", "0.8000", "0.7500", "0.7500", 2, 1, 1, 2)
    assert rows[-1][:4] == ("", "合计", "", 7)


def take(db, unit_id, day, month=11, by=None):
    case_id = add_case(db, unit_id, at(1, month=month), process="sidan")
    add_step(db, case_id, "UserTask_gongjia", name="共商公家事(包保单位接单)", lane="包保单位",
             done=at(day, month=month), by=by)


def test_四单_积旗_one_flag_per_接单_ranks_网格_and_包保单位_and_names_the_last_two(db, tree):
    sponsor = person(db, "mobile", "包保单位", tree["B1"])
    for _ in range(2):
        take(db, tree["G1"], 10, by=sponsor.id)
    take(db, tree["G1"], 11)
    take(db, tree["G2"], 12)
    take(db, tree["G3"], 3, month=10)  # October: 光明一网格 and 光明二网格 were named then
    # a step of 四单 that is not 接单 earns nothing
    add_step(db, add_case(db, tree["G3"], at(2), process="sidan"), "UserTask_paidan", name="支部派单", done=at(3))
    leader = person(db, "leader", "社区负责人", tree["C1"])
    f = flags.flags(db, leader, NOVEMBER)
    assert [(g.name, g.flags, g.rank) for g in f.grids] == [("光明一网格", 3, 1), ("光明二网格", 1, 2),
                                                             ("光明三网格", 0, 3)]
    assert [(s.name, s.grid, s.flags) for s in f.sponsors] == [("龙里移动公司", "光明一网格", 2),
                                                              ("龙里林场", "光明二网格", 0)]
    assert [g.name for g in f.named] == ["光明二网格", "光明三网格"]
    assert f.named_again == ("光明二网格",) and f.report_up == ("龙里林场",)
    december = flags.flags(db, leader, periods.Period("month", 2026, 12))
    assert {g.flags for g in december.grids} == {0} and december.named == ()  # all equal: nobody is named


def test_社区评议街道_is_an_ordinary_procedure_and_its_scores_average_per_街道(db, tree):
    one = person(db, "guangming", "社区负责人", tree["C1"])
    two = person(db, "heping", "社区负责人", tree["C2"])
    street = person(db, "street", "上级部门", tree["S1"])
    scores = {"score_guidance": "5", "score_response": "4", "score_efficiency": "4", "score_style": "5",
              "score_overall": "5"}
    started = cases.start_case(db, one, "shequ_pingyi_jiedao", {"title": "2026年11月评议", **scores})
    assert [t.step_name for t in started.new_tasks] == ["街道阅知反馈"]
    cases.start_case(db, two, "shequ_pingyi_jiedao",
                     {"title": "2026年11月评议", **scores, "score_guidance": "3", "score_overall": "4"})
    queue = tasklist.tasks(db, street, "queue").items
    assert len(queue) == 2 and {t.step_name for t in queue} == {"街道阅知反馈"}  # routed to the 街道
    with pytest.raises(InvalidInput) as caught:
        cases.start_case(db, one, "shequ_pingyi_jiedao", {"title": "打分过高", **scores, "score_style": "6"})
    assert set(caught.value.fields) == {"score_style"}
    auditor = person(db, "auditor", "审计", tree["区"])
    (found,) = reviews.reviews(db, auditor, NOVEMBER)
    assert found.procedure == "社区评议街道" and found.level == "街道"
    assert found.scores[0] == "指导支持社区工作" and len(found.scores) == 5
    (s1,) = found.rows
    assert (s1.name, s1.evaluations, s1.averages) == ("城关街道", 2, (4.0, 4.0, 4.0, 5.0, 4.5))
    assert s1.overall == 4.3
    assert reviews.reviews(db, one, NOVEMBER)[0].rows == ()  # a 社区 does not see its 街道's results
    page = assessment.assessment(db, auditor, NOVEMBER)
    assert page.reviews == (found,) and page.periods[0] == NOVEMBER


def test_rankings_are_sql_aggregates_not_a_loop_over_cases(db, known, monkeypatch):
    """Counting is grouped by unit in the database: adding cases adds no statement."""
    auditor = person(db, "auditor", "审计", known["区"])
    rankings.ranking(db, auditor, NOVEMBER)  # anything read once per process is read now
    sent = statements_from_now(db, monkeypatch)
    rankings.ranking(db, auditor, NOVEMBER)
    before = counted(sent)
    for _ in range(5):
        add_case(db, known["G3"], at(10), rating="满意")
    sent.clear()
    rankings.ranking(db, auditor, NOVEMBER)
    assert len(counted(sent)) == len(before) > 0, sent
