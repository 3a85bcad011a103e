"""Safe by default: security headers on every response, cookies marked Secure over https, and the
client's real address and scheme behind trusted reverse proxies.

Settings (environment, or the app config key in brackets):
  MINYI_TRUSTED_PROXIES [TRUSTED_PROXIES]  how many reverse proxies stand in front of the app (default 0);
      their X-Forwarded-For/-Proto/-Host/-Port/-Prefix are believed (werkzeug's ProxyFix), so rate limits
      see the resident's address and https is recognised. Never set it higher than the real number of
      proxies: a client could then forge its address.
  MINYI_HTTPS=1 [HTTPS]  the site is served only over https: cookies are always Secure and browsers are
      told to come back only over https (Strict-Transport-Security, MINYI_HSTS_SECONDS, default one year).
Without MINYI_HTTPS, a cookie is Secure whenever the request itself came over https (after ProxyFix).
"""
from __future__ import annotations

import os

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline script or style, nothing from another site, no framing. The icon font and marker images of
# bpmn-js (the designer) are bundled as data: URLs (web/frontend/build.mjs).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# The modeler pages only: bpmn-js and its properties panel write style="…" attributes (positions, sizes,
# colours), which style-src-attr governs. Attributes cannot hold selectors or load anything, and the pages
# still refuse every inline script and <style> element.
MODELER_POLICY = CONTENT_SECURITY_POLICY + "; style-src-attr 'unsafe-inline'"
MODELER_PAGES = {"designer.new_procedure", "designer.edit_version", "designer.upload", "designer.compare"}
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",  # a page may ask for less (the residents' follow-up links: no-referrer)
    "Cross-Origin-Opener-Policy": "same-origin",
}


ONE_YEAR = 365 * 24 * 3600


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure when configured or when this request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or app.config["HTTPS"] or request.is_secure)


def add_headers(response: Response) -> Response:
    if request.endpoint in MODELER_PAGES and response.status_code == 200:
        response.headers.setdefault("Content-Security-Policy", MODELER_POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["HTTPS"]:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={current_app.config['HSTS_SECONDS']}")
    return response


def _setting(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _count(name: str, meaning: str, default: int) -> int:
    value = _setting(name, str(default))
    if not value.isdigit():
        raise ValueError(f"{name} 应为非负整数({meaning}),现在是 {value!r}")
    return int(value)


def init_app(app: Flask) -> None:
    app.config.setdefault("TRUSTED_PROXIES", _count("MINYI_TRUSTED_PROXIES", "前面有几层反向代理", 0))
    app.config.setdefault("HTTPS", _setting("MINYI_HTTPS", "0") in ("1", "true", "yes"))
    app.config.setdefault("HSTS_SECONDS", _count("MINYI_HSTS_SECONDS", "浏览器记住只用 https 的秒数",
                                                       ONE_YEAR))
    if app.config["HTTPS"]:
        app.config["REMEMBER_COOKIE_SECURE"] = True
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies,
                                x_prefix=proxies)
    app.session_interface = SessionInterface()
    app.after_request(add_headers)
