"""The Flask web layer of 民议: app factory, blueprints, templates.

Views parse the request, make one engine call and render its immutable result;
they never touch the database themselves.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from engine.store.db import Database

from . import production

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; `test_config` overrides settings (DATABASE_URL, TESTING, WTF_CSRF_ENABLED…)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the 8-hour session
        TASKS_PER_PAGE=20,
    )
    if os.environ.get("MINYI_SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["MINYI_SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.update(test_config or {})
    if production.is_production(os.environ) and not (test_config or {}).get("SECRET_KEY"):
        problem = production.secret_key_problem(os.environ)  # never a key of this machine's own
        if problem:
            raise RuntimeError(problem)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(Path(app.instance_path))
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'minyi.db'}"

    app.extensions["minyi_db"] = Database(app.config["DATABASE_URL"])
    csrf.init_app(app)

    from . import (accounts, api, assessment, audit, auth, board, cases, designer, errors, extensions, filters,
                   headers, inputs, limits, metrics, notifications, observe, resident, taskpage, tasks, units,
                   workcalendar)

    inputs.init_app(app)  # first: the request class, the id converter and the checks every route relies on
    for module in (headers, observe, metrics, limits, auth, tasks, taskpage, cases, api, errors, filters, resident,
                   designer, board, notifications, extensions, audit, assessment, accounts, units, workcalendar):
        module.init_app(app)

    @app.get("/")
    def index():
        """Residents land on 居民服务 (a resident on a phone has no account); signed-in staff on their inbox."""
        if current_user.is_authenticated:
            return redirect(url_for("tasks.list_tasks", which="inbox"))
        return render_template("public/home.html")

    return app


def _persistent_secret(instance: Path) -> str:
    """A random key kept in instance/secret_key, so sessions survive a restart."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
