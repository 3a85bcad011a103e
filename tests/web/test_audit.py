"""The auditors' pages: read-only, role 审计 or 管理员 only; search, trace, verification, bundle,
export and statistics, with bad filters named and nothing else done."""
from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

import pytest
from sqlalchemy import text

from engine.audit import verify
from tests.web.conftest import login


@pytest.fixture
def finished_case(minyi_db, start_approval, staff_actors):
    from engine.work import cases

    result = start_approval("路灯不亮")
    cases.complete_task(minyi_db, staff_actors["leader"], result.new_tasks[0].id, {"decision": "同意"})
    return result.case_number


@pytest.mark.parametrize("path", ["/audit/", "/audit/statistics", "/audit/verify", "/audit/export.csv",
                                  "/audit/cases/SP-1/bundle.json", "/audit/statistics/kind.csv"])
@pytest.mark.parametrize("who", ["clerk", "leader", "supervisor"])
def test_only_auditors_enter(client, who, path):
    login(client, who)
    assert client.get(path).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_search_finds_the_case_and_links_its_trace(client, finished_case):
    login(client, "auditor")
    page = client.get("/audit/?number=" + finished_case).get_data(as_text=True)
    assert f'/audit/cases/{finished_case}"' in page and "共 1 项" in page
    assert "共 0 项" in client.get("/audit/?rating=满意").get_data(as_text=True)


def test_a_bad_date_is_named_and_nothing_is_searched(client, finished_case):
    login(client, "auditor")
    response = client.get("/audit/?from=2026-02-30")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and "日期格式应为 YYYY-MM-DD" in page


def test_trace_page_shows_diagram_path_timeline_and_verified_chain(client, minyi_db, staff_actors):
    from engine.actor import SYSTEM
    from engine.bpmn import deployments
    from tests.conftest import PROCESSES
    from tests.minqing import Matter

    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    m = Matter(minyi_db, staff_actors)
    m.do("UserTask_classify", "leader", kind="即办件")
    login(client, "auditor")
    page = client.get(f"/audit/cases/{m.number}").get_data(as_text=True)
    assert "<svg" in page and 'class="bpmn-flow flow-done" data-flow="Flow_jiban"' in page
    assert 'data-element="UserTask_classify" data-state="done"' in page
    assert 'data-element="UserTask_handle_immediate" data-state="current"' in page
    assert "已验证" in page and "条件 <code>${kind == &#39;即办件&#39;}</code> 成立" in page
    assert "李主任(社区负责人)" in page  # who, by display name and role
    only = client.get(f"/audit/cases/{m.number}?step=UserTask_classify").get_data(as_text=True)
    assert only.count('class="event event-') == 2  # ready and completed, of that step only
    assert 'class="event event-case_started"' not in only


def test_a_diagram_without_layout_still_has_its_timeline(client, finished_case):
    login(client, "auditor")
    page = client.get(f"/audit/cases/{finished_case}").get_data(as_text=True)
    assert "没有图形布局" in page and "条件 <code>${decision == &#34;同意&#34;}</code> 成立" in page


def test_trace_shows_where_the_chain_breaks(client, minyi_db, finished_case):
    with minyi_db.write() as session:
        session.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 2"))
    login(client, "auditor")
    page = client.get(f"/audit/cases/{finished_case}").get_data(as_text=True)
    assert "记录链断开" in page and "第 2 条" in page
    assert "记录链断开" in client.get("/audit/verify").get_data(as_text=True)


def test_verify_page_says_verified(client, finished_case):
    login(client, "auditor")
    assert "已验证" in client.get("/audit/verify").get_data(as_text=True)


