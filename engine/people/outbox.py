"""The outbound hook: notifications sent by e-mail (SMTP) or to a webhook. Off by default.

Configured only through environment variables, so no secret lives in the repository:
  MINYI_WEBHOOK_URL        http(s) URL that receives each notification as a JSON POST
  MINYI_SMTP_HOST          SMTP server: each notification is mailed to the e-mail address of every
                           notified staff member who has one (用户管理 / 我的账户)
  MINYI_SMTP_TO            optional fixed recipients (comma-separated) who get a copy of every one,
                           e.g. a duty mailbox
  MINYI_SMTP_PORT (25), MINYI_SMTP_FROM, MINYI_SMTP_USER, MINYI_SMTP_PASSWORD,
  MINYI_SMTP_STARTTLS (1 to upgrade the connection), MINYI_HOOK_TIMEOUT (seconds, 10)

Rows are written in the transaction that caused them and delivered by the worker,
each under its own row lock; a failure is retried with exponential backoff. A
crash between sending and committing can send a message twice (at least once).
"""
from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.store.db import Database
from engine.store.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = timedelta(seconds=30)


def channels() -> list[str]:
    found = []
    if os.environ.get("MINYI_SMTP_HOST"):
        found.append("email")
    if os.environ.get("MINYI_WEBHOOK_URL", "").startswith(("http://", "https://")):
        found.append("webhook")
    return found


def configured() -> bool:
    return bool(channels())


def enqueue(session: Session, payload: dict[str, Any], emails: list[str] | None = None) -> None:
    """One message per configured channel. The e-mail goes to `emails` (the notified people's own
    addresses, fixed when the message is written) and to MINYI_SMTP_TO; with neither, none is queued."""
    now = clock.now()
    for channel in channels():
        if channel == "email":
            to = list(dict.fromkeys([*(emails or []), *_fixed_recipients()]))
            if not to:
                continue
            session.add(OutboxMessage(channel=channel, payload={**payload, "to": to}, created_at=now, attempts=0))
        else:
            session.add(OutboxMessage(channel=channel, payload=payload, created_at=now, attempts=0))


def _fixed_recipients() -> list[str]:
    return [a.strip() for a in os.environ.get("MINYI_SMTP_TO", "").split(",") if a.strip()]


def next_attempt(row: OutboxMessage) -> datetime:
    """Backoff without a column: attempt n waits 30 s × (2ⁿ − 1) after the row was written."""
    return row.created_at + BACKOFF * (2 ** row.attempts - 1)


def deliver(db: Database, limit: int = 50) -> int:
    """Send what is due; returns how many messages went out."""
    now = clock.now()
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id).limit(limit)).all()
        due = [row.id for row in rows if next_attempt(row) <= now]
    return sum(_deliver_one(db, message_id) for message_id in due)


def _deliver_one(db: Database, message_id: int) -> bool:
    with db.write() as session:
        query = select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        row = session.scalar(query)
        if row is None:
            return False
        try:
            send(row.channel, row.payload)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("outbox message %s (%s) failed, attempt %s: %s", row.id, row.channel,
                        row.attempts, row.last_error)
            return False
        row.attempts += 1
        row.sent_at = clock.now()
        return True


def send(channel: str, payload: dict[str, Any]) -> None:
    timeout = float(os.environ.get("MINYI_HOOK_TIMEOUT", "10"))
    if channel == "webhook":
        _post(os.environ.get("MINYI_WEBHOOK_URL", ""), payload, timeout)
    elif channel == "email":
        _mail(payload, timeout)
    else:
        raise ValueError(f"unknown outbox channel {channel!r}")


def _post(url: str, payload: dict[str, Any], timeout: float) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError("MINYI_WEBHOOK_URL must be an http(s) URL")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 — scheme checked above
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — scheme checked above
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        status = exc.code
    if status >= 300:
        raise OSError(f"webhook answered HTTP {status}")


def _mail(payload: dict[str, Any], timeout: float) -> None:
    env = os.environ
    message = EmailMessage()
    message["Subject"] = f"[民议] {payload.get('kind_name', '')} {payload.get('case_number') or ''}".strip()
    message["From"] = env.get("MINYI_SMTP_FROM", "minyi@localhost")
    # messages queued before per-person addresses existed carry no "to": they go to MINYI_SMTP_TO
    to = payload.get("to") or _fixed_recipients()
    if not to:
        raise ValueError("no recipient: the notified people have no e-mail address and MINYI_SMTP_TO is empty")
    message["To"] = ", ".join(to)
    people = "、".join(u for u in payload.get("users", []) if u)
    message.set_content(f"{payload.get('text', '')}\n\n通知对象:{people}\n")
    with smtplib.SMTP(env["MINYI_SMTP_HOST"], int(env.get("MINYI_SMTP_PORT", "25")), timeout=timeout) as smtp:
        if env.get("MINYI_SMTP_STARTTLS") == "1":
            smtp.starttls()
        if env.get("MINYI_SMTP_USER"):
            smtp.login(env["MINYI_SMTP_USER"], env.get("MINYI_SMTP_PASSWORD", ""))
        smtp.send_message(message)
