"""Signing in: every page but the login page needs a session; the session is short-lived and HttpOnly."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.web.conftest import login


@pytest.mark.parametrize("path", ["/tasks/inbox", "/tasks/queue", "/tasks/archive", "/tasks/1",
                                  "/cases/new", "/cases/new/approval", "/cases/SP-1"])
def test_anonymous_visitor_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/tasks/1/complete", "/tasks/1/claim", "/cases/new/approval", "/cases/SP-1/comments"])
def test_anonymous_post_is_sent_to_login(client, path):
    response = client.post(path, data={"x": "1"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_login_page_is_chinese_and_labelled(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert '<label for="username">用户名' in html and '<label for="password">密码' in html


def test_wrong_password_shows_one_message_and_no_session(client):
    response = client.post("/login", data={"username": "clerk", "password": "wrong-password"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/tasks/inbox").status_code == 302


def test_a_deactivated_account_with_the_right_password_is_told_to_contact_the_administrator(client, minyi_db):
    from sqlalchemy import update

    from engine.store.models import User

    with minyi_db.write() as session:
        session.execute(update(User).where(User.username == "clerk").values(active=False))
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 401
    assert "账户已停用" in response.get_data(as_text=True) and "联系管理员" in response.get_data(as_text=True)
    assert client.get("/tasks/inbox").status_code == 302
    wrong = client.post("/login", data={"username": "clerk", "password": "wrong-password"})
    assert "用户名或密码错误" in wrong.get_data(as_text=True) and "停用" not in wrong.get_data(as_text=True)


def test_login_then_logout(client):
    login(client, "clerk")
    page = client.get("/tasks/inbox")
    assert page.status_code == 200 and "王受理" in page.get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/tasks/inbox").status_code == 302


def test_login_follows_only_local_next(client):
    from tests.conftest import PASSWORD

    response = client.post("/login?next=https://evil.example/", data={"username": "clerk", "password": PASSWORD})
    assert response.headers["Location"] == "/tasks/inbox"
    client.post("/logout")
    response = client.post("/login?next=/cases/new", data={"username": "clerk", "password": PASSWORD})
    assert response.headers["Location"] == "/cases/new"


def test_session_cookie_is_httponly_lax_and_lasts_eight_hours(client, app):
    from tests.conftest import PASSWORD

    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_home_is_the_inbox(client):
    login(client, "clerk")
    assert client.get("/").headers["Location"] == "/tasks/inbox"


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_secret_key_is_kept_in_the_instance_folder(tmp_path, monkeypatch, sqlite_db):
    from web import create_app

    monkeypatch.delenv("MINYI_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    first = create_app({"DATABASE_URL": sqlite_db.url})
    second = create_app({"DATABASE_URL": sqlite_db.url})
    assert first.secret_key == second.secret_key and len(first.secret_key) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    for app in (first, second):
        app.extensions["minyi_db"].dispose()


def test_settings_come_from_the_environment(monkeypatch, sqlite_db):
    from web import create_app

    monkeypatch.setenv("MINYI_SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    app = create_app()
    assert app.secret_key == "from-env" and app.config["DATABASE_URL"] == sqlite_db.url
    app.extensions["minyi_db"].dispose()


def test_repeated_wrong_passwords_are_slowed_down_per_address(app, client):
    app.config["STAFF_RATE_LIMITS"] = {"login": "3 per minute"}
    for _ in range(5):  # signing in with the right password never counts
        login(client, "clerk")
        client.post("/logout")
    for _ in range(3):
        assert client.post("/login", data={"username": "leader", "password": "guess"}).status_code == 401
    held = client.post("/login", data={"username": "leader", "password": PASSWORD})
    assert held.status_code == 429 and "尝试次数过多" in held.get_data(as_text=True)
    assert client.get("/tasks/inbox").status_code == 302  # not signed in
    other = app.test_client()
    assert other.post("/login", data={"username": "leader", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302  # another address is not held


def test_guessing_the_current_password_is_slowed_down(app, client):
    app.config["STAFF_RATE_LIMITS"] = {"password": "2 per minute"}
    login(client, "clerk")
    for _ in range(2):
        wrong = client.post("/account/password", data={"current_password": "guess", "new_password": "new-password-1",
                                                       "new_password_again": "new-password-1"})
        assert wrong.status_code == 422
    held = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "new-password-1",
                                                  "new_password_again": "new-password-1"})
    assert held.status_code == 429


def test_a_new_password_ends_every_other_session(app):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "clerk")
    login(elsewhere, "clerk")
    changed = here.post("/account/password", data={"current_password": PASSWORD, "new_password": "new-password-1",
                                                   "new_password_again": "new-password-1"})
    assert changed.status_code == 302
    assert "其他设备上登录的会话已退出" in here.get("/account").get_data(as_text=True)
    assert here.get("/tasks/inbox").status_code == 200  # the session that changed it goes on
    assert elsewhere.get("/tasks/inbox").status_code == 302  # the other one is back at the login page


def test_a_password_an_administrator_set_must_be_replaced_before_anything_else(app, minyi_db):
    from engine.people import accounts, users

    admin = users.create_user(minyi_db, "admin", PASSWORD, "管理员甲", ["管理员"])
    signed_in = app.test_client()
    login(signed_in, "clerk")
    clerk = {a.username: a for a in users.list_users(minyi_db)}["clerk"]
    accounts.reset_password(minyi_db, admin, clerk.id, "given-by-admin")
    assert signed_in.get("/tasks/inbox").status_code == 302  # the reset ended the clerk's session
    client = app.test_client()
    login(client, "clerk", "given-by-admin")
    for path in ("/tasks/inbox", "/cases/new", "/notifications"):
        held = client.get(path)
        assert held.status_code == 302 and held.headers["Location"] == "/account#password"
    page = client.get("/account").get_data(as_text=True)
    assert "您的密码是管理员设置的" in page
    client.post("/account/password", data={"current_password": "given-by-admin", "new_password": "clerks-own-pw",
                                           "new_password_again": "clerks-own-pw"})
    assert client.get("/tasks/inbox").status_code == 200
