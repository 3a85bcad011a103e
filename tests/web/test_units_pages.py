"""单位管理 on the web (管理员 only): the tree with levels, add, rename, move, 撤销/恢复 and import; a refused
change comes back next to its form with nothing changed; auditors read 审计 › 单位变更 with names."""
from __future__ import annotations

import io

import pytest

from engine.people import users
from tests.conftest import PASSWORD
from tests.web.conftest import _csrf_token, build_app, login

DISTRICT = ("name,level,parent,beside\n龙山街道,街道,本社区,\n光明社区,社区,本社区/龙山街道,\n"
            "民政科,职能部门,本社区/龙山街道,是\n")


@pytest.fixture
def admin(minyi_db):
    return users.create_user(minyi_db, "admin", PASSWORD, "管理员甲", ["管理员"])


def upload(client, text: str, name: str = "district.csv"):
    return client.post("/admin/units/import", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("username", ["clerk", "leader", "auditor"])
@pytest.mark.parametrize(("method", "path", "data"), [
    ("GET", "/admin/units", {}),
    ("POST", "/admin/units/new", {"name": "新社区", "level": "社区", "parent_id": "1"}),
    ("POST", "/admin/units/1/rename", {"name": "改名", "level": "区"}),
    ("POST", "/admin/units/1/close", {}),
])
def test_only_an_administrator_reaches_the_units_pages(client, minyi_db, admin, username, method, path, data):
    login(client, username)
    response = client.get(path) if method == "GET" else client.post(path, data=data)
    assert response.status_code == 403 and "只有管理员可以管理单位" in response.get_data(as_text=True)
    assert "单位管理" not in client.get("/account").get_data(as_text=True)
    login(client, "admin")
    assert "新社区" not in client.get("/admin/units").get_data(as_text=True)


def test_an_administrator_builds_and_changes_the_tree_on_the_page(client, minyi_db, admin):
    login(client, "admin")
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/admin/units"' in page and ">单位管理</a>" in page  # beside 用户管理 in the navigation
    imported = upload(client, DISTRICT)
    assert imported.status_code == 302
    assert "已导入 3 个单位" in client.get(imported.headers["Location"]).get_data(as_text=True)
    made = client.post("/admin/units/new", data={"name": "红星社区", "level": "社区", "parent_id": "2"})
    assert made.status_code == 302 and made.headers["Location"].endswith("#unit-5")
    assert client.post("/admin/units/1/rename", data={"name": "龙山区", "level": "区"}).status_code == 302
    assert client.post("/admin/units/5/move", data={"parent_id": "1"}).status_code == 302
    assert client.post("/admin/units/4/close").status_code == 302
    html = client.get("/admin/units").get_data(as_text=True)
    assert "已撤销" in html and "恢复“民政科”" in html and "旁设" in html
    assert html.index("龙山区") < html.index("龙山街道") < html.index("光明社区")
    assert client.post("/admin/units/4/reopen").status_code == 302
    assert "恢复“民政科”" not in client.get("/admin/units").get_data(as_text=True)


def test_a_refused_change_comes_back_next_to_its_form(client, minyi_db, admin):
    login(client, "admin")
    upload(client, DISTRICT)
    moved = client.post("/admin/units/2/move", data={"parent_id": "3"})
    html = moved.get_data(as_text=True)
    assert moved.status_code == 422 and "不能移到自己或下级之下" in html
    assert '<details class="unit-actions" open>' in html and 'id="u2-parent_id-error"' in html
    clash = client.post("/admin/units/new", data={"name": "龙山街道", "level": "街道", "parent_id": "1"})
    assert clash.status_code == 422 and "同一上级下已有名为“龙山街道”的单位" in clash.get_data(as_text=True)
    closing = client.post("/admin/units/2/close")
    assert closing.status_code == 422
    assert "“龙山街道”下还有未撤销的单位:光明社区、民政科" in closing.get_data(as_text=True)
    bad = upload(client, "name,level,parent\n东城街道,街道,本社区\n南城,,本社区\n西城街道,街道,无此区\n")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "导入失败,没有导入任何单位" in html
    assert "<li>第 3 行 层级:不能为空</li>" in html
    assert "东城街道" not in client.get("/admin/units").get_data(as_text=True)
    assert upload(client, "x", "units.xlsx").status_code == 422


def test_auditors_read_the_unit_changes_with_names(client, minyi_db, admin):
    login(client, "admin")
    upload(client, DISTRICT)
    client.post("/admin/units/3/rename", data={"name": "光明新社区", "level": "社区"})
    client.post("/logout")
    login(client, "auditor")
    html = client.get("/audit/units").get_data(as_text=True)
    assert "单位变更" in html and "改名" in html and "光明社区 → 光明新社区" in html
    assert "新建单位" in html and "民政科(职能部门,旁设);上级 龙山街道" in html
    assert html.index("改名") < html.index("新建单位")  # newest first
    login(client, "leader")
    assert client.get("/audit/units").status_code == 403


def test_units_forms_need_the_csrf_token(sqlite_db):
    app = build_app(sqlite_db, WTF_CSRF_ENABLED=True)
    users.create_user(app.extensions["minyi_db"], "admin", PASSWORD, "管理员甲", ["管理员"])
    client = app.test_client()
    login(client, "admin")
    new = {"name": "新社区", "level": "社区", "parent_id": "1"}
    assert client.post("/admin/units/new", data=new).status_code == 400
    token = _csrf_token(client.get("/admin/units").get_data(as_text=True))
    assert client.post("/admin/units/new", data={"name": "新社区", "level": "社区", "parent_id": "1",
                                                 "csrf_token": token}).status_code == 302
    app.extensions["minyi_db"].dispose()
