"""What views need from the app: the database and the acting user."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g
from flask_login import current_user

from engine.actor import Actor
from engine.store.db import Database


def db() -> Database:
    return current_app.extensions["minyi_db"]


def actor() -> Actor:
    """The engine's view of who is calling: the API's token holder, else the logged-in user."""
    if "api_actor" in g:
        return g.api_actor
    return current_user.actor


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after a POST or a login (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
