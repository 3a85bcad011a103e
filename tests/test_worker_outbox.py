"""The outbound hook: off by default; when configured, each notification is delivered by the
worker by e-mail (a local SMTP server started here) or webhook (a local HTTP server),
and a failed delivery is retried with backoff. Nothing here touches the internet."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.people import accounts, outbox, users
from engine.store.models import OutboxMessage
from engine.work import cases, extensions, timers
from tests.conftest import PASSWORD, PROCESSES
from tests.minqing import Matter


@pytest.fixture
def promised(db, staff, frozen_clock, monkeypatch):
    for name in ("MINYI_SMTP_HOST", "MINYI_SMTP_TO", "MINYI_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    return m


def outbox_rows(db) -> list:
    with db.read() as session:
        return list(session.execute(select(OutboxMessage.channel, OutboxMessage.attempts, OutboxMessage.last_error,
                                           OutboxMessage.sent_at).order_by(OutboxMessage.id)))


def test_no_hook_is_configured_by_default_and_nothing_is_queued(db, staff, promised):
    assert not outbox.configured()
    extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"))
    assert outbox_rows(db) == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 (aiosmtpd hook)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_inbox(monkeypatch):
    """A local SMTP server the outbox is configured to send through; its received messages."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MINYI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MINYI_SMTP_PORT", str(port))
    yield inbox
    controller.stop()


def test_notifications_are_mailed_through_the_configured_smtp_server(db, staff, promised, smtp_inbox, monkeypatch):
    monkeypatch.setenv("MINYI_SMTP_TO", "duty@example.org")
    extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"), "请今天办结")
    assert [r.channel for r in outbox_rows(db)] == ["email"]
    assert timers.sweep(db)["sent"] == 1
    assert timers.sweep(db)["sent"] == 0
    (mail,) = smtp_inbox.messages
    assert mail.rcpt_tos == ["duty@example.org"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert message["Subject"] == f"[民议] 催办 {promised.number}"
    assert "请今天办结" in message.get_content() and "handler" in message.get_content()
    assert outbox_rows(db)[0].sent_at is not None


def test_each_person_is_mailed_at_their_own_address_and_the_duty_mailbox_gets_a_copy(db, staff, promised,
                                                                                     smtp_inbox, monkeypatch):
    accounts.update_my_account(db, staff["handler"], {"display_name": "张承办", "email": "zhang@example.org"})
    accounts.update_my_account(db, staff["handler2"], {"display_name": "赵承办", "email": "zhao@example.org"})
    admin = users.create_user(db, "admin", PASSWORD, "管理员", ["管理员"])
    accounts.update_account(db, admin, staff["handler2"].id, {"display_name": "赵承办", "email": "zhao@example.org",
                                                              "roles": ["承办人"], "active": ""})  # left the office
    extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"), "请今天办结")
    monkeypatch.setenv("MINYI_SMTP_TO", "duty@example.org")
    extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"), "明天上午前办结")
    assert timers.sweep(db)["sent"] == 2
    first, second = smtp_inbox.messages
    assert first.rcpt_tos == ["zhang@example.org"]  # not the deactivated colleague's address
    assert second.rcpt_tos == ["zhang@example.org", "duty@example.org"]
    assert "请今天办结" in email.message_from_bytes(first.content, policy=email.policy.default).get_content()


def test_no_mail_is_queued_when_nobody_notified_has_an_address(db, staff, promised, monkeypatch):
    monkeypatch.setenv("MINYI_SMTP_HOST", "127.0.0.1")
    extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"))
    assert outbox_rows(db) == []


def test_a_failing_webhook_is_retried_with_backoff_until_it_answers(db, staff, promised, monkeypatch, frozen_clock):
    received, status = [], [500]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server hook)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status[0])
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MINYI_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/minyi")
        extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"))
        assert outbox.deliver(db) == 0                              # the hook fails
        (row,) = outbox_rows(db)
        assert row.attempts == 1 and "500" in row.last_error and row.sent_at is None
        assert outbox.deliver(db) == 0 and len(received) == 1       # backoff: not retried at once
        status[0] = 204
        frozen_clock.set(frozen_clock.value + timedelta(seconds=31))
        assert outbox.deliver(db) == 1
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 2 and received[1]["kind"] == "urge" and received[1]["users"] == ["handler", "handler2"]
    assert outbox_rows(db)[0].sent_at is not None


def test_a_deactivated_assignee_is_mailed_nothing(db, staff, promised, smtp_inbox):
    """A claimed step's reminders go to the person who claimed it, at their own address; once an
    administrator deactivates that account (they left the office) the step goes back to 待认领 and no
    further mail goes to them: the next reminder reaches the lane's remaining 承办人 instead."""
    task_id = promised.task_id("UserTask_handle_promised")
    accounts.update_my_account(db, staff["handler"], {"display_name": "张承办", "email": "zhang@example.org"})
    accounts.update_my_account(db, staff["handler2"], {"display_name": "赵承办", "email": "zhao@example.org"})
    cases.claim(db, staff["handler"], task_id)
    extensions.urge(db, staff["leader"], task_id, "请今天办结")
    admin = users.create_user(db, "admin", PASSWORD, "管理员", ["管理员"])
    accounts.update_account(db, admin, staff["handler"].id, {"display_name": "张承办", "email": "zhang@example.org",
                                                             "roles": ["承办人"], "active": ""})
    extensions.urge(db, staff["leader"], task_id, "无人接收")
    assert timers.sweep(db)["sent"] == 2
    to_assignee, after_deactivation = smtp_inbox.messages
    assert to_assignee.rcpt_tos == ["zhang@example.org"]  # the assignee only, not the lane's other 承办人
    assert after_deactivation.rcpt_tos == ["zhao@example.org"]  # never the deactivated account again
    assert "无人接收" in email.message_from_bytes(after_deactivation.content,
                                                 policy=email.policy.default).get_content()


def test_delivery_stops_after_eight_failed_attempts(db, staff, promised, monkeypatch, frozen_clock):
    """A hook that never answers is tried exactly MAX_ATTEMPTS (8) times, each after its backoff, then left
    alone with its last error, however long the worker keeps running."""
    assert outbox.MAX_ATTEMPTS == 8
    received = []

    class Broken(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server hook)
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MINYI_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/minyi")
        extensions.urge(db, staff["leader"], promised.task_id("UserTask_handle_promised"))
        for attempt in range(1, 11):
            assert outbox.deliver(db) == 0
            (row,) = outbox_rows(db)
            assert row.attempts == min(attempt, 8) and row.sent_at is None and "503" in row.last_error
            frozen_clock.set(frozen_clock.value + timedelta(days=1))  # past any backoff
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 8
