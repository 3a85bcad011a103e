"""用户管理 and 我的账户 on the web: only a 管理员 reaches the account pages; a bad form comes back
with each field's message and nothing saved; everyone edits their own name, e-mail and password."""
from __future__ import annotations

import pytest

from engine.people import users
from tests.conftest import PASSWORD
from tests.web.conftest import _csrf_token, build_app, login


@pytest.fixture
def admin(minyi_db):
    return users.create_user(minyi_db, "admin", PASSWORD, "管理员甲", ["管理员"])


def accounts_named(minyi_db) -> dict:
    return {a.username: a for a in users.list_users(minyi_db)}


ADMIN_VIEWS = [
    ("GET", "/admin/users", {}),
    ("GET", "/admin/users/new", {}),
    ("POST", "/admin/users/new", {"username": "x1", "password": "long-enough", "roles": "管理员"}),
    ("GET", "/admin/users/{clerk}", {}),
    ("POST", "/admin/users/{clerk}", {"display_name": "王", "roles": "管理员", "active": "1"}),
    ("POST", "/admin/users/{clerk}/password", {"password": "taken-over-pw"}),
]


@pytest.mark.parametrize("username", ["clerk", "leader", "auditor"])
@pytest.mark.parametrize(("method", "path", "data"), ADMIN_VIEWS)
def test_only_an_administrator_reaches_the_account_pages(client, minyi_db, username, method, path, data):
    clerk = accounts_named(minyi_db)["clerk"]
    login(client, username)
    path = path.format(clerk=clerk.id)
    response = client.get(path) if method == "GET" else client.post(path, data=data)
    assert response.status_code == 403
    assert "只有管理员可以管理用户" in response.get_data(as_text=True)
    assert users.authenticate(minyi_db, "clerk", PASSWORD).roles == frozenset({"受理员"})
    assert "x1" not in accounts_named(minyi_db)
    assert "用户管理" not in client.get("/account").get_data(as_text=True)


def test_an_administrator_creates_an_account_through_the_form(client, minyi_db, admin):
    login(client, "admin")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "用户管理" in listing and "王受理" in listing
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="受理员"' in form and 'value="审计"' in form  # the diagram's lanes and the app's roles
    assert '<optgroup label="系统角色">' in form and '<optgroup label="简单审批">' in form   # grouped by procedure
    assert '<option value="1">本社区(社区)</option>' in form  # each role row picks its unit
    response = client.post("/admin/users/new", data={
        "username": "wangge1", "display_name": "网格员一", "email": "wg1@example.org", "password": "first-password",
        "grant_role": ["受理员", "社区负责人", ""], "grant_unit": ["1", "1", "1"], "other_roles": "网格员",
        "other_unit": "1"})
    assert response.status_code == 302
    assert "已创建用户 wangge1" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert users.authenticate(minyi_db, "wangge1", "first-password").roles == frozenset({"受理员", "社区负责人",
                                                                                         "网格员"})


