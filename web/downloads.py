"""Every file the app sends to be saved (CSV and XES exports, statistics, case bundles, diagrams, residents'
uploads) goes through `download` — and a picture shown on a staff page through `inline` — so the name in
Content-Disposition is always written one way.

Werkzeug's `send_file` writes it as RFC 6266 asks: `filename="…"` for an ASCII name; for any other name an
ASCII approximation plus `filename*=UTF-8''…` (RFC 5987 percent-encoding), which every current browser
prefers. A header is Latin-1 only, so a name such as `试运行-…-audit.json` put there as it is would fail
(UnicodeEncodeError, a 500).
"""
from __future__ import annotations

import io

from flask import Response, send_file


def download(body: bytes | str, filename: str, mimetype: str) -> Response:
    """A response the browser saves as `filename` (text is sent as UTF-8)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename,
                     conditional=False, etag=False)


def inline(body: bytes, filename: str, mimetype: str) -> Response:
    """A response the browser shows in the page (a picture), named `filename` should it be saved."""
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=False, download_name=filename,
                     conditional=False, etag=False)
