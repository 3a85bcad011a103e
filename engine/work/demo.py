"""Demo district, users and cases for a first look (`minyi demo`). Idempotent.

The district (示范区 清河区): 2 街道, 4 社区 (2 each), 8 网格 (2 each), three 职能部门 beside the 区 and two
包保单位 beside a 网格. The database's default unit, “本社区”, becomes 光明社区 under 城关街道: the demo users
every guide names (`clerk`, `leader` …) work there, so a database that already held work keeps it in one
社区. Every other unit gets its own users, named after it (`heping.clerk`, `guangming.wangge1`, `qu.auditor`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actor import SYSTEM, Actor
from engine.bpmn import deployments
from engine.errors import MinyiError
from engine.people import units
from engine.store.db import Database
from engine.store.models import Case, Unit, User

from . import cases, tasklist

PASSWORD = "minyi-demo-2026"  # noqa: S105 — the demo users' published password (README), only for `minyi demo`
# the demo users of the guides: in 光明社区, the default unit renamed — but `superior` (上级部门) works for its
# 街道, where a 上报件's 上级批复 goes (`unitLevel` 街道), see ELSEWHERE
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

DISTRICT = "清河区"
HOME = "光明社区"  # the default unit, renamed and moved under 城关街道
ELSEWHERE = {"superior": "城关街道"}  # USERS not in 光明社区: the unit they work in
STREETS = {"城关街道": ("chengguan", ["光明社区", "和平社区"]), "东城街道": ("dongcheng", ["新华社区", "幸福社区"])}
SLUGS = {"光明社区": "guangming", "和平社区": "heping", "新华社区": "xinhua", "幸福社区": "xingfu"}
GRIDS = ("第一网格", "第二网格")
DEPARTMENTS = {"区住建局": "zhujian", "区城管委": "chengguan", "区市场监管局": "shichang"}
PAIRED = {("光明社区", "第一网格"): ("区供电公司包保组", "gongdian"),
          ("新华社区", "第二网格"): ("区水务集团包保组", "shuiwu")}
SURNAMES = "刘杨黄吴徐孙胡朱郭何马罗梁宋谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏"


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    roles: tuple[str, ...]
    unit: str  # the unit's name as `_district` keys it ("和平社区", "和平社区/第一网格", "清河区")


def district_users() -> list[DemoUser]:
    """The users of every unit but 光明社区 (its users are `USERS`), named after their unit."""
    people: list[DemoUser] = []
    surnames = iter(SURNAMES)

    def add(username: str, title: str, roles: tuple[str, ...], unit: str) -> None:
        people.append(DemoUser(username, f"{next(surnames)}{title}", roles, unit))

    add("qu.admin", "管理员", ("管理员",), DISTRICT)
    add("qu.auditor", "审计", ("审计",), DISTRICT)
    add("qu.supervisor", "监督", ("民情监督员",), DISTRICT)
    add("qu.clerk", "受理", ("受理员",), DISTRICT)  # 区民情服务中心: a matter placed in no 社区 is the default unit's
    for street, (slug, communities) in STREETS.items():
        add(f"{slug}.superior", "科长", ("上级部门",), street)
        for community in communities:
            short = SLUGS[community]
            if community != HOME:
                add(f"{short}.clerk", "受理", ("受理员",), community)
                add(f"{short}.leader", "主任", ("社区负责人",), community)
                add(f"{short}.handler", "承办", ("承办人",), community)
            for number, grid in enumerate(GRIDS, 1):
                add(f"{short}.wangge{number}", "网格员", ("党员网格员", "民情信息员"), f"{community}/{grid}")
    for department, slug in DEPARTMENTS.items():  # a department's contact: its 部门报到 when the 街道 吹哨
        add(f"dept.{slug}", "联络员", ("联络员",), department)
    for (community, grid), (unit, slug) in PAIRED.items():
        add(f"bb.{slug}", "联络员", ("包保单位",), f"{community}/{grid}/{unit}")
    return people


def load(db: Database, processes: Path) -> list[str]:
    """Build the district, create the demo users, deploy the diagrams and register a few matters in several
    社区 and 网格; return what was done."""
    from engine.people import users

    done: list[str] = []
    with db.write() as session:
        existing = set(session.scalars(select(User.username)))
        has_cases = session.scalar(select(Case.id).limit(1)) is not None
        place = _district(session, done)
    home = place.get(HOME)
    for username, name, roles in USERS:
        if username not in existing:
            unit = place.get(ELSEWHERE.get(username, HOME)) or home
            users.create_user(db, username, PASSWORD, name, roles, unit_id=unit)
            done.append(f"用户 {username}({name},{'、'.join(roles)})")
    for person in district_users() if place else []:
        if person.username not in existing:
            users.create_user(db, person.username, PASSWORD, person.name, list(person.roles),
                              unit_id=place[person.unit])
            done.append(f"用户 {person.username}({person.name},{'、'.join(person.roles)},{_label(person.unit)})")
    for version, created in deployments.deploy_directory(db, processes, SYSTEM):
        if created:
            done.append(f"部署 {version.name} 版本 {version.hash[:12]}")
    if not has_cases and (processes / "minqing_liushuixian.bpmn").exists():
        done.extend(_demo_cases(db, place))
    return done


# -- the district ----------------------------------------------------------------------------------------

def _district(session: Session, done: list[str]) -> dict[str, int]:
    """The district's units by name ("和平社区", "和平社区/第一网格"), built around the default unit when it is
    still the only one; empty when an administrator has already built another tree (left as it is)."""
    roots = list(session.scalars(select(Unit).where(Unit.parent_id.is_(None))))
    if any(r.name == DISTRICT for r in roots):
        return _named(session, next(r for r in roots if r.name == DISTRICT))
    if session.scalar(select(func.count()).select_from(Unit)) > 1:
        done.append("已有单位结构,未建示范区")
        return {}
    home = units.get(session, units.default_unit(session))
    old_name = home.name
    district = units.create_unit(session, SYSTEM.username, DISTRICT, "区")
    for position, (street, (_, communities)) in enumerate(STREETS.items()):
        parent = units.create_unit(session, SYSTEM.username, street, "街道", district.id, position=position)
        for order, community in enumerate(communities):
            if community == HOME:
                _rename_and_move(session, home, HOME, parent, order)
                unit = home
            else:
                unit = units.create_unit(session, SYSTEM.username, community, "社区", parent.id, position=order)
            for number, grid in enumerate(GRIDS):
                made = units.create_unit(session, SYSTEM.username, grid, "网格", unit.id, position=number)
                paired = PAIRED.get((community, grid))
                if paired:
                    units.create_unit(session, SYSTEM.username, paired[0], "包保单位", made.id, beside=True)
    for position, department in enumerate(DEPARTMENTS):
        units.create_unit(session, SYSTEM.username, department, "职能部门", district.id, beside=True,
                          position=position)
    done.append(f"单位 {DISTRICT}:2 个街道、4 个社区、8 个网格、3 个职能部门、{len(PAIRED)} 个包保单位"
                f"(原“{old_name}”改名为{HOME})")
    return _named(session, district)


def _rename_and_move(session: Session, unit: Unit, name: str, parent: Unit, position: int) -> None:
    """The default unit becomes a 社区 of the district: renamed, put under `parent` with everything below it.
    (A private helper until the units module has its own rename and move.)"""
    old_path, new_path = unit.path, f"{parent.path}{unit.id}/"
    for below in session.scalars(select(Unit).where(Unit.path.startswith(old_path))):
        below.path = new_path + below.path[len(old_path):]
    units.record(session, SYSTEM.username, unit.id, "unit_renamed", {"from": unit.name, "to": name})
    units.record(session, SYSTEM.username, unit.id, "unit_moved", {"from": None, "to": parent.name})
    unit.name, unit.level, unit.parent_id, unit.position = name, "社区", parent.id, position
    session.flush()


def _named(session: Session, district: Unit) -> dict[str, int]:
    """Units below the 区 by their names joined below the 社区 ("光明社区/第一网格/区供电公司包保组"); the 区,
    街道, 社区 and 职能部门 by their own name."""
    found = {u.id: u for u in session.scalars(select(Unit).where(Unit.path.startswith(district.path)))}
    named: dict[str, int] = {}
    for unit in found.values():
        chain = [found[i] for i in reversed(units.ancestors(unit.path)) if i in found]
        below = [u.name for u in chain if u.level not in ("区", "街道")]
        named["/".join(below) or unit.name] = unit.id
    return named


def _label(key: str) -> str:
    """A unit's name as people read it: "光明社区第一网格" for a 网格, a 包保单位's own name."""
    parts = key.split("/")
    return parts[-1] if len(parts) > 2 else "".join(parts)


# -- the matters -----------------------------------------------------------------------------------------

MATTERS = [  # (who registers, where, channel, way, topic, title, description)
    ("clerk", HOME, "构筑平台及时受理", "民情热线", "水电气暖", "3号楼暖气不热",
     "3号楼2单元多户反映暖气温度低于16度。"),
    ("clerk", HOME, "政务大厅集中受理", "政务大厅窗口", "贫困救助", "申请临时救助", "居民因病致困,申请临时救助。"),
    ("clerk", f"{HOME}/第一网格", "走家入户上门受理", "民情信息员走访", "环境绿化", "小区东门垃圾堆放",
     "东门垃圾清运不及时,有异味。"),
    ("clerk", f"{HOME}/第二网格", "专门机构快速受理", "民情通呼叫中心", "社区治安", "楼道照明损坏",
     "5号楼楼道灯不亮,老人夜间出行不便。"),
    ("heping.clerk", "和平社区", "构筑平台及时受理", "民情热线", "邻里纠纷", "楼上漏水纠纷",
     "12号楼楼上漏水,两户协商未果。"),
    ("heping.clerk", "和平社区/第二网格", "走家入户上门受理", "民情信息员走访", "环境绿化", "绿地被占种菜",
     "8号楼前公共绿地被个别居民开垦种菜。"),
    ("xinhua.clerk", "新华社区/第一网格", "政务大厅集中受理", "政务大厅窗口", "医疗卫生", "老年人体检预约",
     "独居老人希望社区协助预约免费体检。"),
    ("xingfu.clerk", "幸福社区", "专门机构快速受理", "民情通呼叫中心", "水电气暖", "路灯不亮",
     "幸福路南段三盏路灯夜间不亮。"),
]


def _demo_cases(db: Database, place: dict[str, int]) -> list[str]:
    from engine.people import users as u

    actors = {a.username: a for a in u.list_users(db)}
    done = []
    for who, where, channel, way, topic, title, description in MATTERS:
        if who not in actors or (place and where not in place):
            continue
        try:
            result = cases.start_case(db, actors[who], "minqing_liushuixian", {
                "channel": channel, "channel_way": way, "topic": topic, "title": title,
                "description": description, "reporter_name": "居民", "address": _label(where),
            }, unit_id=place.get(where))
            done.append(f"事项 {result.case_number} {title}({_label(where)})")
        except MinyiError as exc:
            done.append(f"未能创建示例事项 {title}: {exc.message}")
    for leader in ("leader", "heping.leader"):
        _classify_first(db, actors.get(leader))
    return done


def _classify_first(db: Database, leader: Actor | None) -> None:
    """The leader has already classified the first matter of their queue: the demo starts with work under way."""
    if leader is None:
        return
    first = tasklist.tasks(db, leader, "queue").items
    if first:
        cases.complete_task(db, leader, first[0].id, {"kind": "即办件", "assign_note": "请当日处理"})
