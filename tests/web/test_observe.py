"""Observable: request ids, one log line per request (JSON or text), the load balancer's probes and the
Prometheus metrics with who may read them."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest

from engine import clock
from engine.work import heartbeat
from tests.conftest import ROOT
from tests.web.conftest import build_app, login
from web import metrics, observe


def test_a_valid_incoming_request_id_is_kept_and_returned(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"}).headers["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.parametrize("given", ["", "has space", "x" * 200, "<script>", "中文编号", "-leading-dash"])
def test_an_invalid_request_id_is_replaced_by_a_new_one(client, given):
    answered = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", answered)


def test_the_500_page_shows_the_request_id_of_the_header(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("internals")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "trace-123"
    assert '<code class="request-id">trace-123</code>' in response.get_data(as_text=True)


def test_one_log_line_per_request_with_id_user_status_and_duration(client, caplog):
    login(client, "clerk")
    with caplog.at_level(logging.INFO, logger="minyi.request"):
        client.get("/tasks/inbox", headers={"X-Request-ID": "req-1"})
    [line] = [r for r in caplog.records if r.name == "minyi.request" and r.path == "/tasks/inbox"]
    assert (line.request_id, line.user, line.method, line.route, line.status) == \
        ("req-1", "clerk", "GET", "/tasks/<any(inbox, queue, archive, team):which>", 200)
    assert line.duration_ms >= 0 and line.path == "/tasks/inbox"


@pytest.fixture
def log_format(capsys):
    """Logging set up the way `minyi run` does it, written to the captured stderr; removed afterwards."""
    def _configure(fmt: str) -> None:
        observe.configure_logging(fmt)
    yield _configure
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "minyi", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    for name in observe.ENGINE_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_json_log_lines_carry_the_request_id_of_every_record(client, log_format, capsys):
    log_format("json")
    client.get("/healthz", headers={"X-Request-ID": "req-json"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = next(line for line in lines if line["logger"] == "minyi.request")
    assert access["request_id"] == "req-json" and access["status"] == 200 and access["user"] == "-"
    assert access["level"] == "INFO" and "timestamp" in access and access["route"] == "/healthz"


def test_plain_text_log_lines_are_the_default(client, log_format, capsys):
    log_format("text")
    client.get("/healthz", headers={"X-Request-ID": "req-text"})
    assert re.search(r"INFO minyi\.request \[req-text\] GET /healthz 200 [\d.]+ms -", capsys.readouterr().err)


def test_a_completion_logs_its_request_line_and_not_the_workflow_librarys_state_changes(
        client, log_format, capsys, start_approval):
    log_format("text")
    started = start_approval()  # the library's INFO lines of the start would be written here too
    login(client, "leader")
    capsys.readouterr()
    client.post(f"/tasks/{started.new_tasks[0].id}/complete", data={"decision": "同意"},
                headers={"X-Request-ID": "req-done"})
    lines = capsys.readouterr().err.splitlines()
    [logged] = [line for line in lines if " INFO " in line]
    assert "INFO minyi.request [req-done] POST /tasks/" in logged
    assert not [line for line in lines if "spiff" in line]


def test_the_workflow_librarys_warnings_are_still_logged(log_format, capsys):
    log_format("text")
    logging.getLogger("spiff.task").warning("a task spec went missing")
    assert "WARNING spiff.task [-] a task spec went missing" in capsys.readouterr().err


def test_an_unknown_log_format_is_refused_in_chinese():
    with pytest.raises(ValueError, match="MINYI_LOG_FORMAT 应为 json 或 text"):
        observe.configure_logging("xml")


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_readyz_wants_a_live_worker(client, minyi_db):
    waiting = client.get("/readyz")
    assert waiting.status_code == 503 and waiting.json["status"] == "not ready"
    assert waiting.json["checks"]["database"]["ok"] and waiting.json["checks"]["migrations"]["ok"]
    assert "minyi worker" in waiting.json["checks"]["worker"]["detail"]
    heartbeat.beat(minyi_db, "host:1", 30.0, clock.now() - timedelta(minutes=5))
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_readyz_can_leave_the_worker_out(sqlite_db):
    client = build_app(sqlite_db, READYZ_CHECK_WORKER=False).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200 and set(response.json["checks"]) == {"database", "migrations"}


@pytest.fixture
def client(app):
    """A client on an app whose metrics this machine may read (MINYI_METRICS_ALLOW=127.0.0.1)."""
    app.config["METRICS_ALLOW"] = metrics._networks("127.0.0.1")
    return app.test_client()


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def value(text: str, sample: str) -> float:
    found = re.search(rf"^{re.escape(sample)} ([0-9.e+-]+)$", text, re.M)
    assert found, f"{sample} not in metrics"
    return float(found.group(1))


def counted(text: str, sample: str) -> float:
    """A counter's value, 0 before its first increment (counters live as long as the test process)."""
    return value(text, sample) if f"\n{sample} " in text else 0.0


