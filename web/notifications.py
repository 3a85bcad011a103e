"""通知: each staff member's in-app notifications (reminders, overdue notices, escalations,
urging, 延期申请), the unread count in the header, and the working-calendar warning banner."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask_login import current_user

from engine import clock
from engine.bpmn import calendar
from engine.people import notifications

from .auth import require_login
from .deps import actor, db

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
bp.before_request(require_login)


@bp.get("")
def list_notifications():
    items = notifications.notifications_for(db(), actor())
    return render_template("notifications/list.html", items=items,
                           unread=sum(1 for n in items if not n.read))


@bp.post("/<int:notification_id>/read")
def mark_read(notification_id: int):
    notifications.mark_read(db(), actor(), notification_id)
    return redirect(url_for("notifications.list_notifications"))


@bp.post("/read-all")
def mark_all_read():
    count = notifications.mark_read(db(), actor())
    flash(f"已将 {count} 条通知标为已读", "success")
    return redirect(url_for("notifications.list_notifications"))


def _header() -> dict:
    """The unread count (read with the signed-in account, `auth.load_user`) and calendar warnings for the page
    header (signed-in staff only)."""
    if not current_user.is_authenticated:
        return {"unread_notifications": 0, "calendar_warnings": []}
    return {"unread_notifications": current_user.unread_notifications,
            "calendar_warnings": calendar.warnings_for(clock.today())}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_header)
