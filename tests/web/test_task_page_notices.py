"""What a task or case page tells its people (issue #17): a 延期申请 waiting for approval stays visible
after the flash; 催办 is offered on someone else's step, never on one's own; recorded 监督发现 are
listed in their section."""
from __future__ import annotations

import re

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Conflict
from engine.work import cases, extensions
from tests.conftest import PROCESSES
from tests.minqing import Matter
from tests.web.conftest import login
from tests.yizheng import Matter as Consultation


@pytest.fixture
def review_task(start_approval, frozen_clock) -> int:
    """An approval step (社区负责人, due in 2 days) started on Monday 2026-11-23."""
    return start_approval("路灯不亮", "3").new_tasks[0].id


def test_a_pending_extension_request_is_shown_on_the_task_page_until_decided(client, review_task):
    login(client, "leader")
    client.post(f"/tasks/{review_task}/extension", data={"reason": "等待路灯配件", "requested_due": "2026-12-04"})
    page = client.get(f"/tasks/{review_task}").get_data(as_text=True)
    notice = re.search(r'<p class="notice" id="pending-extension">(.*?)</p>', page, re.S).group(1)
    assert "延期申请待审批" in notice and "李主任" in notice and "2026-12-04" in notice
    assert ">申请延期</a>" not in page, "one request at a time"


@pytest.fixture
def handled(minyi_db, staff_actors, frozen_clock):
    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    m = Matter(minyi_db, staff_actors)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-30", handler="handler2")
    return m


def test_urging_is_offered_on_someone_elses_step_but_not_on_ones_own(client, handled, minyi_db, staff_actors):
    task_id = handled.task_id("UserTask_handle_promised")
    login(client, "leader")
    assert ">催办</button>" in client.get(f"/tasks/{task_id}").get_data(as_text=True)
    classify_again = Matter(minyi_db, staff_actors).task_id("UserTask_classify")
    assert ">催办</button>" not in client.get(f"/tasks/{classify_again}").get_data(as_text=True)


def test_the_engine_refuses_urging_ones_own_assigned_step(minyi_db, staff_actors, frozen_clock):
    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    m = Matter(minyi_db, staff_actors)
    task_id = m.task_id("UserTask_classify")
    cases.claim(minyi_db, staff_actors["leader"], task_id)
    with pytest.raises(Conflict) as err:
        extensions.urge(minyi_db, staff_actors["leader"], task_id)
    assert err.value.message == "这是您自己的任务,无需催办"


def test_recorded_findings_are_listed_in_their_section_for_everyone_who_sees_the_case(client, minyi_db,
                                                                                        staff_actors):
    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    matter = Consultation(minyi_db, staff_actors)
    login(client, "jianwei")
    client.post(f"/cases/{matter.number}/findings", data={"finding": "征求意见范围未覆盖3号楼"})
    for who, may_record in (("jianwei", True), ("liangwei", False)):
        login(client, who)
        page = client.get(f"/cases/{matter.number}").get_data(as_text=True)
        section = page.split('id="findings"', 1)[1].split("</section>", 1)[0]
        assert "征求意见范围未覆盖3号楼" in section and "钱监委" in section
        assert ("记录监督发现" in section) is may_record
