"""居务监督委员会 records findings on a 一征三议两公开 matter from its case page, at any step."""
from __future__ import annotations

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from tests.conftest import PROCESSES
from tests.web.conftest import login
from tests.yizheng import Matter


@pytest.fixture
def matter(minyi_db, staff_actors):
    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    return Matter(minyi_db, staff_actors)


def test_the_supervisory_committee_records_a_finding_from_the_case_page(client, matter):
    login(client, "jianwei")
    page = client.get(f"/cases/{matter.number}").get_data(as_text=True)
    assert "记录监督发现" in page
    response = client.post(f"/cases/{matter.number}/findings", data={"finding": "征求意见范围未覆盖3号楼"})
    assert response.status_code == 302
    page = client.get(f"/cases/{matter.number}").get_data(as_text=True)
    assert "征求意见范围未覆盖3号楼" in page
    assert [e.data["text"] for e in matter.events("finding")] == ["征求意见范围未覆盖3号楼"]


def test_an_empty_finding_is_refused_next_to_the_field_and_nothing_is_recorded(client, matter):
    login(client, "jianwei")
    response = client.post(f"/cases/{matter.number}/findings", data={"finding": "  "})
    assert response.status_code == 422 and "请填写内容" in response.get_data(as_text=True)
    assert matter.events("finding") == []


def test_other_roles_neither_see_nor_may_post_the_finding_form(client, matter):
    login(client, "liangwei")
    assert "记录监督发现" not in client.get(f"/cases/{matter.number}").get_data(as_text=True)
    response = client.post(f"/cases/{matter.number}/findings", data={"finding": "越权"})
    assert response.status_code == 403
    assert matter.events("finding") == []
