"""`minyi worker --once` sweeps once and reports; `minyi run --with-worker` starts the worker thread."""
from __future__ import annotations

from click.testing import CliRunner

from engine.store import migrate
from engine.store.db import Database
from web import cli


def test_worker_once_sweeps_and_reports(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    result = CliRunner().invoke(cli.main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "已扫描: 定时器 0,提醒 0,逾期 0,外发 0" in result.output


def test_worker_refuses_a_silly_interval(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(cli.main, ["worker", "--interval", "0"])
    assert result.exit_code == 2 and "--interval" in result.output


def test_run_with_worker_starts_the_worker_thread_and_stops_it_with_the_server(tmp_path, monkeypatch):
    import waitress

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    seen = {}

    def fake_serve(app, **kwargs):
        import threading

        seen["threads"] = [t.name for t in threading.enumerate()]

    monkeypatch.setattr(waitress, "serve", fake_serve)
    stops = []
    real_start = cli._start_worker

    def tracking_start(db):
        stop = real_start(db)
        stops.append(stop)
        return stop

    monkeypatch.setattr(cli, "_start_worker", tracking_start)
    result = CliRunner().invoke(cli.main, ["run", "--with-worker"])
    assert result.exit_code == 0, result.output
    assert "minyi-worker" in seen["threads"]
    assert stops and stops[0].is_set()


def test_worker_once_leaves_a_heartbeat_for_the_readiness_check(tmp_path, monkeypatch):
    from engine.work import heartbeat

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    database = Database(url)
    migrate.upgrade(database)
    assert heartbeat.liveliest(database) is None
    assert CliRunner().invoke(cli.main, ["worker", "--once", "--interval", "60"]).exit_code == 0
    state = heartbeat.liveliest(database)
    database.dispose()
    assert state is not None and not state.late


def test_an_unknown_log_format_stops_the_worker_with_a_chinese_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MINYI_LOG_FORMAT", "xml")
    result = CliRunner().invoke(cli.main, ["worker", "--once"])
    assert result.exit_code == 1 and "MINYI_LOG_FORMAT 应为 json 或 text" in result.output


def test_run_behind_a_trusted_proxy_lets_the_forwarded_address_through_waitress(tmp_path, monkeypatch):
    """waitress removes X-Forwarded-For by default; with MINYI_TRUSTED_PROXIES the app's ProxyFix must see it
    (here: /metrics, open only to the forwarded client's address, answers the request the proxy passed on)."""
    import threading
    import urllib.error
    import urllib.request

    import waitress
    from waitress.server import create_server

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    settings = {"DATABASE_URL": url, "MINYI_TRUSTED_PROXIES": "1", "MINYI_METRICS_ALLOW": "203.0.113.9"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    statuses = []

    def real_serve(app, host, port, **options):
        server = create_server(app, host="127.0.0.1", port=0, **options)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for forwarded in ("203.0.113.9", "198.51.100.1"):
            request = urllib.request.Request(f"http://127.0.0.1:{server.effective_port}/metrics",
                                             headers={"X-Forwarded-For": forwarded})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
                exc.close()
        server.task_dispatcher.shutdown(timeout=5)
        server.close()
        thread.join(5)

    monkeypatch.setattr(waitress, "serve", real_serve)
    result = CliRunner().invoke(cli.main, ["run"])
    assert result.exit_code == 0, result.output
    assert statuses == [200, 403]
