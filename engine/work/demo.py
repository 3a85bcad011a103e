"""Demo users and cases for a first look (`minyi demo`). Idempotent."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import MinyiError
from engine.store.db import Database
from engine.store.models import Case, User

from . import cases, tasklist

PASSWORD = "minyi-demo-2026"  # noqa: S105 — the demo users' published password (README), only for `minyi demo`
USERS = [
    ("clerk", "王受理", ["受理员"]),
    ("leader", "李主任", ["社区负责人"]),
    ("handler", "张承办", ["承办人"]),
    ("handler2", "赵承办", ["承办人"]),
    ("superior", "街道民政科", ["上级部门"]),
    ("supervisor", "陈监督", ["民情监督员"]),
    ("auditor", "孙审计", ["审计"]),
    ("liangwei", "周书记", ["社区“两委”"]),
    ("yishihui", "吴议事", ["党员议事会"]),
    ("daibiao", "郑记录", ["居民代表会议"]),
    ("gongzuo", "冯干事", ["社区工作人员"]),
    ("jianwei", "钱监委", ["居务监督委员会"]),
    ("xinxiyuan", "何信息员", ["民情信息员"]),
    ("zhibu", "罗支书", ["社区党支部"]),
    ("baobao", "区住建局包保组", ["包保单位"]),
    ("wangge", "高网格员", ["党员网格员"]),
    ("zhiyuan", "林志愿者", ["志愿服务队"]),
    ("designer", "周设计", ["流程设计人员"]),
    ("admin", "管理员", ["管理员", "受理员", "社区负责人"]),
]


def load(db: Database, processes: Path) -> list[str]:
    """Create the demo users, deploy the diagrams and register a few matters; return what was done."""
    from engine.people import users

    done: list[str] = []
    with db.read() as session:
        existing = set(session.scalars(select(User.username)))
        has_cases = session.scalar(select(Case.id).limit(1)) is not None
    for username, name, roles in USERS:
        if username not in existing:
            users.create_user(db, username, PASSWORD, name, roles)
            done.append(f"用户 {username}({name},{'、'.join(roles)})")
    for version, created in deployments.deploy_directory(db, processes, SYSTEM):
        if created:
            done.append(f"部署 {version.name} 版本 {version.hash[:12]}")
    if not has_cases and (processes / "minqing_liushuixian.bpmn").exists():
        done.extend(_demo_cases(db))
    return done


def _demo_cases(db: Database) -> list[str]:
    from engine.people import users as u

    actors = {a.username: a for a in u.list_users(db)}
    matters = [
        ("构筑平台及时受理", "民情热线", "水电气暖", "3号楼暖气不热", "3号楼2单元多户反映暖气温度低于16度。"),
        ("政务大厅集中受理", "政务大厅窗口", "贫困救助", "申请临时救助", "居民因病致困,申请临时救助。"),
        ("走家入户上门受理", "民情信息员走访", "环境绿化", "小区东门垃圾堆放", "东门垃圾清运不及时,有异味。"),
        ("专门机构快速受理", "民情通呼叫中心", "社区治安", "楼道照明损坏", "5号楼楼道灯不亮,老人夜间出行不便。"),
    ]
    done = []
    for channel, way, topic, title, description in matters:
        try:
            result = cases.start_case(db, actors["clerk"], "minqing_liushuixian", {
                "channel": channel, "channel_way": way, "topic": topic, "title": title,
                "description": description, "reporter_name": "居民", "address": "示范社区",
            })
            done.append(f"事项 {result.case_number} {title}")
        except MinyiError as exc:
            done.append(f"未能创建示例事项 {title}: {exc.message}")
    first = tasklist.tasks(db, actors["leader"], "queue").items
    if first:
        cases.complete_task(db, actors["leader"], first[0].id, {"kind": "即办件", "assign_note": "请当日处理"})
    return done
