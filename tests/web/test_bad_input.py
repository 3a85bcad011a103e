"""Bad input is refused the same way on every route, before any view or database sees it (web/inputs.py).

The matrices walk the app's own URL map, so a route added later is covered without touching this file.
They run with CSRF protection on, as in production: the checks come before the CSRF check reads the form.
"""
from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from werkzeug.routing import Rule

from engine.people import users
from engine.work import cases
from tests.conftest import PASSWORD
from tests.web.conftest import login
from web import create_app
from web.inputs import BODY_LIMITS, MAX_ID, MB, IdConverter

TOO_BIG_IDS = (str(MAX_ID + 1), str(2**63), "9" * 40)
BAD_TEXT = {"NUL": "%00", "invalid UTF-8": "%FF%FE"}
_ARG = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory) -> Flask:
    """The app as deployed (CSRF on); nothing here reaches the database."""
    path = tmp_path_factory.mktemp("bare") / "minyi.db"
    return create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{path}",
                       "RATELIMIT_ENABLED": False})


def _rules() -> list[Rule]:
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": "sqlite://"})
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


RULES = _rules()


def url(rule: Rule, number: str = "1", text: str = "x") -> str:
    """The rule's path with every id replaced by `number` and every other argument by `text`."""
    def value(match: re.Match) -> str:
        converter = match.group(1)
        if converter == "int":
            return number
        return "inbox" if converter == "any" else text
    return _ARG.sub(value, rule.rule)


