"""Web fixtures: an app on a temporary database with the demo staff and the approval diagram, and the
residents' app (民情流水线 deployed) with its public client and signed-in staff clients."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.people import users
from engine.store.db import Database
from tests.conftest import DATA, PASSWORD, PROCESSES, STAFF, deploy_file
from web import create_app
from web.resident import DEFAULT_LIMITS


def build_app(database: Database, **config) -> Flask:
    """An app on `database` with the staff of tests/conftest.py and approval.bpmn deployed."""
    for name, (display, roles) in STAFF.items():
        users.create_user(database, name, PASSWORD, display, roles)
    deploy_file(database, DATA / "approval.bpmn")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database.url,
                      "WTF_CSRF_ENABLED": False, **config})
    return app


@pytest.fixture
def app(sqlite_db) -> Flask:
    """Most web tests run on SQLite only; `any_app` runs a smoke subset on both databases."""
    app = build_app(sqlite_db)
    yield app
    app.extensions["minyi_db"].dispose()


@pytest.fixture
def any_app(db) -> Flask:
    app = build_app(db)
    yield app
    app.extensions["minyi_db"].dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def minyi_db(app) -> Database:
    return app.extensions["minyi_db"]


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form (CSRF disabled, or the token taken from the form)."""
    page = client.get("/login")
    token = _csrf_token(page.get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def _csrf_token(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    return (found.group(1) or found.group(2)) if found else ""


@pytest.fixture
def login_as(client) -> Callable[[str], FlaskClient]:
    def _login(username: str) -> FlaskClient:
        login(client, username)
        return client
    return _login


@pytest.fixture
def staff_actors(minyi_db) -> dict:
    """The engine's Actor of each staff user, by username."""
    return {actor.username: actor for actor in users.list_users(minyi_db)}


@pytest.fixture
def start_approval(minyi_db, staff_actors) -> Callable[..., object]:
    """Register an approval case as the clerk; returns the engine's StepResult."""
    from engine.work import cases

    def _start(title: str = "路灯不亮", amount: str = "3"):
        return cases.start_case(minyi_db, staff_actors["clerk"], "approval", {"title": title, "amount": amount})
    return _start


@pytest.fixture
def resident_app(sqlite_db) -> Flask:
    """The app with 民情流水线 deployed and generous rate limits."""
    app = build_app(sqlite_db, RESIDENT_RATE_LIMITS={name: "1000 per minute" for name in DEFAULT_LIMITS})
    deploy_file(sqlite_db, PROCESSES / "minqing_liushuixian.bpmn")
    yield app
    app.extensions["minyi_db"].dispose()


@pytest.fixture
def resident(resident_app) -> FlaskClient:
    return resident_app.test_client()


@pytest.fixture
def staff_client(resident_app):
    def _client(username: str) -> FlaskClient:
        client = resident_app.test_client()
        login(client, username)
        return client
    return _client