def test_a_bad_account_form_comes_back_with_each_fields_message(client, minyi_db, admin):
    login(client, "admin")
    response = client.post("/admin/users/new", data={"username": "王五", "email": "wang@", "password": "short",
                                                     "display_name": "王五", "grant_role": ["受理员"],
                                                     "grant_unit": ["1"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请检查标出的字段" in html and "用户名只能包含字母、数字、下划线和点" in html
    assert "电子邮箱地址不正确" in html and "密码至少 8 位" in html
    assert 'value="王五"' in html and '<option value="受理员" selected>' in html  # what was typed stays
    assert "short" not in html  # a password is never sent back
    assert "王五" not in accounts_named(minyi_db)


def test_deactivating_an_account_ends_its_session(app, minyi_db, admin):
    clerk = app.test_client()
    login(clerk, "clerk")
    assert clerk.get("/tasks/inbox").status_code == 200
    boss = app.test_client()
    login(boss, "admin")
    clerk_id = accounts_named(minyi_db)["clerk"].id
    response = boss.post(f"/admin/users/{clerk_id}", data={"display_name": "王受理", "roles": ["受理员"]})
    assert response.status_code == 302
    assert "已停用" in boss.get("/admin/users").get_data(as_text=True)
    assert clerk.get("/tasks/inbox").status_code == 302  # back to the login page


def test_an_administrator_cannot_deactivate_themself_on_the_page(client, minyi_db, admin):
    login(client, "admin")
    response = client.post(f"/admin/users/{admin.id}", data={"display_name": "管理员甲", "roles": ["管理员"]})
    assert response.status_code == 422
    assert "不能停用自己的账户" in response.get_data(as_text=True)
    assert users.get_actor(minyi_db, admin.id) is not None


def test_a_password_reset_on_the_page(client, minyi_db, admin):
    login(client, "admin")
    clerk_id = accounts_named(minyi_db)["clerk"].id
    short = client.post(f"/admin/users/{clerk_id}/password", data={"password": "short"})
    assert short.status_code == 422 and "密码至少 8 位" in short.get_data(as_text=True)
    assert client.post(f"/admin/users/{clerk_id}/password", data={"password": "reset-password"}).status_code == 302
    assert users.authenticate(minyi_db, "clerk", "reset-password").username == "clerk"


def test_everyone_edits_their_own_account(client, minyi_db):
    login(client, "clerk")
    page = client.get("/account").get_data(as_text=True)
    assert "我的账户" in page and "受理员" in page and "角色由管理员分配" in page
    bad = client.post("/account", data={"display_name": "王受理", "email": "not an address"})
    assert bad.status_code == 422 and "电子邮箱地址不正确" in bad.get_data(as_text=True)
    assert client.post("/account", data={"display_name": "王小受", "email": "clerk@example.org"}).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert 'value="clerk@example.org"' in page and "王小受" in page  # the header shows the new name too
    wrong = client.post("/account/password", data={"current_password": "nope", "new_password": "new-password-1",
                                                   "new_password_again": "new-password-1"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    assert client.post("/account/password", data={"current_password": PASSWORD, "new_password": "new-password-1",
                                                   "new_password_again": "new-password-1"}).status_code == 302
    assert users.authenticate(minyi_db, "clerk", "new-password-1").username == "clerk"


def test_account_forms_need_the_csrf_token(sqlite_db):
    app = build_app(sqlite_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login(client, "clerk")
    refused = client.post("/account", data={"display_name": "改名", "email": ""})
    assert refused.status_code == 400
    assert accounts_named(app.extensions["minyi_db"])["clerk"].display_name == "王受理"
    token = _csrf_token(client.get("/account").get_data(as_text=True))
    assert client.post("/account", data={"display_name": "改名", "email": "", "csrf_token": token}).status_code == 302
    app.extensions["minyi_db"].dispose()


def test_auditors_read_the_account_changes(client, minyi_db, admin):
    login(client, "admin")
    clerk_id = accounts_named(minyi_db)["clerk"].id
    client.post(f"/admin/users/{clerk_id}", data={"display_name": "王受理", "grant_role": ["受理员", "审计"],
                                                  "grant_unit": ["1", "1"], "active": "1"})
    client.post("/logout")
    login(client, "auditor")
    page = client.get("/audit/accounts?username=clerk")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "账户变更" in html
    assert "修改账户" in html and "受理员(本社区) → 受理员(本社区)、审计(本社区)" in html and "admin" in html
    client.post("/logout")
    login(client, "leader")
    assert client.get("/audit/accounts").status_code == 403



def test_a_reset_password_shows_in_the_persons_notifications(client, minyi_db, admin):
    login(client, "admin")
    clerk_id = accounts_named(minyi_db)["clerk"].id
    client.post(f"/admin/users/{clerk_id}/password", data={"password": "reset-password"})
    client.post("/logout")
    login(client, "clerk", "reset-password")
    client.post("/account/password", data={"current_password": "reset-password", "new_password": "clerks-own-pw",
                                           "new_password_again": "clerks-own-pw"})
    page = client.get("/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "账户" in html and "管理员甲重设了您的密码" in html


def test_the_account_form_edits_roles_held_in_units(client, minyi_db, admin):
    """Each (角色, 单位) row is one role held in one unit; a 管理员 of one community sees the roles held
    elsewhere listed, not editable, and kept when the form is saved."""
    from engine.people import accounts, unitadmin

    for name in ("光明社区", "红星社区"):
        unitadmin.add_unit(minyi_db, admin, {"name": name, "level": "社区", "parent_id": "1"})
    users.create_user(minyi_db, "gmadmin", PASSWORD, "光明管理员", ["管理员"], unit_id=2)
    liu = users.create_user(minyi_db, "liu", PASSWORD, "刘主任", [], grants=[("社区负责人", 2), ("受理员", 3)])
    login(client, "gmadmin")
    form = client.get(f"/admin/users/{liu.id}").get_data(as_text=True)
    assert '<option value="社区负责人" selected>' in form and '<option value="2" selected>' in form
    assert 'value="3"' not in form  # 红星社区 is not theirs to give roles in
    assert "您不能更改,保存时保持不变):受理员(红星社区)" in form
    saved = client.post(f"/admin/users/{liu.id}", data={"display_name": "刘主任", "active": "1",
                                                        "grant_role": ["承办人", ""], "grant_unit": ["2", "2"]})
    assert saved.status_code == 302
    assert accounts.get_account(minyi_db, admin, liu.id).roles == ("受理员(红星社区)", "承办人(光明社区)")
    assert "承办人(光明社区)" in client.get("/admin/users").get_data(as_text=True)
    refused = client.post(f"/admin/users/{liu.id}", data={"display_name": "刘主任", "active": "1",
                                                          "grant_role": ["承办人"], "grant_unit": ["3"]})
    assert refused.status_code == 422 and "承办人:只能在您所辖范围内的单位授予角色" in refused.get_data(as_text=True)