def test_metrics_count_requests_completions_and_read_the_work_figures(client, start_approval):
    healthz = 'minyi_http_requests_total{method="GET",route="/healthz",status="200"}'
    completions = 'minyi_task_completions_total{channel="web"}'
    login(client, "leader")
    before = scrape(client)
    started = start_approval()
    client.get("/healthz")
    done = client.post(f"/tasks/{started.new_tasks[0].id}/complete", data={"decision": "同意"})
    assert done.status_code == 302
    text = scrape(client)
    assert counted(text, healthz) == counted(before, healthz) + 1
    assert counted(text, completions) == counted(before, completions) + 1
    assert 'minyi_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    for sample in ("minyi_timers_due", "minyi_timer_lag_seconds", 'minyi_outbox_backlog{state="pending"}',
                   'minyi_outbox_backlog{state="failed"}', 'minyi_db_pool_connections{state="checked_out"}',
                   'minyi_db_pool_connections{state="idle"}'):
        assert value(text, sample) >= 0
    assert value(text, "minyi_database_up") == 1


def test_metrics_are_refused_to_everybody_until_configured(sqlite_db):
    response = build_app(sqlite_db).test_client().get("/metrics")
    assert response.status_code == 403 and "MINYI_METRICS_ALLOW" in response.get_data(as_text=True)


def test_metrics_are_refused_to_other_addresses(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == 403 and "MINYI_METRICS_TOKEN" in response.get_data(as_text=True)


def test_metrics_are_refused_through_an_untrusted_proxy_even_from_this_machine(client):
    """A reverse proxy on the same machine makes every visitor look local: its requests are not let in by address."""
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 403


def test_metrics_with_the_token_from_anywhere_and_allowed_networks(sqlite_db):
    client = build_app(sqlite_db, METRICS_TOKEN="s3cret-token", METRICS_ALLOW="10.0.0.0/8").test_client()
    far = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer wrong"}).status_code == 403
    scrape(client, environ_base=far, headers={"Authorization": "Bearer s3cret-token"})
    scrape(client, environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is no longer in the allowed list




def test_several_processes_add_up_in_multiprocess_mode(tmp_path, sqlite_template):
    """gunicorn's workers each count their own requests; with PROMETHEUS_MULTIPROC_DIR one scrape shows the sum."""
    import shutil

    database = tmp_path / "minyi.db"
    shutil.copy(sqlite_template, database)
    (tmp_path / "prom").mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "PYTHONPATH": str(ROOT)}
    script = (
        "import sys\n"
        "from web import create_app\n"
        "app = create_app({'TESTING': True, 'SECRET_KEY': 't', 'DATABASE_URL': sys.argv[1],"
        " 'METRICS_ALLOW': '127.0.0.1'})\n"
        "client = app.test_client()\n"
        "for _ in range(int(sys.argv[2])): client.get('/healthz')\n"
        "if sys.argv[3] == 'scrape': print(client.get('/metrics').get_data(as_text=True))\n"
    )
    url = f"sqlite:///{database}"
    subprocess.run([sys.executable, "-c", script, url, "3", "-"], env=env, check=True, cwd=ROOT)
    scraped = subprocess.run([sys.executable, "-c", script, url, "2", "scrape"], env=env, check=True, cwd=ROOT,
                             capture_output=True, text=True).stdout
    assert value(scraped, 'minyi_http_requests_total{method="GET",route="/healthz",status="200"}') == 5
    assert value(scraped, "minyi_database_up") == 1


def test_every_operations_setting_is_documented():
    """Each environment variable the probes, metrics, logs and security headers read is in docs/operations.md."""
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    names = set()
    for module in ("headers", "observe", "metrics"):
        names |= set(re.findall(r"\b(?:MINYI|PROMETHEUS)_[A-Z_]+\b", (ROOT / "web" / f"{module}.py").read_text()))
    assert {"MINYI_TRUSTED_PROXIES", "MINYI_METRICS_TOKEN", "MINYI_LOG_FORMAT"} <= names
    assert sorted(name for name in names if f"`{name}" not in docs) == []


def test_a_path_with_a_line_break_stays_on_one_log_line(client, log_format, capsys):
    log_format("text")
    client.get("/public/x%0AINFO forged line", headers={"X-Request-ID": "req-nl"})
    [line] = [line for line in capsys.readouterr().err.splitlines() if "minyi.request" in line]
    assert "[req-nl] GET /public/x\\x0aINFO forged line 404" in line


def test_invented_request_methods_share_one_metrics_label(client):
    client.open("/healthz", method="BREW")
    assert 'minyi_http_requests_total{method="OTHER",route="(unmatched)",status="405"}' in scrape(client)
    assert 'method="BREW"' not in scrape(client)


def test_a_bad_metrics_network_stops_the_app_with_a_chinese_message(sqlite_db, monkeypatch):
    monkeypatch.setenv("MINYI_METRICS_ALLOW", "127.0.0.1,intranet")
    with pytest.raises(ValueError, match="MINYI_METRICS_ALLOW 中的 'intranet' 不是地址或网段"):
        build_app(sqlite_db)
