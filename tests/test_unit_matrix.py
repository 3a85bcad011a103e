"""Everyone sees exactly the cases of the units they hold a role in and the units below them, plus steps
given to them personally (issue #18, 按单位可见): the matrix.

A 区 with two 街道 of two 社区 each, and a 职能部门 beside the tree. In every 社区 a 民情流水线 matter and an
一征三议两公开 matter; in two 社区 the matter waits for its 承办人 with a 延期申请 pending, in the other two it
was reported up (上报件) and waits for the 街道's 上级部门. People hold each role where it is held in life:
受理员, 社区负责人, 承办人, 社区“两委” and 居务监督委员会 in a 社区; 上级部门, 民情监督员, 纪工委 (审计) and 管理员
in a 街道; 联络员 in the 职能部门; 审计 at the 区.

Then every staff route of the app — listed from Flask's url_map, so a new route fails
`test_every_route_is_in_the_matrix` until it is put here — is tried by one person of every role: no list,
page, export or API answer names a case (its number or title) of a unit outside theirs; every direct
read of such a case, step, request or file is refused (403/404); every action on one is refused and
changes nothing. And what each should see, they see. The tries of every route by every person run on
SQLite (thousands of requests); the API, the engine's reads and what each person sees run on both databases.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from engine.actor import Actor
from engine.errors import Forbidden
from engine.audit import export, search, statistics, trace, verify
from engine.people import notifications, units, users
from engine.public import attachments
from engine.public.attachments import Upload
from engine.store.db import Database
from engine.store.models import (Attachment, AuditEvent, Case, CaseLink, Comment, ExtensionRequest, HumanTask,
                                 Notification, Unit)
from engine.work import casepages, cases, casesearch, extensions, findings, runtime, tasklist
from tests.conftest import DATA, PASSWORD, PROCESSES, deploy_file
from tests.minqing import INTAKE
from tests.test_residents import PNG
from tests.web.conftest import login
from tests.yizheng import CONSULTATION
from web import create_app

DISTRICT = "城关区"
STREETS = {"a": "东岗街道", "b": "西园街道"}
# 社区 code → (name, its 街道, the word its matters' titles carry: unique, never part of a unit's name)
COMMUNITIES = {"a1": ("东岗一社区", "a", "枫林"), "a2": ("东岗二社区", "a", "松柏"),
               "b1": ("西园一社区", "b", "桃源"), "b2": ("西园二社区", "b", "柳岸")}
DEPARTMENT = "区住建局"
PROMISED = ("a1", "b1")  # 承诺件 waiting for the 承办人, a 延期申请 pending; the others are 上报件 at the 街道

COMMUNITY_ROLES = {"clerk": "受理员", "leader": "社区负责人", "handler": "承办人", "liangwei": "社区“两委”",
                   "jianwei": "居务监督委员会"}
STREET_ROLES = {"superior": "上级部门", "supervisor": "民情监督员", "jigongwei": "审计", "admin": "管理员"}


def community_cases(code: str) -> set[str]:
    return {f"mq:{code}", f"yz:{code}"}


def street_cases(street: str) -> set[str]:
    return set().union(*(community_cases(c) for c, (_, s, _) in COMMUNITIES.items() if s == street))


ALL_CASES = street_cases("a") | street_cases("b")


def allowed(username: str) -> set[str]:
    """The cases a person's units hold (their units and those below): nothing else may ever reach them."""
    kind, _, where = username.partition("_")
    if where in COMMUNITIES:
        return community_cases(where)
    if where in STREETS:
        return street_cases(where)
    return ALL_CASES if username == "auditor_q" else set()  # the 职能部门: nothing was sent to it


def expected(username: str) -> set[str]:
    """The cases a person does see (their case pages open): by the rules of the case page."""
    kind, _, where = username.partition("_")
    if kind in ("clerk", "leader", "handler"):  # registered it / leads 民情流水线 / a step of it is theirs
        return {f"mq:{where}"}
    if kind in ("liangwei", "jianwei"):  # works / supervises (supervisorRole) 一征三议两公开
        return {f"yz:{where}"}
    if kind == "superior":  # the 上报件 of its 社区 wait for it
        return {f"mq:{c}" for c, (_, s, _) in COMMUNITIES.items() if s == where and c not in PROMISED}
    if kind == "supervisor":  # 民情监督员 supervises 民情流水线 in its 街道
        return {f"mq:{c}" for c, (_, s, _) in COMMUNITIES.items() if s == where}
    return allowed(username)  # 审计 and 管理员 read every case of their units; 联络员: none


