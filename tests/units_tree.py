"""A small district for tests of units: 东岗街道 with two 社区, each with a 网格, a 职能部门 beside the
街道, and the people of each unit (besides the default unit “本社区” every database has)."""
from __future__ import annotations

from dataclasses import dataclass

from engine import clock
from engine.actor import Actor
from engine.people import units, users
from engine.store.db import Database
from engine.work import casepages, cases
from tests.conftest import PASSWORD
from tests.minqing import INTAKE, PROCESS


@dataclass
class District:
    street: int
    guangming: int
    xingfu: int
    guangming_grid: int
    xingfu_grid: int
    department: int
    people: dict[str, Actor]


def build(db: Database) -> District:
    with db.write() as session:
        street = units.create_unit(session, "system", "东岗街道", "街道").id
        guangming = units.create_unit(session, "system", "光明社区", "社区", street, position=1).id
        xingfu = units.create_unit(session, "system", "幸福社区", "社区", street, position=2).id
        guangming_grid = units.create_unit(session, "system", "第一网格", "网格", guangming).id
        xingfu_grid = units.create_unit(session, "system", "第一网格", "网格", xingfu).id
        department = units.create_unit(session, "system", "区住建局", "职能部门", street, beside=True).id
    people = {
        "gm_clerk": ("光明受理", ["受理员"], guangming),
        "gm_leader": ("光明主任", ["社区负责人"], guangming),
        "gm_handler": ("光明承办", ["承办人"], guangming),
        "xf_clerk": ("幸福受理", ["受理员"], xingfu),
        "xf_leader": ("幸福主任", ["社区负责人"], xingfu),
        "xf_handler": ("幸福承办", ["承办人"], xingfu),
        "street_office": ("街道办", ["上级部门"], street),
        "street_auditor": ("街道审计", ["审计"], street),
    }
    made = {name: users.create_user(db, name, PASSWORD, display, roles, unit_id=unit)
            for name, (display, roles, unit) in people.items()}
    return District(street, guangming, xingfu, guangming_grid, xingfu_grid, department, made)


def published(db, district: District, community: str, title: str) -> str:
    """A matter of that community answered and put on the board (集中式公示) by its own people."""
    prefix = "gm" if community == "guangming" else "xf"
    p = district.people
    number = cases.start_case(db, p[f"{prefix}_clerk"], PROCESS, {**INTAKE, "title": title},
                              unit_id=getattr(district, community)).case_number

    def do(step_id: str, who: str, **values) -> None:
        view = casepages.get_case(db, p["street_auditor"], number)
        task = next(s for s in view.open_steps if s.step_id == step_id)
        cases.complete_task(db, p[f"{prefix}_{who}"], task.task_id, values)

    do("UserTask_classify", "leader", kind="即办件")
    do("UserTask_handle_immediate", "handler", handling_result="已修复")
    do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已修复",
       answered_at=clock.today().isoformat(), publish="true", public_summary=f"{title}已解决。")
    return number
