"""查找事项 for staff (SQLite and PostgreSQL): by number, title, reporter, phone, address, 网格, date and
status — only among the cases the searcher may open on the case page."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import InvalidInput
from engine.work import casepages, casesearch, cases
from engine.work.casesearch import StaffQuery
from engine.people import users
from tests.conftest import PASSWORD, PROCESSES
from tests.minqing import INTAKE, Matter


@pytest.fixture
def matters(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    heating = Matter(db, staff)  # 刘大爷 13800001111, 示范社区3号楼2单元, 第三网格, 3号楼暖气不热
    frozen_clock.set(frozen_clock.value + timedelta(days=2))
    lamp = Matter(db, staff, title="东门路灯不亮", reporter_name="王阿姨", reporter_contact="13912345678",
                  address="和平里7号楼", grid="第七网格")
    return heating, lamp


def found(db, actor, **asked) -> list[str]:
    return [c.number for c in casesearch.search(db, actor, StaffQuery(**asked)).items]


@pytest.mark.parametrize("asked, which", [
    ({"phone": "5678"}, "lamp"),
    ({"reporter": "刘大"}, "heating"),
    ({"address": "和平里"}, "lamp"),
    ({"grid": "第三网格"}, "heating"),
    ({"title": "路灯"}, "lamp"),
    ({"status": "running", "grid": "网格"}, "both"),
    ({"status": "completed"}, "none"),
    ({"date_from": date(2026, 11, 25)}, "lamp"),
    ({"date_to": date(2026, 11, 23)}, "heating"),
    ({"phone": "13800001111", "grid": "第七网格"}, "none"),
])
def test_the_leader_finds_cases_by_each_filter(db, staff, matters, asked, which):
    heating, lamp = matters
    expected = {"heating": [heating.number], "lamp": [lamp.number], "both": [lamp.number, heating.number],
                "none": []}[which]
    assert found(db, staff["leader"], **asked) == expected


def test_a_number_finds_its_case(db, staff, matters):
    heating, _ = matters
    assert found(db, staff["leader"], number=heating.number[-6:]) == [heating.number]


def test_a_searcher_finds_only_the_cases_they_may_open(db, staff, matters):
    """The same rule as the case page: 张承办 finds a case once a step of it is theirs; 上级部门 finds
    none of these; 审计 finds all."""
    heating, lamp = matters
    assert found(db, staff["handler"], grid="网格") == []
    assert found(db, staff["superior"], phone="1") == []
    heating.do("UserTask_classify", "leader", kind="即办件", assign_note="请处理")
    assert found(db, staff["handler"], grid="网格") == [heating.number]
    assert found(db, staff["auditor"], grid="网格") == [lamp.number, heating.number]
    for number in found(db, staff["handler"], grid="网格"):
        casepages.get_case(db, staff["handler"], number)  # each one opens


def test_an_empty_search_lists_nothing(db, staff, matters):
    assert casesearch.search(db, staff["leader"], StaffQuery()).items == ()


def test_a_sandbox_case_is_never_found(db, staff, matters):
    designer = users.create_user(db, "designer", PASSWORD, "设计", ["流程设计人员"])
    with db.read() as session:
        version = deployments.latest_version_id(session, "minqing_liushuixian")
    cases.start_case(db, designer, "minqing_liushuixian", {**INTAKE, "grid": "第九网格"}, sandbox_version=version)
    assert found(db, staff["auditor"], grid="第九网格") == []
    assert found(db, staff["auditor"], grid="第三网格") != []


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13-01"}, "from"),
    ({"to": "昨天"}, "to"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"status": "DELETED"}, "status"),
])
def test_a_bad_search_names_the_field(params, field):
    with pytest.raises(InvalidInput) as err:
        casesearch.parse(params)
    assert field in err.value.fields


def test_the_form_values_are_trimmed_and_bounded():
    q = casesearch.parse({"phone": " 1390 ", "reporter": "王" * 300, "from": "2026-11-01"})
    assert (q.phone, len(q.reporter), q.date_from) == ("1390", 100, date(2026, 11, 1))
    assert q.as_params() == {"phone": "1390", "reporter": "王" * 100, "from": "2026-11-01"}
