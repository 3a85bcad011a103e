"""`minyi demo`: a small district around the default unit, users in each unit, matters spread over it.

The rules: the default unit “本社区” becomes 光明社区 (same id, so work already there stays) under 城关街道 of
清河区; the guides' demo users (`clerk`, `leader` …) work in 光明社区; each other 社区, each 网格, each 街道, the
区, the three 职能部门 and the 包保单位 have their own users; the matters are registered in several 社区 and
网格 and each 社区's leader finds only their own; running it again changes nothing; a database whose
administrator already built units keeps its tree.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from engine import clock
from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.people import units, users
from engine.store import migrate
from engine.store.db import Database
from engine.store.models import Case, Unit, UnitEvent, User, UserRole
from engine.work import casepages, cases, demo, runtime, tasklist
from tests.conftest import PASSWORD, PG_ADMIN_URL, PROCESSES, TEST_DAY, skip_without_pg
from tests.minqing import INTAKE

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def district(request, tmp_path_factory):
    """One database per engine with the demo loaded once (the tests below only read it)."""
    admin, name = None, f"minyi_demo_{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    else:
        if request.getfixturevalue("pg_url") is None:
            skip_without_pg()
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    database = Database(url)
    migrate.upgrade(database)
    runtime.forget_all()
    clock.set_clock(clock.running_from(TEST_DAY))  # loaded on the day its tests run on (set before each test)
    database.output = demo.load(database, PROCESSES)
    yield database
    runtime.forget_all()
    database.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tree(db: Database) -> list[tuple[int, str, str, bool]]:
    """(depth, name, level, beside) of every unit in tree order."""
    with db.read() as session:
        return [(u.depth, u.name, u.level, u.beside) for u in units.all_units(session)]


def actors(db: Database) -> dict:
    return {a.username: a for a in users.list_users(db)}


def unit_of(db: Database, name: str) -> int:
    with db.read() as session:
        return session.scalar(select(Unit.id).where(Unit.name == name))


def queue_titles(db: Database, actor) -> set[str]:
    return {t.case_title for t in tasklist.tasks(db, actor, "queue", per_page=100).items}


def test_the_district_is_one_区_two_街道_four_社区_eight_网格_with_职能部门_and_包保单位_beside_it(district):
    assert tree(district) == [
        (0, "清河区", "区", False),
        (1, "城关街道", "街道", False),
        (2, "光明社区", "社区", False), (3, "第一网格", "网格", False), (4, "区供电公司包保组", "包保单位", True),
        (3, "第二网格", "网格", False),
        (2, "和平社区", "社区", False), (3, "第一网格", "网格", False), (3, "第二网格", "网格", False),
        (1, "东城街道", "街道", False),
        (2, "新华社区", "社区", False), (3, "第一网格", "网格", False), (3, "第二网格", "网格", False),
        (4, "区水务集团包保组", "包保单位", True),
        (2, "幸福社区", "社区", False), (3, "第一网格", "网格", False), (3, "第二网格", "网格", False),
        (1, "区住建局", "职能部门", True), (1, "区城管委", "职能部门", True), (1, "区市场监管局", "职能部门", True),
    ]
    assert ("单位 清河区:2 个街道、4 个社区、8 个网格、3 个职能部门、2 个包保单位(原“本社区”改名为光明社区)"
            in district.output)


def test_本社区_becomes_光明社区_under_城关街道_keeping_its_id_and_the_change_is_recorded(district):
    with district.read() as session:
        home = units.get(session, 1)
        street = units.get(session, home.parent_id)
        assert (home.name, home.level, street.name) == ("光明社区", "社区", "城关街道")
        assert home.path == f"{street.path}1/" and units.default_unit(session) == unit_of(district, "清河区")
        changes = {e.kind: e.data for e in session.scalars(select(UnitEvent).where(UnitEvent.unit_id == 1))}
    assert changes["unit_renamed"] == {"from": "本社区", "to": "光明社区"}
    assert changes["unit_moved"] == {"from": None, "to": "城关街道"}


def test_the_guides_demo_users_work_in_光明社区_and_see_only_it(district):
    everyone = actors(district)
    for username, _, roles in demo.USERS:
        unit = unit_of(district, demo.ELSEWHERE[username]) if username in demo.ELSEWHERE else 1
        assert everyone[username].grants == {(role, unit) for role in roles}, username
    with district.read() as session:
        assert units.sees(session, everyone["leader"], unit_of(district, "光明社区"))
        assert not units.sees(session, everyone["leader"], unit_of(district, "和平社区"))


def test_every_unit_has_its_own_users_named_after_it(district):
    with district.read() as session:
        held = session.execute(select(User.username, UserRole.role, Unit.name, Unit.level)
                               .join(UserRole, UserRole.user_id == User.id)
                               .join(Unit, Unit.id == UserRole.unit_id)).all()
        levels = dict(session.execute(select(Unit.id, Unit.level)).all())
    staffed = {(name, level) for _, _, name, level in held}
    with district.read() as session:
        every = {(u.name, u.level) for u in units.all_units(session)}
    assert staffed == every  # no unit without people
    roles = {(username, role, name) for username, role, name, _ in held}
    assert {("qu.admin", "管理员", "清河区"), ("qu.auditor", "审计", "清河区"), ("qu.clerk", "受理员", "清河区"),
            ("chengguan.superior", "上级部门", "城关街道"), ("dongcheng.superior", "上级部门", "东城街道"),
            ("heping.clerk", "受理员", "和平社区"), ("heping.leader", "社区负责人", "和平社区"),
            ("heping.handler", "承办人", "和平社区"), ("xinhua.wangge2", "党员网格员", "第二网格"),
            ("dept.zhujian", "联络员", "区住建局"), ("dept.chengguan", "联络员", "区城管委"),
            ("dept.shichang", "联络员", "区市场监管局"), ("superior", "上级部门", "城关街道"),
            ("bb.gongdian", "包保单位", "区供电公司包保组"),
            ("bb.shuiwu", "包保单位", "区水务集团包保组")} <= roles
    assert sum(1 for level in levels.values() if level == "网格") == 8
    everyone = actors(district)
    assert everyone["qu.auditor"].scope is None  # the 区 sees the whole district
    assert everyone["xingfu.leader"].scope == frozenset(_paths(district, "幸福社区"))


def _paths(db: Database, name: str) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Unit.path).where(Unit.name == name)))


def test_the_matters_are_spread_over_社区_and_网格_and_each_leader_finds_only_their_own(district):
    with district.read() as session:
        placed = dict(session.execute(select(Case.title, Unit.name).join(Unit, Unit.id == Case.unit_id)).all())
    assert placed == {"3号楼暖气不热": "光明社区", "申请临时救助": "光明社区", "小区东门垃圾堆放": "第一网格",
                      "楼道照明损坏": "第二网格", "楼上漏水纠纷": "和平社区", "绿地被占种菜": "第二网格",
                      "老年人体检预约": "第一网格", "路灯不亮": "幸福社区"}
    everyone = actors(district)
    # 光明社区's and 和平社区's leaders have each classified their first matter already
    assert queue_titles(district, everyone["leader"]) == {"申请临时救助", "小区东门垃圾堆放", "楼道照明损坏"}
    assert queue_titles(district, everyone["heping.leader"]) == {"绿地被占种菜"}
    assert queue_titles(district, everyone["xinhua.leader"]) == {"老年人体检预约"}
    assert queue_titles(district, everyone["xingfu.leader"]) == {"路灯不亮"}
    assert queue_titles(district, everyone["handler"]) == {"3号楼暖气不热"}
    assert queue_titles(district, everyone["heping.handler"]) == {"楼上漏水纠纷"}
    with district.read() as session:
        for who, count in (("qu.auditor", 8), ("qu.supervisor", 8), ("auditor", 4), ("supervisor", 4)):
            condition = casepages.visible(session, everyone[who])
            query = select(func.count()).select_from(Case)
            assert session.scalar(query if condition is None else query.where(condition)) == count, who


def test_running_the_demo_again_changes_nothing(district):
    def counts():
        with district.read() as session:
            return [session.scalar(select(func.count()).select_from(m)) for m in (Unit, User, UserRole, Case)]

    before = counts()
    assert before == [20, 19 + len(demo.district_users()), before[2], 8]
    assert demo.load(district, PROCESSES) == []
    assert counts() == before


def test_work_already_in_本社区_stays_with_光明社区_and_its_leader(db):
    clerk = users.create_user(db, "clerk", PASSWORD, "王受理", ["受理员"])
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    number = cases.start_case(db, clerk, "minqing_liushuixian", INTAKE).case_number
    output = demo.load(db, PROCESSES)
    assert not any(line.startswith("事项") for line in output)  # a database with cases gets no demo matters
    with db.read() as session:
        assert session.scalar(select(Unit.name).join(Case, Case.unit_id == Unit.id).where(Case.number == number)) \
            == "光明社区"
    leader = actors(db)["leader"]
    assert [t.case_number for t in tasklist.tasks(db, leader, "queue").items] == [number]
    assert [t.case_number for t in tasklist.tasks(db, actors(db)["heping.leader"], "queue").items] == []


def test_a_database_whose_administrator_built_units_keeps_its_tree(db):
    with db.write() as session:
        units.create_unit(session, "admin", "第一网格", "网格", units.default_unit(session))
    before = tree(db)
    output = demo.load(db, PROCESSES)
    assert "已有单位结构,未建示范区" in output
    assert tree(db) == before
    everyone = actors(db)
    assert set(everyone) == {u for u, _, _ in demo.USERS}  # no district users without the district
    assert everyone["clerk"].grants == {("受理员", 1)}
    with db.read() as session:  # the guides' matters are registered, in the clerk's unit
        assert session.scalars(select(Case.unit_id).distinct()).all() == [1]
        assert session.scalar(select(func.count()).select_from(Case)) == 4
