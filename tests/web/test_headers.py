"""Safe by default: security headers on every response, Secure cookies over https, the real client
address behind trusted proxies, and no inline script anywhere (the policy allows none)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.people import users
from tests.conftest import PASSWORD
from tests.web.conftest import build_app, login
from web.headers import CONTENT_SECURITY_POLICY, MODELER_PAGES, MODELER_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
SAMPLE = {"filename": "app.css", "which": "inbox", "fmt": "csv", "table": "by_channel", "process_id": "approval"}


def assert_safe(response, where: str, modeler: bool = False) -> None:
    response.close()  # a static file's body is a file
    headers = response.headers
    wanted = MODELER_POLICY if modeler and response.status_code == 200 else CONTENT_SECURITY_POLICY
    assert headers.get("Content-Security-Policy") == wanted, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), where
    assert re.fullmatch(r"[0-9a-f]{32}", headers.get("X-Request-ID", "")), where
    assert "Strict-Transport-Security" not in headers, where  # only when the site is configured for https


def test_the_policy_allows_no_inline_script_no_framing_and_nothing_from_elsewhere():
    rules = dict(rule.split(" ", 1) for rule in CONTENT_SECURITY_POLICY.split("; "))
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
    assert rules["frame-ancestors"] == "'none'" and rules["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_every_route_answers_with_the_security_headers(app, client, start_approval, minyi_db):
    """Each route of the app — pages, API, residents' pages, static files, probes — as a visitor and as an
    administrator, whatever the status (200, redirect, 403, 404, 422 …)."""
    started = start_approval()
    users.create_user(minyi_db, "root", PASSWORD, "全能", ["管理员", "流程设计人员", "审计", "社区负责人"])
    sample = {**SAMPLE, "number": started.case_number, "task_id": started.new_tasks[0].id}
    staff = app.test_client()
    login(staff, "root")
    seen = 0
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<[^>]*\b{name}>", str(sample.get(name, 1)), url)
        modeler = rule.endpoint in MODELER_PAGES
        if "GET" in rule.methods:
            assert_safe(client.get(url), f"GET {url} (visitor)")
            assert_safe(staff.get(url), f"GET {url} (管理员)", modeler)
        if "POST" in rule.methods:
            assert_safe(client.post(url, data={}), f"POST {url} (visitor)")
        seen += 1
    assert seen > 70
    assert_safe(client.get("/no-such-page"), "404")
    assert_safe(client.get("/static/no-such.css"), "static 404")
    assert_safe(staff.get("/tasks/1/complete"), "405")


def test_only_the_modeler_pages_allow_style_attributes_which_bpmn_js_writes():
    assert MODELER_POLICY == CONTENT_SECURITY_POLICY + "; style-src-attr 'unsafe-inline'"
    assert MODELER_PAGES == {"designer.new_procedure", "designer.edit_version", "designer.upload", "designer.compare"}


def test_residents_follow_up_pages_keep_their_stricter_referrer_policy(client):
    """A follow-up link carries the code in its address: it must not leak to another page as a referrer."""
    response = client.get("/public/follow/MQ-1?c=not-the-code")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_no_template_has_inline_script_or_event_handlers():
    """Scripts come from static files (the policy refuses inline ones); JSON data blocks are data, not script."""
    for path in TEMPLATES.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path.name}: {tag}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{path.name} has an inline event handler"
        assert "javascript:" not in html and "style=" not in html, path.name


def session_cookie(response) -> str:
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


def sign_in(client, **kwargs):
    return client.post("/login", data={"username": "clerk", "password": PASSWORD}, **kwargs)


def test_the_session_cookie_is_secure_only_over_https(client):
    assert "Secure" not in session_cookie(sign_in(client))
    assert "; Secure" in session_cookie(sign_in(client, base_url="https://minyi.example"))


def test_behind_a_trusted_proxy_the_forwarded_scheme_makes_the_cookie_secure(sqlite_db):
    client = build_app(sqlite_db, TRUSTED_PROXIES=1).test_client()
    assert "; Secure" in session_cookie(sign_in(client, headers={"X-Forwarded-Proto": "https"}))


def test_an_untrusted_forwarded_scheme_is_ignored(client):
    assert "Secure" not in session_cookie(sign_in(client, headers={"X-Forwarded-Proto": "https"}))


def test_a_site_configured_for_https_always_sends_secure_cookies_and_hsts(sqlite_db):
    client = build_app(sqlite_db, HTTPS=True, HSTS_SECONDS=600).test_client()
    response = sign_in(client)
    assert "; Secure" in session_cookie(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=600"


def wrong_password(client, address: str):
    return client.post("/login", data={"username": "clerk", "password": "wrong-password"},
                       headers={"X-Forwarded-For": address})


@pytest.mark.parametrize("proxies, other_client_status", [(1, 401), (0, 429)])
def test_rate_limits_count_the_forwarded_client_only_behind_trusted_proxies(sqlite_db, proxies, other_client_status):
    """With one trusted proxy each resident has their own limit; with none, everyone behind the proxy shares one."""
    client = build_app(sqlite_db, TRUSTED_PROXIES=proxies, STAFF_RATE_LIMITS={"login": "2 per minute"}).test_client()
    assert [wrong_password(client, "203.0.113.7").status_code for _ in range(3)] == [401, 401, 429]
    assert wrong_password(client, "198.51.100.9").status_code == other_client_status


def test_a_bad_proxy_count_stops_the_app_with_a_chinese_message(sqlite_db, monkeypatch):
    monkeypatch.setenv("MINYI_TRUSTED_PROXIES", "two")
    with pytest.raises(ValueError, match="MINYI_TRUSTED_PROXIES 应为非负整数"):
        build_app(sqlite_db)


def test_https_from_the_environment_sends_hsts_for_a_year_by_default(sqlite_db, monkeypatch):
    monkeypatch.setenv("MINYI_HTTPS", "1")
    assert build_app(sqlite_db).test_client().get("/healthz").headers["Strict-Transport-Security"] == \
        "max-age=31536000"