@dataclass
class World:
    db: Database
    app: Flask
    people: dict[str, Actor]
    numbers: dict[str, str] = field(default_factory=dict)   # case key (mq:a1) → 受理编号
    titles: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, list[int]] = field(default_factory=dict)  # case key → its open steps
    requests: dict[str, int] = field(default_factory=dict)  # case key → its pending 延期申请
    units: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # case key → a picture handed in with it
    tokens: dict[str, str] = field(default_factory=dict)  # username → API token
    version: int = 0  # 民情流水线's version

    def key_of(self, number: str) -> str:
        return next(k for k, n in self.numbers.items() if n == number)

    def foreign(self, username: str) -> set[str]:
        return ALL_CASES - allowed(username)

    def leaks(self, username: str, text: str) -> list[str]:
        """The cases outside the person's units that `text` names, by number or title."""
        return sorted(k for k in self.foreign(username) if self.numbers[k] in text or self.titles[k] in text)


def build_units(db: Database) -> dict[str, int]:
    with db.write() as session:
        session.execute(update(Unit).where(Unit.id == 1).values(name=DISTRICT, level="区"))
        made = {"q": 1}
        for code, name in STREETS.items():
            made[code] = units.create_unit(session, "system", name, "街道", 1).id
        for code, (name, street, _) in COMMUNITIES.items():
            made[code] = units.create_unit(session, "system", name, "社区", made[street]).id
        made["dept"] = units.create_unit(session, "system", DEPARTMENT, "职能部门", 1, beside=True).id
    return made


def build_people(db: Database, made: dict[str, int]) -> dict[str, Actor]:
    people = {}

    def person(username: str, display: str, role: str, unit: str) -> None:
        people[username] = users.create_user(db, username, PASSWORD, display, [role], unit_id=made[unit])

    for code, (name, _, _) in COMMUNITIES.items():
        for kind, role in COMMUNITY_ROLES.items():
            person(f"{kind}_{code}", f"{name}{role}", role, code)
    for code, name in STREETS.items():
        for kind, role in STREET_ROLES.items():
            person(f"{kind}_{code}", f"{name}{'纪工委' if role == '审计' else role}", role, code)
    person("liaison_dept", f"{DEPARTMENT}联络员", "联络员", "dept")
    person("auditor_q", f"{DISTRICT}审计", "审计", "q")
    return people


def task_of(session, number: str, step: str) -> int:
    return session.scalar(select(HumanTask.id).join(Case, Case.id == HumanTask.case_id).where(
        Case.number == number, HumanTask.step_id == step, HumanTask.status == "READY"))


def do(db: Database, who: Actor, number: str, step: str, **values) -> None:
    runtime.forget_all()
    with db.read() as session:
        task_id = task_of(session, number, step)
    cases.complete_task(db, who, task_id, values)


@pytest.fixture
def world(db, frozen_clock) -> World:
    """The matrix on SQLite and on PostgreSQL."""
    yield from make_world(db)


@pytest.fixture
def sqlite_world(sqlite_db, frozen_clock) -> World:
    """The matrix on SQLite only, for the tries of every route by every person (thousands of requests; the
    queries they make are the ones the tests on both databases make)."""
    yield from make_world(sqlite_db)


def make_world(db: Database):
    made = build_units(db)
    people = build_people(db, made)
    mq = deploy_file(db, PROCESSES / "minqing_liushuixian.bpmn")
    deploy_file(db, PROCESSES / "yizheng_sanyi.bpmn")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db.url,
                      "WTF_CSRF_ENABLED": False})
    w = World(db, app, people, units=made, version=mq.id)
    for code, (_, _, word) in COMMUNITIES.items():
        p = {kind: people[f"{kind}_{code}"] for kind in COMMUNITY_ROLES}
        street = COMMUNITIES[code][1]
        title = f"{word}路灯不亮"
        number = cases.start_case(db, p["clerk"], "minqing_liushuixian", {**INTAKE, "title": title}).case_number
        w.numbers[f"mq:{code}"], w.titles[f"mq:{code}"] = number, title
        if code in PROMISED:
            do(db, p["leader"], number, "UserTask_classify", kind="承诺件", promised_date="2026-12-03")
            with db.read() as session:
                task = task_of(session, number, "UserTask_handle_promised")
            w.requests[f"mq:{code}"] = extensions.request_extension(db, p["handler"], task, "等待配件", "2026-12-10")
            extensions.urge(db, people[f"supervisor_{street}"], task, "请抓紧")
        else:
            do(db, p["leader"], number, "UserTask_classify", kind="上报件")
            do(db, p["handler"], number, "UserTask_report_up", report_department="区住建局",
               report_content="需更换线路")
        title = f"{word}小区整治"
        number = cases.start_case(db, p["liangwei"], "yizheng_sanyi", {**CONSULTATION, "title": title}).case_number
        w.numbers[f"yz:{code}"], w.titles[f"yz:{code}"] = number, title
    with db.read() as session:
        for key, number in w.numbers.items():
            w.tasks[key] = list(session.scalars(select(HumanTask.id).join(Case, Case.id == HumanTask.case_id).where(
                Case.number == number, HumanTask.status == "READY").order_by(HumanTask.id)))
            assert session.scalar(select(Case.unit_id).where(Case.number == number)) == made[key[3:]]
    with db.write() as session:
        for key, number in w.numbers.items():
            case_id = session.scalar(select(Case.id).where(Case.number == number))
            attachments.add(session, case_id, attachments.check([Upload("现场.png", PNG)]), "resident")
            w.files[key] = session.scalar(select(func.max(Attachment.id)).where(Attachment.case_id == case_id))
    w.tokens = {u: users.create_token(db, u) for u in PROBED}
    yield w
    app.extensions["minyi_db"].dispose()


