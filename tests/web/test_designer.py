"""The designer workspace over HTTP: who may use it, validate and deploy as JSON, upload, download, compare, 试运行."""
from __future__ import annotations

import re

import pytest

from engine.people import users
from tests.conftest import DATA, PASSWORD
from tests.test_designer import APPROVAL, with_new_review_field
from tests.test_foreign_diagrams import genmymodel_with_roles
from tests.web.conftest import login


@pytest.fixture
def designer_client(app, minyi_db):
    users.create_user(minyi_db, "designer", PASSWORD, "周设计", ["流程设计人员"])
    client = app.test_client()
    login(client, "designer")
    return client


@pytest.mark.parametrize("path", ["/designer/", "/designer/new", "/designer/versions/1/edit",
                                  "/designer/versions/1/download"])
def test_staff_without_the_designer_role_are_refused(login_as, path):
    response = login_as("clerk").get(path)
    assert response.status_code == 403
    assert "流程设计人员" in response.get_data(as_text=True)


def test_the_list_shows_versions_with_their_cases(designer_client, start_approval):
    start_approval()
    page = designer_client.get("/designer/").get_data(as_text=True)
    assert "简单审批" in page and "第 1 版" in page and "编辑最新版本" in page
    assert re.search(r'data-label="办理中">\s*1\s*<', page)


def test_validate_returns_the_problems_with_element_ids(designer_client):
    xml = APPROVAL.decode().replace('${decision == "同意"}', "__import__('os')")
    response = designer_client.post("/api/designer/validate", json={"xml": xml, "filename": "approval.bpmn"})
    body = response.get_json()
    assert response.status_code == 200 and body["deployable"] is False
    assert [p["element_id"] for p in body["problems"]] == ["F_ok"]
    assert "__import__" in body["problems"][0]["message"]


def test_deploy_creates_a_version_and_a_bad_one_changes_nothing(designer_client):
    response = designer_client.post("/api/designer/deploy", json={
        "xml": with_new_review_field().decode(), "filename": "approval.bpmn", "note": "审核加联系电话"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["number"] == 2
    bad = designer_client.post("/api/designer/deploy", json={
        "xml": "<bpmn:definitions/>", "filename": "approval.bpmn", "note": "坏的"})
    assert bad.status_code == 422 and bad.get_json()["problems"]
    assert "第 3 版" not in designer_client.get("/designer/").get_data(as_text=True)


def test_deploy_without_a_csrf_header_is_refused(app, minyi_db):
    users.create_user(minyi_db, "designer", PASSWORD, "周设计", ["流程设计人员"])
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login(client, "designer")
    response = client.post("/api/designer/deploy", json={"xml": APPROVAL.decode(), "note": "x"})
    assert response.status_code == 400 and response.get_json()["error"] == "CSRFError"


def test_upload_opens_the_file_in_the_modeler_without_deploying(designer_client):
    response = designer_client.post("/designer/upload", data={"file": (DATA / "approval.bpmn").open("rb")},
                                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="diagram-xml"' in page and "vendor/modeler.js" in page
    assert "第 2 版" not in designer_client.get("/designer/").get_data(as_text=True)


def test_upload_of_something_else_is_refused_with_a_message(designer_client):
    import io

    response = designer_client.post("/designer/upload", data={"file": (io.BytesIO(b"\xff\xfe\x00"), "x.bpmn")},
                                    content_type="multipart/form-data")
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)


def test_upload_of_a_genmymodel_export_opens_with_its_drawing(designer_client):
    """GenMyModel writes `bpmnElement="bpmn2:…"`; the modeler gets plain ids, so the drawing shows."""
    export = DATA / "miwg" / "GenMyModel 0.47" / "A.1.0-export.bpmn"
    response = designer_client.post("/designer/upload", data={"file": export.open("rb")},
                                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "bpmn2:_sSUQ" not in page and 'bpmnElement=\\"_sSUQVB8nEeW9keBtFZy97Q\\"' in page


def test_validate_and_deploy_accept_prefixed_drawing_references(designer_client):
    xml = genmymodel_with_roles().decode("utf-8")
    checked = designer_client.post("/api/designer/validate", json={"xml": xml, "filename": "genmymodel.bpmn"})
    assert checked.status_code == 200 and checked.get_json()["deployable"] is True
    deployed = designer_client.post("/api/designer/deploy", json={"xml": xml, "filename": "genmymodel.bpmn",
                                                                   "note": "从 GenMyModel 导入"})
    assert deployed.status_code == 201, deployed.get_json()
    stored = designer_client.get(f"/designer/versions/{deployed.get_json()['version_id']}/download").data
    assert b'bpmnElement="_sSUQVB8nEeW9keBtFZy97Q"' in stored and b"bpmn2:_sSUQ" not in stored


def test_download_returns_the_stored_file(designer_client):
    response = designer_client.get("/designer/versions/1/download")
    assert response.status_code == 200 and response.data == APPROVAL
    assert "attachment" in response.headers["Content-Disposition"]


def test_compare_lists_what_changed(designer_client):
    designer_client.post("/api/designer/deploy", json={
        "xml": with_new_review_field().decode(), "filename": "approval.bpmn", "note": "改表单"})
    page = designer_client.get("/designer/compare?a=1&b=2").get_data(as_text=True)
    assert "新增表单字段 phone" in page and "vendor/compare.js" in page


def test_try_it_runs_a_draft_without_touching_task_lists(designer_client, login_as):
    response = designer_client.post("/designer/try", data={"xml": with_new_review_field().decode(),
                                                           "filename": "approval.bpmn"})
    assert response.status_code == 302
    started = designer_client.post(response.headers["Location"], data={"title": "试一试"})
    assert started.status_code == 302
    page = designer_client.get(started.headers["Location"]).get_data(as_text=True)
    assert "代“社区负责人”办理" in page and "联系电话" in page
    action = re.search(r'action="(/designer/try/cases/[^"]+/tasks/\d+)"', page).group(1)
    done = designer_client.post(action, data={"decision": "同意"}, follow_redirects=True)
    assert "事项已办结" in done.get_data(as_text=True)
    leader_queue = login_as("leader").get("/tasks/queue").get_data(as_text=True)
    assert "试运行-" not in leader_queue


def test_migration_page_explains_why_not(designer_client, start_approval):
    number = start_approval().case_number
    page = designer_client.get(f"/designer/cases/{number}/migrate").get_data(as_text=True)
    assert "不能迁移" in page and "事项已在该版本上运行" in page