def test_bundle_download_verifies_offline(client, finished_case):
    login(client, "auditor")
    response = client.get(f"/audit/cases/{finished_case}/bundle.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert verify.verify_bundle(json.loads(response.get_data(as_text=True))).ok


def test_exports_and_statistics_tables_download(client, finished_case):
    login(client, "auditor")
    xes = client.get("/audit/export.xes")
    assert xes.status_code == 200 and b"<trace>" in xes.data
    assert finished_case in client.get("/audit/export.csv").get_data(as_text=True)
    assert client.get("/audit/export.pdf").status_code == 422
    kinds = client.get("/audit/statistics/status.csv").get_data(as_text=True)
    assert kinds.splitlines()[1] == "completed,1"
    assert client.get("/audit/statistics/nothing.csv").status_code == 422


def test_statistics_page_renders_charts_and_rates(client, finished_case):
    login(client, "auditor")
    page = client.get("/audit/statistics").get_data(as_text=True)
    assert 'class="bars"' in page and "按时办结率" in page and "共 1 个事项" in page
    assert "基本满意按 0.9 计" in page


def test_basic_satisfied_weight_is_a_setting(minyi_db, finished_case):
    from tests.web.conftest import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": minyi_db.url, "WTF_CSRF_ENABLED": False,
                      "BASIC_SATISFIED_WEIGHT": "0.8"})
    client = app.test_client()
    login(client, "auditor")
    assert "基本满意按 0.8 计" in client.get("/audit/statistics").get_data(as_text=True)
    app.extensions["minyi_db"].dispose()


def test_audit_pages_change_nothing(client, finished_case):
    login(client, "auditor")
    assert client.post(f"/audit/cases/{finished_case}").status_code == 405


def test_names_chosen_by_a_designer_never_become_spreadsheet_formulas(client, minyi_db, staff_actors):
    """A step named `=HYPERLINK(…)` and a lane `@SUM(1+1)` reach the CSVs as text (a leading apostrophe)."""
    from engine.actor import SYSTEM
    from engine.bpmn import deployments
    from engine.people import users
    from engine.work import cases
    from tests.conftest import DATA, PASSWORD

    step, lane = '=HYPERLINK("http://evil.example","点我")', "@SUM(1+1)"
    xml = (DATA / "approval.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('name="审核"', 'name="=HYPERLINK(&quot;http://evil.example&quot;,&quot;点我&quot;)"')
    xml = xml.replace('name="社区负责人"', f'name="{lane}"')
    deployments.deploy(minyi_db, xml.encode("utf-8"), "approval.bpmn", SYSTEM)
    worker = users.create_user(minyi_db, "formula", PASSWORD, "公式", [lane])
    started = cases.start_case(minyi_db, staff_actors["clerk"], "approval", {"title": "+cmd|' /C calc'!A0"})
    cases.complete_task(minyi_db, worker, started.new_tasks[0].id, {"decision": "同意"})
    login(client, "auditor")
    events = list(csv.reader(io.StringIO(client.get("/audit/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    completed = next(row for row in events if row[6] == "task_completed")
    assert completed[1] == "'" + step and completed[4] == "'" + lane
    roles = list(csv.reader(io.StringIO(client.get("/audit/statistics/role.csv").get_data(as_text=True))))
    assert ["'" + lane, "1"] in roles
    cells = [c for text in (client.get("/audit/export.csv").get_data(as_text=True),
                            client.get("/audit/statistics/role.csv").get_data(as_text=True))
             for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_the_bundle_of_a_trial_case_downloads_under_its_chinese_number(client, minyi_db, staff_actors):
    """试运行 cases are numbered 试运行-…: the download name goes into the header RFC 5987-encoded."""
    from engine.bpmn import deployments
    from engine.people import users
    from engine.work import cases
    from tests.conftest import PASSWORD

    designer = users.create_user(minyi_db, "designer", PASSWORD, "设计", ["流程设计人员"])
    with minyi_db.read() as session:
        version_id = deployments.latest_version_id(session, "approval")
    number = cases.start_case(minyi_db, designer, "approval", {"title": "试一下"},
                              sandbox_version=version_id).case_number
    assert number.startswith("试运行-")
    login(client, "auditor")
    response = client.get(f"/audit/cases/{number}/bundle.json")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(number)}-audit.json" in disposition
    assert verify.verify_bundle(json.loads(response.get_data(as_text=True))).ok