# --- every route of the app, and how the matrix tries it ------------------------------------------------
# A page or list: read by everyone; no answer may name a case outside the reader's units.
LISTS = {
    "/": lambda w, u: ["/"],
    "/account": lambda w, u: ["/account"],
    "/tasks/<any(inbox, queue, archive, team):which>": lambda w, u: [f"/tasks/{x}" for x in
                                                                     ("inbox", "queue", "archive", "team")],
    "/cases/new": lambda w, u: ["/cases/new"],
    "/cases/new/<process_id>": lambda w, u: ["/cases/new/minqing_liushuixian"],
    "/cases/search": lambda w, u: ["/cases/search?status=running", "/cases/search?title=%E8%B7%AF%E7%81%AF"],
    "/extensions": lambda w, u: ["/extensions"],
    "/notifications": lambda w, u: ["/notifications"],
    "/audit/": lambda w, u: ["/audit/", "/audit/?status=running", "/audit/?process=minqing_liushuixian"],
    "/audit/accounts": lambda w, u: ["/audit/accounts"],
    "/audit/export.<fmt>": lambda w, u: ["/audit/export.csv", "/audit/export.xes"],
    "/audit/statistics": lambda w, u: ["/audit/statistics"],
    "/audit/statistics/<table>.csv": lambda w, u: [f"/audit/statistics/{t}.csv" for t in
                                                   ("overdue", "person", "status", "kind", "rates")],
    "/audit/verify": lambda w, u: ["/audit/verify"],
    "/admin/calendar": lambda w, u: ["/admin/calendar"],
    "/admin/users": lambda w, u: ["/admin/users"],
    "/admin/users/new": lambda w, u: ["/admin/users/new"],
    "/admin/users/<int:user_id>": lambda w, u: [f"/admin/users/{w.people[u].id}"],
    "/admin/units": lambda w, u: ["/admin/units"],
    "/audit/units": lambda w, u: ["/audit/units"],
    "/assessment/": lambda w, u: ["/assessment/", "/assessment/?level=社区", "/assessment/?level=网格"],
    "/assessment/ranking.csv": lambda w, u: ["/assessment/ranking.csv", "/assessment/ranking.csv?level=社区"],
    "/assessment/flags.csv": lambda w, u: ["/assessment/flags.csv"],
    "/designer/": lambda w, u: ["/designer/"],
    "/designer/new": lambda w, u: ["/designer/new"],
    "/designer/compare": lambda w, u: [f"/designer/compare?a={w.version}&b={w.version}"],
    "/designer/versions/<int:version_id>/cases": lambda w, u: [f"/designer/versions/{w.version}/cases"],
    "/designer/versions/<int:version_id>/download": lambda w, u: [f"/designer/versions/{w.version}/download"],
    "/designer/versions/<int:version_id>/edit": lambda w, u: [f"/designer/versions/{w.version}/edit"],
    "/designer/try/<int:version_id>": lambda w, u: [f"/designer/try/{w.version}"],
    "/metrics": lambda w, u: ["/metrics"],
}
# A case, step or request outside the reader's units, read directly: refused (403 or 404).
FOREIGN_READS = {
    "/cases/<number>": lambda w, u: [f"/cases/{n}" for n in foreign_numbers(w, u)],
    "/cases/<number>/notice": lambda w, u: [f"/cases/{n}/notice" for n in foreign_numbers(w, u)],
    "/cases/<number>/files/<int:attachment_id>/preview": lambda w, u: [
        f"/cases/{n}/files/{a}/preview" for n, a in foreign_files(w, u)],
    "/attachments/<number>/<int:attachment_id>": lambda w, u: [f"/attachments/{n}/{a}" for n, a in foreign_files(w, u)],
    "/audit/cases/<number>": lambda w, u: [f"/audit/cases/{n}" for n in foreign_numbers(w, u)],
    "/audit/cases/<number>/bundle.json": lambda w, u: [f"/audit/cases/{n}/bundle.json" for n in foreign_numbers(w, u)],
    "/designer/cases/<number>/migrate": lambda w, u: [f"/designer/cases/{n}/migrate" for n in foreign_numbers(w, u)],
    "/designer/try/cases/<number>": lambda w, u: [f"/designer/try/cases/{n}" for n in foreign_numbers(w, u)],
    "/tasks/<int:task_id>": lambda w, u: [f"/tasks/{t}" for t in foreign_tasks(w, u)],
    "/tasks/<int:task_id>/extension": lambda w, u: [f"/tasks/{t}/extension" for t in foreign_tasks(w, u)],
}
# An action on a case, step or request outside the actor's units: refused (403 or 404), nothing changes.
FOREIGN_ACTIONS = {
    "/cases/<number>/comments": lambda w, u: [(f"/cases/{n}/comments", {"text": "越权意见"})
                                              for n in foreign_numbers(w, u)],
    "/cases/<number>/findings": lambda w, u: [(f"/cases/{n}/findings", {"finding": "越权发现"})
                                              for n in foreign_numbers(w, u)],
    "/cases/<number>/links": lambda w, u: [(f"/cases/{n}/links", {"other": m}) for n in foreign_numbers(w, u)
                                           for m in [w.numbers[k] for k in sorted(expected(u))][:1] or [n]],
    "/cases/<number>/receipt": lambda w, u: [(f"/cases/{n}/receipt", {}) for n in foreign_numbers(w, u)],
    "/cases/<number>/transfer": lambda w, u: [(f"/cases/{n}/transfer", {"unit_id": "1", "reason": "越权转办"})
                                              for n in foreign_numbers(w, u)],
    "/designer/cases/<number>/migrate": lambda w, u: [(f"/designer/cases/{n}/migrate",
                                                       {"from": w.version, "to": w.version})
                                                      for n in foreign_numbers(w, u)],
    "/designer/try/cases/<number>/tasks/<int:task_id>": lambda w, u: [
        (f"/designer/try/cases/{w.numbers[k]}/tasks/{t}", {}) for k in sorted(w.foreign(u)) for t in w.tasks[k]],
    "/tasks/<int:task_id>/claim": lambda w, u: [(f"/tasks/{t}/claim", {}) for t in foreign_tasks(w, u)],
    "/tasks/<int:task_id>/unclaim": lambda w, u: [(f"/tasks/{t}/unclaim", {}) for t in foreign_tasks(w, u)],
    "/tasks/<int:task_id>/assign": lambda w, u: [(f"/tasks/{t}/assign", {"username": f"handler_{k[3:]}"})
                                                 for k in sorted(w.foreign(u)) for t in w.tasks[k]],
    "/tasks/<int:task_id>/complete": lambda w, u: [(f"/tasks/{t}/complete", {"handling_result": "越权办理"})
                                                   for t in foreign_tasks(w, u)],
    "/tasks/<int:task_id>/extension": lambda w, u: [(f"/tasks/{t}/extension",
                                                     {"reason": "越权申请", "requested_due": "2026-12-20"})
                                                    for t in foreign_tasks(w, u)],
    "/tasks/<int:task_id>/urge": lambda w, u: [(f"/tasks/{t}/urge", {"note": "越权催办"}) for t in foreign_tasks(w, u)],
    "/extensions/<int:request_id>/decide": lambda w, u: [(f"/extensions/{r}/decide", {"decision": "approve"})
                                                         for k, r in sorted(w.requests.items())
                                                         if k in w.foreign(u)],
    "/notifications/<int:notification_id>/read": lambda w, u: [(f"/notifications/{n}/read", {})
                                                               for n in others_notifications(w, u)],
}
# Read and written through the JSON API (bearer token): the same rules.
API = {"/api/tasks", "/api/tasks/<int:task_id>", "/api/cases/<number>", "/api/tasks/<int:task_id>/complete"}
# Tried on their own below.
OWN_TESTS = {
    "/tasks/<any(queue, team):which>/bulk": "test_bulk_actions_on_other_units_steps_are_refused_without_naming_them",
    "/admin/calendar": "test_only_an_administrator_of_the_root_enters_the_calendar (POST)",
    "/notifications/read-all": "marks the person's own notifications only (notifications.mark_read)",
}
# Routes that read or change no case of any unit.
NO_CASE_DATA = {
    "/login": "signing in", "/logout": "signing out", "/static/<path:filename>": "assets",
    "/healthz": "liveness", "/readyz": "readiness", "/api/openapi.json": "the API's description",
    "/account/password": "the person's own password",
    "/admin/users/<int:user_id>/password": "accounts (units administration, not case data)",
    "/designer/upload": "uploads a diagram", "/designer/try": "saves a draft diagram",
    "/api/designer/deploy": "deploys a diagram", "/api/designer/validate": "checks a diagram",
    "/public": "residents' home", "/public/": "residents' home",
    "/public/board": "published 公示 (public by definition)", "/public/board/<int:publication_id>": "a 公示",
    "/public/board/<int:publication_id>/objection": "a resident's 异议 on a 公示",
    "/public/follow": "a resident follows a matter with its 查询码",
    "/public/follow/<number>": "a resident's matter, with its 查询码 (no staff account)",
    "/public/follow/<number>/files/<int:attachment_id>": "a resident's files, with the 查询码",
    "/public/follow/<number>/rate": "a resident rates, with the 查询码",
    "/public/follow/<number>/supplement": "a resident supplements, with the 查询码",
    "/public/procedures": "固定式公开", "/public/submit": "a resident raises a matter",
    "/cases/new/<process_id>": "registers a case in the person's own unit (cases.intake_unit)",
    "/api/cases": "registers a case in the person's own unit (cases.intake_unit)",
    "/admin/users/new": "creates an account (units administration)",
    "/designer/try/<int:version_id>": "starts a sandbox case of the designer's own",
    "/admin/units/new": "units administration (tests/test_units_admin.py: only inside the 管理员's scope)",
    "/admin/units/import": "units administration (tests/test_units_admin.py)",
    "/admin/units/<int:unit_id>/rename": "units administration (tests/test_units_admin.py)",
    "/admin/units/<int:unit_id>/move": "units administration (tests/test_units_admin.py)",
    "/admin/units/<int:unit_id>/close": "units administration (tests/test_units_admin.py)",
    "/admin/units/<int:unit_id>/reopen": "units administration (tests/test_units_admin.py)",
    "/public/board/u/<int:unit_id>": "a 社区's published 公示 (public by definition)",
    "/public/procedures/u/<int:unit_id>": "a 社区's 固定式公开",
    "/public/board/objections": "a resident asks for the answer to their 异议",
    "/public/board/objections/<reference>": "the answer to a resident's 异议, with its 查询码",
}


