"""What an audit event recorded, as an auditor reads it: Chinese labels, people by name, moments in
China time — never `due_at 2026-11-30T15:59:59+00:00` or `notified ['clerk']`. The stored event keeps
its exact data (it is hashed); this only words it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ

LABELS = {
    "due_at": "期限", "old_due": "原期限", "requested_due": "申请期限", "new_due": "批准期限",
    "notified": "已通知", "assignee": "指派给", "rule": "依据", "to": "上报至", "note": "说明",
    "reason": "原因", "released": "放回人", "kind": "公示类型", "publication": "公示编号",
    "ends_at": "公示截止", "linked": "关联事项", "message": "原因", "retry_at": "重试时间",
    "from": "原版本", "to_version": "新版本号", "from_version": "原版本号", "to_hash": "新版本摘要",
    "from_hash": "原版本摘要", "roles": "办理角色", "version": "版本摘要", "number": "受理编号",
    "outcome": "结果", "ends": "结束事件", "text": "内容", "via": "随事项一并答复", "objection": "网上异议编号",
}
PEOPLE = {"notified", "assignee", "released"}
MOMENTS = {"due_at", "old_due", "requested_due", "new_due", "ends_at", "retry_at"}
RULES = {"assignee": "流程图指定的办理人", "sameAssigneeAs": "由办过前面步骤的人接着办"}
# text: shown as the entry's own text; code_hash: a resident's follow-up code for an objection, never shown
HIDDEN = {"assignee_name", "values", "changes", "flows", "text", "code_hash"}


def people_in(events: Iterable[Mapping[str, Any]]) -> set[str]:
    """The usernames a set of event data names, to look their display names up in one query."""
    found: set[str] = set()
    for data in events:
        for key in PEOPLE & set(data):
            value = data[key]
            found.update(map(str, value) if isinstance(value, list) else [str(value)] if value else [])
    return found


def describe(data: Mapping[str, Any], names: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(label, text) for each recorded item worth showing, in the order recorded."""
    shown = []
    for key, value in data.items():
        if key in HIDDEN or value in (None, "", [], {}):
            continue
        shown.append((LABELS.get(key, key), _text(key, value, names)))
    return tuple(shown)


def _text(key: str, value: Any, names: Mapping[str, str]) -> str:
    if key in PEOPLE:
        people = value if isinstance(value, list) else [value]
        return "、".join(names.get(str(p), str(p)) for p in people)
    if key in MOMENTS:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{moment.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}" if moment.tzinfo else f"{moment:%Y-%m-%d %H:%M}"
    if key == "rule":
        return RULES.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(map(str, value))
    if value is True or value is False:
        return "是" if value else "否"
    return str(value)
