"""A multi-instance step over HTTP: each instance's task page opens for the step's lane (it was a 404
"步骤 … [child] 不在该流程版本中", then a 403 "该任务属于“”"), shows its own item, and completes."""
from __future__ import annotations

from engine.work import cases
from tests.conftest import DATA, deploy_file
from tests.web.conftest import login


def test_each_instance_of_a_step_over_a_list_opens_and_completes_in_its_lane(client, minyi_db, staff_actors):
    deploy_file(minyi_db, DATA / "multi_instance.bpmn")
    started = cases.start_case(minyi_db, staff_actors["clerk"], "multi",
                               {"title": "小区改造", "mode": "逐项", "topics": "加装电梯\n更换水管"})
    login(client, "handler")
    for task, topic in zip(started.new_tasks, ["加装电梯", "更换水管"], strict=True):
        page = client.get(f"/tasks/{task.id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "逐项提出意见" in html and f'value="{topic}"' in html
        done = client.post(f"/tasks/{task.id}/complete", data={"opinion": f"同意{topic}"})
        assert done.status_code == 302, done.get_data(as_text=True)[:500]
    login(client, "leader")
    assert client.get(f"/tasks/{started.new_tasks[0].id}").status_code == 403