def foreign_numbers(w: World, username: str) -> list[str]:
    return [w.numbers[k] for k in sorted(w.foreign(username))]


def foreign_tasks(w: World, username: str) -> list[int]:
    return [t for k in sorted(w.foreign(username)) for t in w.tasks[k]]


def foreign_files(w: World, username: str) -> list[tuple[str, int]]:
    return [(w.numbers[k], w.files[k]) for k in sorted(w.foreign(username)) if k in w.files]


def others_notifications(w: World, username: str) -> list[int]:
    with w.db.read() as session:
        return list(session.scalars(select(Notification.id).where(Notification.user_id != w.people[username].id)
                                    .order_by(Notification.id).limit(3)))


# one person of every role, at every level it is held
PROBED = ["clerk_a1", "leader_a1", "handler_a1", "liangwei_a2", "jianwei_a1", "superior_a", "supervisor_b",
          "jigongwei_a", "admin_b", "liaison_dept", "auditor_q"]


def signed_in(w: World, username: str) -> FlaskClient:
    client = w.app.test_client()
    login(client, username)
    return client


def rules(app: Flask) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(rule.rule, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_every_route_is_in_the_matrix(sqlite_db):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": sqlite_db.url})
    known = set(LISTS) | set(FOREIGN_READS) | set(FOREIGN_ACTIONS) | API | set(OWN_TESTS) | set(NO_CASE_DATA)
    missing = sorted(set(rules(app)) - known)
    assert not missing, f"routes the unit matrix does not try (add them to tests/test_unit_matrix.py): {missing}"
    app.extensions["minyi_db"].dispose()


def snapshot(db: Database) -> tuple:
    """What any action would change: the audit trail, comments, links, 延期 decisions, claims, notifications."""
    with db.read() as session:
        return (session.scalar(select(func.count(AuditEvent.seq))), session.scalar(select(func.count(Comment.id))),
                session.scalar(select(func.count()).select_from(CaseLink)),
                tuple(session.scalars(select(ExtensionRequest.status).order_by(ExtensionRequest.id))),
                tuple(session.scalars(select(HumanTask.assignee_id).order_by(HumanTask.id))),
                session.scalar(select(func.count(Notification.id))),
                session.scalar(select(func.count(Notification.id)).where(Notification.read_at.is_not(None))))


def test_no_page_list_or_export_names_a_case_of_another_unit(sqlite_world):
    """Every person of every unit, every page and list (task lists, 待认领, 本组, 查找事项, 延期审批, 通知,
    the auditors' search, statistics and exports, the designer's running cases, the calendar)."""
    w = sqlite_world
    problems = []
    for username in w.people:
        client = signed_in(w, username)
        for urls in LISTS.values():
            for url in urls(w, username):
                response = client.get(url)
                if response.status_code >= 500:
                    problems.append((username, url, response.status_code))
                if leaked := w.leaks(username, response.get_data(as_text=True)):
                    problems.append((username, url, leaked))
    assert not problems


def test_a_case_step_or_file_of_another_unit_read_directly_is_refused(sqlite_world):
    w = sqlite_world
    problems = []
    for username in PROBED:
        client = signed_in(w, username)
        for urls in FOREIGN_READS.values():
            for url in urls(w, username):
                response = client.get(url)
                text = response.get_data(as_text=True)
                named = [k for k in w.foreign(username) if w.titles[k] in text]
                if response.status_code not in (403, 404) or named:
                    problems.append((username, url, response.status_code))
    assert not problems


def test_an_action_on_a_case_step_or_request_of_another_unit_is_refused_and_changes_nothing(sqlite_world):
    w = sqlite_world
    clients = {u: signed_in(w, u) for u in PROBED}
    before = snapshot(w.db)
    problems = []
    for username, client in clients.items():
        for posts in FOREIGN_ACTIONS.values():
            for url, data in posts(w, username):
                response = client.post(url, data=data)
                if response.status_code not in (403, 404):
                    problems.append((username, url, response.status_code))
    assert not problems
    assert snapshot(w.db) == before


def test_the_api_answers_the_same(world):
    client = world.app.test_client()
    problems = []
    for username in PROBED:
        headers = {"Authorization": f"Bearer {world.tokens[username]}"}
        for which in ("inbox", "queue", "archive", "team"):
            response = client.get(f"/api/tasks?list={which}", headers=headers)
            if response.status_code >= 500 or world.leaks(username, response.get_data(as_text=True)):
                problems.append((username, which, response.status_code))
        for number in foreign_numbers(world, username):
            if client.get(f"/api/cases/{number}", headers=headers).status_code not in (403, 404):
                problems.append((username, number))
        for task in foreign_tasks(world, username):
            if client.get(f"/api/tasks/{task}", headers=headers).status_code not in (403, 404):
                problems.append((username, task))
            response = client.post(f"/api/tasks/{task}/complete", json={"handling_result": "越权"}, headers=headers)
            if response.status_code not in (403, 404):
                problems.append((username, task, "complete", response.status_code))
        for key in expected(username):
            response = client.get(f"/api/cases/{world.numbers[key]}", headers=headers)
            if response.status_code != 200 or response.get_json()["title"] != world.titles[key]:
                problems.append((username, key, response.status_code))
    assert not problems


def test_each_person_sees_the_cases_of_their_units_and_those_sent_to_them(world):
    problems = []
    for username in world.people:
        client = signed_in(world, username)
        for key in expected(username):
            response = client.get(f"/cases/{world.numbers[key]}")
            if response.status_code != 200 or world.titles[key] not in response.get_data(as_text=True):
                problems.append((username, key, response.status_code))
        found = client.get("/cases/search?status=running").get_data(as_text=True)
        shown = {k for k, title in world.titles.items() if title in found}
        if not expected(username) <= shown <= allowed(username):
            problems.append((username, "查找事项", sorted(shown)))
    assert not problems


@pytest.mark.parametrize("username, units_seen", [
    ("auditor_q", "a1 a2 b1 b2"), ("jigongwei_a", "a1 a2"), ("admin_b", "b1 b2"), ("jigongwei_b", "b1 b2")])
def test_auditors_search_statistics_exports_and_chain_check_cover_their_units_only(world, username, units_seen):
    """审计 at the 区 reads everything; a 街道's 纪工委 (审计) or 管理员 its own 社区 only."""
    who = world.people[username]
    mine = set().union(*(community_cases(c) for c in units_seen.split()))
    client = signed_in(world, username)
    listed = client.get("/audit/?status=running").get_data(as_text=True)
    assert {k for k, t in world.titles.items() if t in listed} == mine
    assert all(COMMUNITIES[c][0] in listed for c in units_seen.split())  # each row names its 社区
    assert search.search(world.db, who, search.CaseQuery()).total == len(mine)
    assert statistics.statistics(world.db, who, search.CaseQuery()).total == len(mine)
    log = export.export_log(world.db, who, search.CaseQuery(), "csv").decode("utf-8-sig")
    assert {k for k, n in world.numbers.items() if n in log} == mine
    assert verify.chain_status(world.db, who).cases == len(mine)
    bundle = json.loads(client.get(f"/audit/cases/{world.numbers[sorted(mine)[0]]}/bundle.json").data)
    assert bundle["case"]["number"] == world.numbers[sorted(mine)[0]]


def test_延期_requests_reach_the_approver_of_their_own_unit_only(world):
    pending = {u: {e.case_number for e in extensions.pending_for(world.db, world.people[u])}
               for u in ("leader_a1", "leader_a2", "leader_b1", "admin_a", "admin_b", "auditor_q")}
    assert pending == {"leader_a1": {world.numbers["mq:a1"]}, "leader_a2": set(), "leader_b1": {world.numbers["mq:b1"]},
                       "admin_a": {world.numbers["mq:a1"]}, "admin_b": {world.numbers["mq:b1"]}, "auditor_q": set()}


def test_notifications_reach_the_people_of_the_case_unit_only(world):
    """The 延期申请 goes to its 社区's 社区负责人, the 催办 of a 街道's 民情监督员 to the step's 承办人 there."""
    told = {u: [n.text for n in notifications.notifications_for(world.db, a)] for u, a in world.people.items()}
    assert [u for u, texts in told.items() if any("申请将" in t for t in texts)] == ["leader_a1", "leader_b1"]
    assert [u for u, texts in told.items() if any("催办" in t for t in texts)] == ["handler_a1", "handler_b1"]
    for username, texts in told.items():
        assert not world.leaks(username, "\n".join(texts)), username


def test_bulk_actions_on_other_units_steps_are_refused_without_naming_them(world):
    before = snapshot(world.db)
    for username, which, action in (("leader_a1", "queue", "claim"), ("leader_a1", "team", "assign"),
                                    ("handler_a1", "queue", "claim"), ("admin_b", "team", "assign")):
        client = signed_in(world, username)
        response = client.post(f"/tasks/{which}/bulk", data={"action": action, "task": foreign_tasks(world, username),
                                                             "username": "handler_b1"}, follow_redirects=True)
        assert response.status_code in (200, 403, 422), (username, response.status_code)
        assert not world.leaks(username, response.get_data(as_text=True)), username
    assert snapshot(world.db) == before


def test_only_an_administrator_of_the_root_enters_the_calendar(world):
    """The working-day calendar is the whole system's: a 街道's 管理员 reads it but cannot change it."""
    client = signed_in(world, "admin_a")
    response = client.post("/admin/calendar", data={"year": "2027", "days_off": "2027-01-01 元旦", "workdays": ""})
    assert response.status_code == 403
    assert "最上级单位的管理员" in response.get_data(as_text=True)


def test_a_supervisor_of_another_street_can_neither_urge_nor_record_findings(world):
    task = world.tasks["mq:a1"][0]
    with pytest.raises(Forbidden, match="本事项所在单位"):
        extensions.urge(world.db, world.people["supervisor_b"], task, "越权")
    extensions.urge(world.db, world.people["supervisor_a"], task, "请办理")  # its own 街道's 社区: allowed
    with pytest.raises(Forbidden, match="本事项所在单位"):
        findings.record_finding(world.db, world.people["jianwei_a2"], world.numbers["yz:a1"], "越权发现")
    findings.record_finding(world.db, world.people["jianwei_a1"], world.numbers["yz:a1"], "公示内容完整")


def test_a_department_sees_only_what_was_sent_to_it(world):
    """A 职能部门 beside the tree owns no cases: its 联络员 sees a matter of a 社区 once a step of it was sent to
    the department (the step's unitField), and still nothing else."""
    deploy_file(world.db, DATA / "unit_dispatch.bpmn")
    sent = cases.start_case(world.db, world.people["clerk_a1"], "unit_dispatch",
                            {"title": "枫林井盖破损", "department": str(world.units["dept"])})
    liaison = world.people["liaison_dept"]
    queue = tasklist.tasks(world.db, liaison, "queue")
    assert [row.case_number for row in queue.items] == [sent.case_number]
    assert casepages.get_case(world.db, liaison, sent.case_number).title == "枫林井盖破损"
    assert casesearch.search(world.db, liaison, casesearch.StaffQuery(status="running")).total == 1
    for other in world.numbers.values():
        with pytest.raises(Forbidden):
            casepages.get_case(world.db, liaison, other)
    for outsider in ("clerk_b1", "leader_a2", "jigongwei_b"):  # another 社区, another 街道
        with pytest.raises(Forbidden):
            casepages.get_case(world.db, world.people[outsider], sent.case_number)
    assert casepages.get_case(world.db, world.people["jigongwei_a"], sent.case_number)  # its own 街道's 社区
    cases.complete_task(world.db, liaison, queue.items[0].id, {"reply": "已更换井盖"})
    assert casepages.get_case(world.db, liaison, sent.case_number).status == "completed"  # it did the step


def test_each_role_counts_only_in_the_unit_it_is_held_in(world):
    """审计 in one 社区 and 受理员 in another: the person audits the first only; 社区负责人 in one 社区 and
    受理员 in another: they lead the first only. A role never lends its reach to the person's other units."""
    db, n = world.db, world.numbers
    auditor = users.create_user(db, "mixed_audit", PASSWORD, "两处任职甲", ["审计"], unit_id=world.units["a1"],
                                grants=[("受理员", world.units["b1"])])
    leader = users.create_user(db, "mixed_lead", PASSWORD, "两处任职乙", ["社区负责人"], unit_id=world.units["a1"],
                               grants=[("受理员", world.units["b2"])])
    listed = search.search(db, auditor, search.CaseQuery())
    assert {row.number for row in listed.items} == {n["mq:a1"], n["yz:a1"]}
    assert statistics.statistics(db, auditor, search.CaseQuery()).total == 2
    assert verify.chain_status(db, auditor).cases == 2
    for who, mine, theirs in ((auditor, "mq:a1", ("mq:b1", "yz:b1")), (leader, "mq:a1", ("mq:b2", "yz:b2"))):
        assert casepages.get_case(db, who, n[mine]).number == n[mine]
        for key in theirs:
            with pytest.raises(Forbidden):
                casepages.get_case(db, who, n[key])
        found = casesearch.search(db, who, casesearch.StaffQuery(status="running"))
        assert not {row.number for row in found.items} & {n[k] for k in theirs}
    with pytest.raises(Forbidden):
        trace.get_trace(db, auditor, n["mq:b1"])
    with pytest.raises(Forbidden):
        extensions.decide_extension(db, leader, world.requests["mq:b1"], True)


def test_a_link_made_at_the_街道_between_two_社区_names_neither_社区_the_others_case(world):
    """关联 by the 街道's 管理员 joins two 社区's matters; each 社区 sees the link as another unit's matter,
    never its number, on the case page, its history and the task page; the 街道 and the 区 see both numbers."""
    a1, a2 = world.numbers["mq:a1"], world.numbers["mq:a2"]
    cases.link_cases(world.db, world.people["admin_a"], a1, a2)
    for username, own, other in (("leader_a1", a1, a2), ("leader_a2", a2, a1)):
        who = world.people[username]
        page = casepages.get_case(world.db, who, own)
        assert (page.linked, page.linked_elsewhere) == ((), 1)
        [entry] = [e for e in page.history if e.kind == "case_linked"]
        assert entry.data["linked"] == casepages.OTHER_UNIT_CASE
        html = signed_in(world, username).get(f"/cases/{own}").get_data(as_text=True)
        assert other not in html and casepages.OTHER_UNIT_CASE in html and "另有 1 个其他单位的事项与本事项关联" in html
    for username in ("admin_a", "auditor_q"):
        page = casepages.get_case(world.db, world.people[username], a1)
        assert (page.linked, page.linked_elsewhere) == ((a2,), 0)
        [entry] = [e for e in page.history if e.kind == "case_linked"]
        assert entry.data["linked"] == a2
        timeline = trace.get_trace(world.db, world.people[username], a1).timeline
        assert [e.data["linked"] for e in timeline if e.kind == "case_linked"] == [a2]
