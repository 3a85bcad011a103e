"""Rate limits per IP address: the residents' forms (see `resident.py`), and staff sign-in and password
changes, where only failed attempts count (a 401 or a 422), so guessing a password is slowed down while
a colleague who types correctly is never held up. Limits are read from the app config at request time,
so tests and sites tune them; storage is in memory unless MINYI_RATELIMIT_STORAGE names a shared one (Redis, for
several worker processes or servers). While that store is unreachable each process counts in its own memory
instead, so a Redis outage loosens the limits for a while but never turns a sign-in into an error page."""
from __future__ import annotations

import os

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
STAFF_LIMITS = {"login": "10 per minute;100 per day", "password": "5 per minute;30 per day"}


def staff_limit(name: str):
    """A limit on failed staff attempts of kind `name` (STAFF_RATE_LIMITS in the app config)."""
    return limiter.limit(lambda: current_app.config["STAFF_RATE_LIMITS"].get(name, STAFF_LIMITS[name]),
                         methods=["POST"], scope=f"staff-{name}", deduct_when=_failed)


def _failed(response: Response) -> bool:
    return response.status_code in (401, 422)


def init_app(app: Flask) -> None:
    app.config.setdefault("STAFF_RATE_LIMITS", dict(STAFF_LIMITS))
    app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("MINYI_RATELIMIT_STORAGE", "memory://"))
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
    # One `Limiter` serves every app of the process (the views' decorators are bound to it), and Flask-Limiter 4.1.1
    # keeps its "store unreachable" mark across `init_app`: an app built after one whose Redis was down would count
    # in the fallback memory until a back-off check found its own store and switched over, splitting the counts
    # mid-flood. Each app starts on its own store (tests/web/test_rate_limit_storage.py).
    limiter._storage_dead = False  # noqa: SLF001 — no public setter; the test above fails if the name changes
