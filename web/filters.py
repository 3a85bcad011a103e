"""Template filters: times in China Standard Time, values as staff read them."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask

from engine import clock
from engine.clock import CHINA_TZ
from engine.public import attachments
from engine.work import tasklist

EVENT_NAMES = {
    "case_started": "登记受理",
    "task_ready": "进入步骤",
    "task_completed": "办理完成",
    "task_claimed": "认领",
    "task_unclaimed": "放回",
    "task_assigned": "指派",
    "comment": "意见",
    "case_linked": "关联事项",
    "case_completed": "办结",
    "finding": "监督发现",
    "published": "公示发布",
    "publication_withdrawn": "公示撤回",
    "gateway_decided": "流程分支",
    "timer_fired": "定时器触发",
    "timer_failed": "定时器触发失败(稍后重试)",
    "timer_recomputed": "定时器按新的放假通知重算",
    "deadline_recomputed": "期限按新的放假通知重算",
    "reminder": "到期提醒",
    "overdue": "逾期",
    "escalated": "逾期督办通知",
    "urged": "催办",
    "extension_requested": "延期申请",
    "extension_approved": "延期批准",
    "extension_refused": "延期未批准",
    "expression_failed": "流程图表达式无法计算",
    "followup_code_issued": "打印受理回执(发放查询码)",
    "objection_received": "居民网上异议",
    "case_moved": "转办",
}
STATUS_NAMES = {"running": "办理中", "completed": "已办结", "READY": "待办", "COMPLETED": "已完成",
                "CANCELLED": "已取消"}


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"


def day(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(CHINA_TZ)
    return f"{value:%Y-%m-%d}"


def shown(value: Any) -> str:
    """A stored form value as text: 是/否 for booleans, a dash for nothing, a list's items one after another."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(shown(item) for item in value)
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


def filesize(size: int) -> str:
    """A file's size as people read it: 820 字节, 34 KB, 2.5 MB."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def capped(count: int) -> str:
    """A tab or list count as shown: counting stops past the cap, so “99+” (tasklist.COUNT_CAP)."""
    return f"{tasklist.COUNT_CAP}+" if count > tasklist.COUNT_CAP else str(count)


def checked(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "on", "1", "yes", "是"}


def init_app(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_test(lambda these, those: bool(set(these) & set(those)), "intersects")
    app.add_template_filter(day)
    app.add_template_filter(shown)
    app.add_template_filter(checked)
    app.add_template_filter(filesize)
    app.add_template_filter(capped)
    app.add_template_global({kind: label for kind, (_, label) in attachments.TYPES.items()}, "file_kinds")
    app.add_template_global(EVENT_NAMES, "event_names")
    app.add_template_global(STATUS_NAMES, "status_names")
    app.context_processor(lambda: {"now": clock.now()})
