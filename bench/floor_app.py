"""The least a WSGI app can answer to a completion request: read the JSON body, answer a small JSON object.

`bench/http_bench.py` serves it with the same gunicorn worker class as `minyi serve`, so the time a
request takes there is the server's and the client's share of an HTTP completion (sockets, HTTP parsing,
the thread hand-offs), with no Flask and no engine.
"""
from __future__ import annotations

ANSWER = b'{"case_status": "running", "new_tasks": [{"id": 1, "name": "\\u53cd\\u9988\\u7b54\\u590d"}]}'


def app(environ, start_response):  # noqa: ANN001, ANN201
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]
