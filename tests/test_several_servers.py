"""Several app servers on one PostgreSQL: nothing one server needs is kept in another server's memory or disk.

Two `minyi serve` processes (two workers each) on one fresh PostgreSQL database and one Redis: a resident
submits with a photo on A; the staff steps alternate between A and B with one browser session (the secret
key is shared); staff and resident download the photo from B; failed sign-ins counted on A and B together
reach the limit (Flask-Limiter in Redis).
"""
from __future__ import annotations

import http.cookiejar
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
import redis
from click.testing import CliRunner

from engine import clock
from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.people import users
from engine.store.db import Database
from engine.work import casepages
from tests.conftest import PASSWORD, PROCESSES, STAFF
from tests.serving import serve, stop_all
from web.cli import main

pytestmark = pytest.mark.postgres
PHOTO = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(2048)
MATTER = {"topic": "环境绿化", "title": "小区垃圾没人清", "description": "7号楼旁垃圾堆了三天。",
          "reporter_name": "吴先生", "reporter_contact": "13700007777", "address": "和平里7号楼"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


class Browser:
    """One visitor's cookies, sent to whichever server answers (cookies do not depend on the port)."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect)

    def open(self, url: str, data: bytes | None = None, content_type: str | None = None) -> Answer:
        request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if content_type else {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def get(self, url: str) -> Answer:
        return self.open(url)

    def post(self, url: str, fields: dict[str, str]) -> Answer:
        return self.open(url, urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def post_files(self, url: str, fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> Answer:
        boundary = secrets.token_hex(16)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                 for name, value in fields.items()]
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
                  for name, filename, data in files]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.open(url, body, f"multipart/form-data; boundary={boundary}")


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1) or found.group(2)


@pytest.fixture
def two_servers(tmp_path, fresh_pg_url, redis_url, monkeypatch):
    """Servers A and B on one fresh PostgreSQL database, migrated with `minyi db upgrade`, and one Redis."""
    monkeypatch.setenv("DATABASE_URL", fresh_pg_url)
    upgraded = CliRunner().invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    database = Database(fresh_pg_url)
    for name, (display, roles) in STAFF.items():
        users.create_user(database, name, PASSWORD, display, roles)
    deployments.deploy_directory(database, PROCESSES, SYSTEM)
    redis.Redis.from_url(redis_url).flushdb()
    env = {"DATABASE_URL": fresh_pg_url, "MINYI_RATELIMIT_STORAGE": redis_url}
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(serve(tmp_path / f"serve-{name}.log", env, "--workers", "2", "--threads", "4"))
        yield servers[0].url, servers[1].url, database
    finally:
        stop_all(servers)
        database.dispose()


def sign_in(browser: Browser, server: str, username: str, password: str = PASSWORD) -> Answer:
    token = csrf(browser.get(f"{server}/login").text)
    return browser.post(f"{server}/login", {"username": username, "password": password, "csrf_token": token})


def complete(browser: Browser, shown_on: str, sent_to: str, database: Database, number: str, step_id: str,
             **values: str) -> None:
    """Open the step's page on one server and send its form to the other."""
    auditor = next(a for a in users.list_users(database) if a.username == "auditor")
    task_id = next(s.task_id for s in casepages.get_case(database, auditor, number).open_steps
                   if s.step_id == step_id)
    page = browser.get(f"{shown_on}/tasks/{task_id}")
    assert page.status == 200, page.text[:300]
    done = browser.post(f"{sent_to}/tasks/{task_id}/complete", {**values, "csrf_token": csrf(page.text)})
    assert done.status == 302, f"{step_id}: {done.status} {done.text[:500]}"


def test_a_full_case_runs_across_two_servers_on_one_postgresql(two_servers):
    a, b, database = two_servers

    # the resident submits on A, with a photo
    resident = Browser()
    form = resident.get(f"{a}/public/submit")
    receipt = resident.post_files(f"{a}/public/submit", {**MATTER, "csrf_token": csrf(form.text)},
                                  [("files", "现场.png", PHOTO)])
    assert receipt.status == 200, receipt.text[:500]
    number = re.search(r'class="case-number">([^<]+)<', receipt.text).group(1)
    code = re.search(r'class="followup-code">([^<]+)<', receipt.text).group(1)

    # the staff steps alternate between A and B; each person signs in once, on one server only
    staff = {name: Browser() for name in ("clerk", "leader", "handler")}
    assert sign_in(staff["clerk"], b, "clerk").status == 302
    assert sign_in(staff["leader"], a, "leader").status == 302
    assert sign_in(staff["handler"], b, "handler").status == 302
    complete(staff["clerk"], a, b, database, number, "UserTask_verify_online", verified="受理")
    complete(staff["leader"], b, a, database, number, "UserTask_classify", kind="即办件")
    complete(staff["handler"], a, b, database, number, "UserTask_handle_immediate", handling_result="已清运")
    complete(staff["handler"], b, a, database, number, "UserTask_feedback", feedback_method="分散式答复",
             answer="已安排清运,今后每日清理。", answered_at=clock.today().isoformat())

    # the photo handed in on A is downloaded from B, by staff and by the resident
    auditor = next(u for u in users.list_users(database) if u.username == "auditor")
    case = casepages.get_case(database, auditor, number)
    assert [s.step_id for s in case.open_steps] == ["UserTask_rate"]
    followed = resident.get(f"{b}/public/follow/{number}?c={code}")
    attachment_id = re.search(rf"/public/follow/{number}/files/(\d+)", followed.text).group(1)
    assert resident.get(f"{b}/public/follow/{number}/files/{attachment_id}?c={code}").body == PHOTO
    assert staff["leader"].get(f"{b}/attachments/{number}/{attachment_id}").body == PHOTO

    # the resident rates on B: the case is done, as both servers say
    rated = resident.post(f"{b}/public/follow/{number}/rate",
                          {"code": code, "rating": "满意", "csrf_token": csrf(followed.text)})
    assert rated.status == 200 and "评价已提交" in rated.text
    assert "已办结" in resident.get(f"{a}/public/follow/{number}?c={code}").text

    # 10 failed sign-ins a minute per address (STAFF_RATE_LIMITS): 5 on A and 5 on B use them up, so the 11th
    # attempt, on either server and even with the right password, is refused with 429 (counted in Redis)
    guesser = Browser()
    for attempt in range(10):
        assert sign_in(guesser, (a, b)[attempt % 2], "leader", "wrong-password").status == 401
    assert sign_in(guesser, a, "leader").status == 429
    assert sign_in(guesser, b, "leader").status == 429
