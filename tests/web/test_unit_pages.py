"""Units on the pages (issue #18): the start form's 所属单位, the case page's 所属单位 and 转办 form, the
residents' 社区/网格 choice, and each 社区's own board and 办事指南."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.people import users
from engine.store.models import Case
from tests.minqing import INTAKE, PROCESS
from tests.units_tree import District, build
from tests.web.conftest import login

START = f"/cases/new/{PROCESS}"
FORM = {k: v for k, v in INTAKE.items()} | {"received_at": "2026-11-23"}


@pytest.fixture
def district(resident_app) -> District:
    return build(resident_app.extensions["minyi_db"])


@pytest.fixture
def as_user(resident_app, district):
    def _client(username: str):
        client = resident_app.test_client()
        login(client, username)
        return client
    return _client


def unit_of(resident_app, number: str) -> int:
    with resident_app.extensions["minyi_db"].read() as session:
        return session.scalar(select(Case.unit_id).where(Case.number == number))


def options(html: str, select_id: str) -> list[str]:
    block = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", block)


def started_number(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


# --- 受理: 所属单位 ------------------------------------------------------------------------------------

def test_the_start_form_offers_the_units_the_clerk_sees_their_own_first_chosen(as_user):
    html = as_user("gm_clerk").get(START).get_data(as_text=True)
    assert options(html, "f-unit_id") == ["光明社区", "光明社区 › 第一网格"]
    assert re.search(r'<option value="\d+" selected>光明社区</option>', html)


def test_a_clerk_of_a_single_unit_reads_it_and_chooses_nothing(as_user):
    html = as_user("clerk").get(START).get_data(as_text=True)
    assert 'id="f-unit_id"' not in html and "所属单位:本社区" in html


def test_the_case_is_registered_in_the_chosen_unit_and_its_page_says_so(as_user, district, resident_app):
    clerk = as_user("gm_clerk")
    number = started_number(clerk.post(START, data={**FORM, "unit_id": str(district.guangming_grid)}))
    assert unit_of(resident_app, number) == district.guangming_grid
    html = clerk.get(f"/cases/{number}").get_data(as_text=True)
    assert "<dt>所属单位</dt><dd>第一网格</dd>" in html


@pytest.mark.parametrize(("unit", "message"), [("xingfu", "您不能在所选单位登记事项"),
                                               ("department", "“区住建局”是职能部门,不受理事项"),
                                               ("abc", "请从列表中选择单位")])
def test_a_unit_the_clerk_may_not_register_in_is_refused_on_the_form(as_user, district, unit, message):
    value = getattr(district, unit, unit)
    response = as_user("gm_clerk").post(START, data={**FORM, "unit_id": str(value)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert 'aria-describedby="err-unit_id"' in html and "所属单位:" in html  # the summary names the field


def test_the_api_registers_a_case_in_the_unit_asked_for(as_user, district, resident_app):
    token = users.create_token(resident_app.extensions["minyi_db"], "gm_clerk")
    client = resident_app.test_client()
    started = client.post("/api/cases", json={"process_id": PROCESS, "values": FORM,
                                              "unit_id": district.guangming_grid},
                          headers={"Authorization": f"Bearer {token}"})
    assert started.status_code == 201
    assert unit_of(resident_app, started.json["case_number"]) == district.guangming_grid
    refused = client.post("/api/cases", json={"process_id": PROCESS, "values": FORM, "unit_id": district.xingfu},
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and refused.json["fields"] == {"unit_id": "您不能在所选单位登记事项"}


# --- 转办 on the case page ---------------------------------------------------------------------------

@pytest.fixture
def registered(as_user, district) -> str:
    return started_number(as_user("gm_clerk").post(START, data={**FORM, "unit_id": str(district.guangming)}))


def test_the_leader_finds_a_transfer_form_with_the_units_they_may_move_to(as_user, registered):
    html = as_user("gm_leader").get(f"/cases/{registered}").get_data(as_text=True)
    assert options(html, "transfer-unit") == ["第一网格"]
    assert 'name="csrf_token"' in html.split('id="transfer"')[1].split("</form>")[0]


def test_a_clerk_finds_no_transfer_form(as_user, registered):
    html = as_user("gm_clerk").get(f"/cases/{registered}").get_data(as_text=True)
    assert 'id="transfer"' not in html
    assert as_user("gm_clerk").post(f"/cases/{registered}/transfer",
                                    data={"unit_id": "5", "reason": "试试"}).status_code == 403


def test_moving_a_case_says_where_it_went_and_the_history_shows_why(as_user, district, registered, resident_app):
    leader = as_user("gm_leader")
    response = leader.post(f"/cases/{registered}/transfer",
                           data={"unit_id": str(district.guangming_grid), "reason": "属第一网格"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "已从光明社区转办到第一网格" in html
    assert "从光明社区转办到第一网格:属第一网格" in html and "<dd>第一网格</dd>" in html
    assert unit_of(resident_app, registered) == district.guangming_grid


def test_a_mover_who_no_longer_sees_the_case_goes_back_to_their_tasks(as_user, district, registered):
    response = as_user("street_office").post(f"/cases/{registered}/transfer",
                                             data={"unit_id": str(district.xingfu), "reason": "实属幸福社区"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/tasks")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"unit_id": "", "reason": "属第一网格"}, "unit_id", "请选择转办到的单位"),
    ({"unit_id": "{grid}", "reason": ""}, "reason", "请填写转办原因"),
])
def test_a_transfer_without_a_unit_or_a_reason_is_refused_with_the_field_named(as_user, district, registered,
                                                                               data, field, message):
    data = {k: v.format(grid=district.guangming_grid) for k, v in data.items()}
    response = as_user("gm_leader").post(f"/cases/{registered}/transfer", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="err-{field}">{message}</p>' in html
    assert data["reason"] in html  # what was typed is kept


# --- residents: 社区 and 网格 ---------------------------------------------------------------------------

MATTER = {"topic": "水电气暖", "title": "5号楼停水", "description": "5号楼从昨天起停水。"}


def test_the_submit_page_asks_for_the_community_and_offers_its_grids(resident, district):
    html = resident.get("/public/submit").get_data(as_text=True)
    assert "所在社区" in html and '<select id="f-community_id" name="community_id" required' in html
    grid = re.search(r'<select id="f-grid_id".*?</select>', html, re.S).group(0)
    assert 'data-depends-on="f-community_id"' in grid
    assert re.search(rf'data-when="\[&#34;{district.guangming}&#34;\]">第一网格', grid)
    assert "dependent-options.js" in html


def test_submitting_without_a_community_names_the_field(resident, district):
    response = resident.post("/public/submit", data=MATTER)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请选择所在社区" in html and 'href="#f-community_id"' in html


def test_submitting_with_a_community_and_grid_gives_the_receipt(resident, district, resident_app):
    response = resident.post("/public/submit", data={**MATTER, "community_id": str(district.xingfu),
                                                     "grid_id": str(district.xingfu_grid)})
    assert response.status_code == 200
    number = re.search(r"MQ-\d{8}-\d{6}", response.get_data(as_text=True)).group(0)
    assert unit_of(resident_app, number) == district.xingfu_grid


# --- each 社区's board and 办事指南 ----------------------------------------------------------------------

def test_the_chooser_leads_to_the_communitys_own_address(resident, district):
    response = resident.get(f"/public/board?unit={district.guangming}&kind=集中式公示")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/public/board/u/{district.guangming}")
    html = resident.get(f"/public/board/u/{district.guangming}").get_data(as_text=True)
    assert "<h1>光明社区公示栏</h1>" in html and "东岗街道 › 光明社区" in html
    assert re.search(rf'<option value="{district.guangming}" selected>', html)


def test_the_streets_board_says_it_shows_its_communities(resident, district):
    html = resident.get(f"/public/board/u/{district.street}").get_data(as_text=True)
    assert "<h1>东岗街道公示栏</h1>" in html and "辖区内各社区" in html


@pytest.mark.parametrize("path", ["/public/board/u/{department}", "/public/board/u/9999",
                                  "/public/procedures/u/{department}"])
def test_a_unit_without_public_pages_is_not_found(resident, district, path):
    response = resident.get(path.format(department=district.department))
    assert response.status_code == 404 and "没有这个社区的公开页面" in response.get_data(as_text=True)


def test_a_chooser_value_that_is_not_a_unit_is_a_clear_error(resident, district):
    response = resident.get("/public/board?unit=光明")
    assert response.status_code == 422 and "社区不是有效的单位" in response.get_data(as_text=True)


def test_a_communitys_procedures_name_the_unit_of_each_post(resident, district):
    response = resident.get(f"/public/procedures?unit={district.guangming}")
    assert response.headers["Location"] == f"/public/procedures/u/{district.guangming}"
    html = resident.get(f"/public/procedures/u/{district.guangming}").get_data(as_text=True)
    assert "<h1>光明社区办事指南</h1>" in html and "社区负责人(光明社区)" in html and "上级部门(东岗街道)" in html


def test_the_whole_board_and_procedures_keep_working(resident, district):
    assert resident.get("/public/board").status_code == 200
    html = resident.get("/public/procedures").get_data(as_text=True)
    assert "社区负责人(" not in html and 'id="place-unit"' in html


def test_the_auditors_trace_words_the_move_and_where_each_open_step_went(as_user, district, registered):
    as_user("street_office").post(f"/cases/{registered}/transfer",
                                  data={"unit_id": str(district.xingfu), "reason": "实属幸福社区"})
    html = as_user("street_auditor").get(f"/audit/cases/{registered}").get_data(as_text=True)
    assert "从光明社区转办到幸福社区:实属幸福社区" in html
    assert "分类交办改由幸福社区的社区负责人办理" in html
    assert "原版本" not in html and "上报至" not in html


@pytest.mark.parametrize("path", ["/public/board/u/99999999999", "/public/procedures/u/99999999999"])
def test_a_unit_number_beyond_any_id_is_not_found_rather_than_a_database_error(resident, district, path):
    assert resident.get(path).status_code == 404


def test_a_number_beyond_any_id_on_a_form_names_the_field(as_user, district):
    response = as_user("gm_clerk").post(START, data={**FORM, "unit_id": "99999999999"})
    assert response.status_code == 422 and 'id="err-unit_id"' in response.get_data(as_text=True)


def test_the_task_page_says_which_unit_the_case_belongs_to(as_user, district, registered, resident_app):
    from engine.work import tasklist

    leader = district.people["gm_leader"]
    [row] = tasklist.tasks(resident_app.extensions["minyi_db"], leader, "queue").items
    html = as_user("gm_leader").get(f"/tasks/{row.id}").get_data(as_text=True)
    assert "<dt>所属单位</dt><dd>光明社区</dd>" in html and 'id="transfer"' not in html