def methods(rule: Rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def with_args(kind: type | None) -> list[Rule]:
    return [r for r in RULES if any(isinstance(c, kind) for c in r._converters.values())] if kind else RULES


def text_rules() -> list[Rule]:
    return [r for r in RULES if any(not isinstance(c, IdConverter) and type(c).__name__ != "AnyConverter"
                                    for c in r._converters.values())]


def assert_refused(response, status: int, words: str) -> None:
    """The status, and a Chinese message naming what is wrong: JSON under /api/, a page elsewhere."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:300]
    assert "Traceback" not in body
    if response.request.path.startswith("/api"):
        assert response.is_json and response.json["status"] == status
        assert words in response.json["message"], response.json["message"]
    else:
        assert words in body, body[:300]


# --- ids --------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", with_args(IdConverter), ids=str)
def test_an_id_beyond_the_id_columns_matches_no_route(bare_app, rule):
    """Ids are 32-bit columns: 2^31, 2^63 and 40 nines are a 404 on every route that takes an id.

    (Where the same path has a rule for another method, Werkzeug answers 405 before it converts the id.)"""
    client = bare_app.test_client()
    others = any(r.rule == rule.rule and r.methods != rule.methods for r in RULES)
    for number in TOO_BIG_IDS:
        for method in methods(rule):
            response = client.open(url(rule, number=number), method=method)
            if others and response.status_code == 405:
                assert_refused(response, 405, "不支持这种请求方式")
            else:
                assert_refused(response, 404, "不存在")


def test_the_largest_id_still_reaches_the_view(client):
    login(client, "leader")
    assert_refused(client.get(f"/tasks/{MAX_ID}"), 404, f"任务 {MAX_ID} 不存在")


# --- NUL and invalid UTF-8 ----------------------------------------------------------------------

@pytest.mark.parametrize("rule", text_rules(), ids=str)
@pytest.mark.parametrize("bad", BAD_TEXT)
def test_nul_or_invalid_utf8_in_the_path_is_a_400(bare_app, rule, bad):
    client = bare_app.test_client()
    for method in methods(rule):
        assert_refused(client.open(url(rule, text=f"MQ{BAD_TEXT[bad]}x"), method=method), 400, "地址含有")


@pytest.mark.parametrize("rule", RULES, ids=str)
@pytest.mark.parametrize("bad", BAD_TEXT)
def test_nul_or_invalid_utf8_in_the_query_string_is_a_400(bare_app, rule, bad):
    client = bare_app.test_client()
    for method in methods(rule):
        response = client.open(url(rule) + f"?q=a{BAD_TEXT[bad]}b", method=method)
        assert_refused(response, 400, "查询参数 q 含有")


def test_chinese_in_the_path_and_query_string_is_text_as_ever(client):
    """UTF-8 sent percent-encoded, as browsers do, passes the check and reaches the view."""
    login(client, "clerk")
    assert client.get("/tasks/inbox?q=%E8%B7%AF%E7%81%AF").status_code == 200
    assert_refused(client.get("/cases/new/%E5%AE%A1%E6%89%B9"), 404, "审批")


POSTS = [r for r in RULES if "POST" in r.methods]
FORMS = {
    "urlencoded NUL": ("application/x-www-form-urlencoded", b"note=a%00b", "空字符"),
    "urlencoded invalid UTF-8": ("application/x-www-form-urlencoded", b"note=%FF%FE", "不是 UTF-8"),
    "urlencoded raw bytes": ("application/x-www-form-urlencoded", b"note=\xff\xfe", "不是 UTF-8"),
    "multipart NUL": ("multipart/form-data; boundary=b",
                      b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\na\x00b\r\n--b--\r\n', "空字符"),
    "multipart invalid UTF-8": ("multipart/form-data; boundary=b",
                                b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n\xff\xfe\r\n--b--\r\n',
                                "不是 UTF-8"),
}


@pytest.mark.parametrize("rule", POSTS, ids=str)
@pytest.mark.parametrize("form", FORMS)
def test_nul_or_invalid_utf8_in_a_form_is_a_400(bare_app, rule, form):
    """Before the CSRF check and the sign-in: the form itself is unreadable, whoever sends it."""
    content_type, body, words = FORMS[form]
    response = bare_app.test_client().post(url(rule), data=body, content_type=content_type)
    assert_refused(response, 400, words)
    assert "note" in response.get_data(as_text=True)  # the message names the field


JSONS = {
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "嵌套层数过多"),
    "NUL in a value": (b'{"values": {"title": "a\\u0000b"}}', "values.title 含有空字符"),
    "NUL in a key": (b'{"a\\u0000": 1}', "键名"),
    "invalid UTF-8": (b'{"title": "\xff\xfe"}', "UTF-8"),
    "a lone surrogate": (b'{"title": "\\ud800"}', "Unicode"),
    "not JSON at all": (b"{title:", "第 1 行第 2 列"),
}


@pytest.mark.parametrize("rule", POSTS, ids=str)
@pytest.mark.parametrize("doc", JSONS)
def test_bad_json_is_a_400_naming_the_problem(bare_app, rule, doc):
    body, words = JSONS[doc]
    response = bare_app.test_client().post(url(rule), data=body, content_type="application/json")
    assert_refused(response, 400, words)


# --- body size ---------------------------------------------------------------------------------

def _limit_of(app: Flask, rule: Rule) -> int:
    return BODY_LIMITS[getattr(app.view_functions[rule.endpoint], "body_limit", "default")]


@pytest.mark.parametrize("rule", POSTS, ids=str)
def test_a_body_beyond_the_routes_limit_is_a_413_before_it_is_read(bare_app, rule):
    limit = _limit_of(bare_app, rule)
    for content_type in ("application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=b"):
        response = bare_app.test_client().post(url(rule), input_stream=io.BytesIO(b"x"), content_type=content_type,
                                               environ_overrides={"CONTENT_LENGTH": str(limit + 1)})
        assert_refused(response, 413, f"此处最多 {limit // MB} MB")


def test_one_form_field_beyond_the_form_memory_limit_is_a_413_naming_it(bare_app):
    """Within the 16 MB of an upload route, one text field of 600 kB is still too much to hold in memory."""
    body = b'--b\r\nContent-Disposition: form-data; name="description"\r\n\r\n' + b"x" * 600_000 + b"\r\n--b--\r\n"
    response = bare_app.test_client().post("/public/submit", data=body, content_type="multipart/form-data; boundary=b")
    assert_refused(response, 413, "其中一项填写的内容超过了 488 KB")


def test_uploads_and_diagrams_take_more_than_a_form(bare_app):
    """Attachments (3 files of 5 MB) and diagrams (2 MB, encoded) need more than a completion or a form."""
    limits = {r.endpoint: _limit_of(bare_app, r) for r in POSTS}
    assert limits["resident.submit"] == limits["resident.supplement"] == 16 * MB
    assert limits["designer.upload"] == limits["designer.save_draft"] == limits["designer_api.deploy"] == 8 * MB
    assert limits["api.complete_task"] == limits["task.complete_task"] == limits["cases.add_comment"] == MB
    assert bare_app.config["MAX_CONTENT_LENGTH"] == 16 * MB


# --- page numbers and ids in the query string ----------------------------------------------------

@pytest.mark.parametrize("path", ["/tasks/inbox", "/audit/", "/public/board", "/api/tasks"])
@pytest.mark.parametrize("page", ["9" * 20, "0", "100001"])
def test_a_page_number_beyond_any_list_is_a_404(client, minyi_db, path, page):
    login(client, "auditor" if path.startswith("/audit") else "clerk")
    headers = {"Authorization": f"Bearer {users.create_token(minyi_db, 'clerk')}"}
    assert_refused(client.get(f"{path}?page={page}", headers=headers), 404, "页码须在 1 到 100000 之间")


def test_a_page_number_that_is_not_a_number_shows_the_first_page(client):
    login(client, "clerk")
    assert client.get("/tasks/inbox?page=abc").status_code == 200


@pytest.mark.parametrize("query", ["a=" + "9" * 40, "a=1&b=2147483648", "a=-1"])
def test_version_ids_in_the_query_string_beyond_the_id_columns_are_a_404(client, minyi_db, query):
    users.create_user(minyi_db, "designer", PASSWORD, "设计", ["流程设计人员"])
    login(client, "designer")
    assert_refused(client.get(f"/designer/compare?{query}"), 404, "不存在(参数")


# --- refused means nothing stored, on SQLite and PostgreSQL -------------------------------------

def _stored(app: Flask) -> dict[str, int]:
    from sqlalchemy import func, select

    from engine.store.models import AuditEvent, Case, Comment, HumanTask

    with app.extensions["minyi_db"].read() as session:
        counts = {m.__tablename__: session.scalar(select(func.count()).select_from(m))
                  for m in (Case, Comment, AuditEvent)}
        counts["open_tasks"] = session.scalar(select(func.count()).select_from(HumanTask)
                                              .where(HumanTask.status == "READY"))
    return counts


BIG = 10 * MB
REFUSED = {
    "API start, NUL in a value": ("api", "post", "/api/cases", {"json": {"process_id": "approval",
                                  "values": {"title": "路灯\x00不亮", "amount": 2}}}, 400, "values.title 含有空字符"),
    "API completion of 10 MB": ("api", "post", "/api/tasks/{task}/complete",
                                {"json": {"decision": "同意", "padding": "x" * BIG}}, 413, "此处最多 1 MB"),
    "API completion nested 100,000 deep": ("api", "post", "/api/tasks/{task}/complete",
                                           {"data": "[" * 100_000 + "]" * 100_000,
                                            "content_type": "application/json"}, 400, "嵌套层数过多"),
    "form start, invalid UTF-8": ("page", "post", "/cases/new/approval",
                                  {"data": b"title=%FF%FEx&amount=2",
                                   "content_type": "application/x-www-form-urlencoded"}, 400, "title 含有无效的字节"),
    "form start, 1.4 million characters": ("page", "post", "/cases/new/approval",
                                           {"data": {"title": "灯" * 1_400_000, "amount": "2"}}, 413, "此处最多 1 MB"),
    "API completion, a reason beyond its field's maximum": ("api", "post", "/api/tasks/{task}/complete",
                                                             {"json": {"decision": "不同意", "reason": "因" * 201}},
                                                             422, "不能超过 200 个字"),
    "comment with NUL": ("page", "post", "/cases/{number}/comments", {"data": {"text": "好\x00"}},
                         400, "text 含有空字符"),
    "comment of 2,001 characters": ("page", "post", "/cases/{number}/comments", {"data": {"text": "意" * 2001}},
                                    422, "不能超过 2000"),
    "case page with NUL in its number": ("page", "get", "/cases/{number}%00", {}, 400, "地址含有空字符"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_input_stores_nothing(any_app, name):
    """The same answer on both databases, and the case, its steps and the audit chain as they were."""
    side, method, path, kwargs, status, words = REFUSED[name]
    staff = {a.username: a for a in users.list_users(any_app.extensions["minyi_db"])}
    started = cases.start_case(any_app.extensions["minyi_db"], staff["clerk"], "approval",
                               {"title": "路灯不亮", "amount": "3"})
    client = any_app.test_client()
    if side == "api":
        kwargs = {**kwargs, "headers": {"Authorization":
                                        f"Bearer {users.create_token(any_app.extensions['minyi_db'], 'leader')}"}}
    else:
        login(client, "leader")
    before = _stored(any_app)
    response = getattr(client, method)(path.format(task=started.new_tasks[0].id, number=started.case_number),
                                       **kwargs)
    assert_refused(response, status, words)
    assert _stored(any_app) == before


def test_the_maximum_of_a_text_field_is_shown_in_the_form(client, start_approval):
    """The server's limit, drawn as `maxlength`: 200 for the approval's one-line 理由, which sets none itself."""
    login(client, "leader")
    html = client.get(f"/tasks/{start_approval().new_tasks[0].id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="reason"[^>]*maxlength="200"', html)
