"""Upgrading a single-community database to units (migration 0011) loses nothing and changes nothing anyone sees.

The database is taken back to the previous head (8c1d5e7f3a20, before units) holding staff, 民情 cases with open
steps, a 一征三议两公开 matter with its resolution published, a resident's matter with photos, audit events; a role
is granted there in the old shape (no unit). After `upgrade`: one unit, “本社区”, holds every case, role and
queue row; the counts of case states, steps, audit events, attachments and publications are those of before;
both audit hash chains still verify; and every person's task lists are the same rows as before.
"""
from __future__ import annotations

from sqlalchemy import func, select, text

from engine.actor import SYSTEM
from engine.audit.verify import verify_database
from engine.bpmn import deployments
from engine.people import users
from engine.public import residents
from engine.public.attachments import Upload
from engine.store import migrate
from engine.store.db import Database
from engine.store.models import (Attachment, AuditEvent, Case, CaseState, HumanTask, HumanTaskRole, Publication,
                                 Unit, User, UserRole)
from engine.work import leaders, runtime, tasklist
from tests.conftest import PROCESSES
from tests.minqing import Matter as MinqingMatter
from tests.yizheng import PUBLISH
from tests.yizheng import Matter as YizhengMatter

BEFORE_UNITS = "8c1d5e7f3a20"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
KEPT = (CaseState, HumanTask, AuditEvent, Attachment, Publication, Case, User)


def counts(db: Database) -> dict[str, int]:
    """Rows per table, read with plain SQL (valid on either side of the migration)."""
    with db.engine.connect() as conn:
        return {m.__tablename__: conn.execute(text(f"SELECT count(*) FROM {m.__tablename__}")).scalar()  # noqa: S608
                for m in KEPT}


def task_lists(db: Database) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """Every active person's four lists: (task id, case number) in the order shown, and the tab counts."""
    found = {}
    for actor in users.list_users(db):
        for which in tasklist.LISTS:
            if which == "team" and not leaders.is_leader(actor):
                continue
            page = tasklist.tasks(db, actor, which, per_page=100)
            found[(actor.username, which)] = [(t.id, t.case_number) for t in page.items] + [("total", page.total)]
    return found


def fill(db: Database, staff: dict) -> None:
    """Work of a single community: open and finished 民情 cases, a published resolution, a resident's photo."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    waiting = MinqingMatter(db, staff)                       # at 分类交办, in the leader's queue
    assigned = MinqingMatter(db, staff, title="楼道照明损坏")
    assigned.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-30")  # with the 承办人
    answered = MinqingMatter(db, staff, title="小区东门垃圾堆放")
    answered.do("UserTask_classify", "leader", kind="即办件")
    answered.do("UserTask_handle_immediate", "handler", handling_result="已清运")
    answered.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已清运。",
                answered_at="2026-11-23", publish="true", public_summary="东门垃圾已清运。")
    resolution = YizhengMatter(db, staff)
    resolution.consult({})
    resolution.propose_and_review()
    resolution.vote()
    resolution.do("UserTask_publish", "gongzuo", **PUBLISH)
    residents.submit(db, {"topic": "水电气暖", "title": "5号楼停水", "description": "5号楼从昨天起停水。"},
                     [Upload("停水.png", PHOTO)])
    assert waiting.waiting and assigned.waiting


def test_upgrading_a_single_community_to_units_keeps_everything_in_the_default_unit(db, staff, frozen_clock):
    fill(db, staff)
    before, lists = counts(db), task_lists(db)
    assert before["publications"] == 2 and before["attachments"] == 1 and before["human_tasks"] > 10
    assert any(rows[:-1] for rows in lists.values())  # someone has work waiting
    migrate.downgrade(db, BEFORE_UNITS)
    try:
        with db.engine.begin() as conn:  # a role granted by the previous version, which knew no units
            assert "units" not in conn.dialect.get_table_names(conn)
            conn.execute(text("INSERT INTO user_roles (user_id, role) SELECT id, '民情监督员' FROM users "
                              "WHERE username = 'handler2'"))
        assert counts(db) == before
    finally:
        migrate.upgrade(db)
    runtime.forget_all()

    assert counts(db) == before
    with db.read() as session:
        assert session.execute(select(Unit.id, Unit.name, Unit.level, Unit.parent_id, Unit.path)).all() == [
            (1, "本社区", "社区", None, "/1/")]
        for column in (Case.unit_id, UserRole.unit_id, HumanTaskRole.unit_id):
            assert session.scalars(select(column).distinct()).all() == [1]
        assert session.scalar(select(func.count()).select_from(UserRole)) == len(staff) + 1
    verdict = verify_database(db)
    assert verdict.ok, verdict.broken
    assert verdict.events == before["audit_events"]
    everyone = {a.username: a for a in users.list_users(db)}
    assert everyone["handler2"].grants == {("承办人", 1), ("民情监督员", 1)}
    assert all(a.scope is None for a in everyone.values())  # one community: everyone sees all of it, as before
    assert task_lists(db) == lists  # a 民情监督员 has no step waiting: handler2's lists do not change either
