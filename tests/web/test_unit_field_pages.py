"""Unit fields over HTTP: the task page lists the units by name (a field of several as ticked boxes, a
read-only one as its name), the ticked boxes arrive as a list, and a refused unit is shown on its field."""
from __future__ import annotations

import re

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.people import units
from engine.work import casepages, cases
from tests.test_unit_fields import process
from tests.web.conftest import login


def _setup(minyi_db, staff_actors) -> tuple[dict[str, int], int, str]:
    deployments.deploy(minyi_db, process(), "paidan.bpmn", SYSTEM)
    with minyi_db.write() as session:
        home = units.default_unit(session)
        ids = {name: units.create_unit(session, "test", name, "职能部门", home, beside=True).id
               for name in ("区住建局", "区城管局")}
    started = cases.start_case(minyi_db, staff_actors["clerk"], "paidan",
                               {"title": "主管道更换", "dept": str(ids["区住建局"])})
    return ids, started.new_tasks[0].id, started.case_number


def test_the_page_lists_the_units_by_name_and_takes_the_ticked_ones(client, minyi_db, staff_actors):
    ids, task_id, number = _setup(minyi_db, staff_actors)
    login(client, "clerk")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<fieldset id="f-depts"' in html and "<legend>召集的职能部门" in html
    for name, unit_id in ids.items():
        assert re.search(rf'name="depts" value="{unit_id}">\s*<label for="f-depts-\d">{name}</label>', html)
    assert 'id="f-dept" value="区住建局" readonly' in html  # the read-only field shows the name, not the id
    done = client.post(f"/tasks/{task_id}/complete", data={"depts": [str(ids["区住建局"]), str(ids["区城管局"])]})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    view = casepages.get_case(minyi_db, staff_actors["auditor"], number)
    assert view.data["depts"] == [ids["区住建局"], ids["区城管局"]]


def test_a_unit_not_offered_is_shown_on_its_field_with_the_ticks_kept(client, minyi_db, staff_actors):
    ids, task_id, _ = _setup(minyi_db, staff_actors)
    login(client, "clerk")
    refused = client.post(f"/tasks/{task_id}/complete", data={"depts": [str(ids["区城管局"]), "99999"]})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "“99999” 不是可选的职能部门;可选:区住建局、区城管局" in html
    assert f'name="depts" value="{ids["区城管局"]}" checked>' in html
    assert f'name="depts" value="{ids["区住建局"]}">' in html
