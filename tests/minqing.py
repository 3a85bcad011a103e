"""A driver for 民情流水线 cases in tests: each step goes through the database."""
from __future__ import annotations

from typing import Any

from engine.actor import Actor
from engine.store.db import Database
from engine.work import casepages, cases, runtime
from engine.work.views import CaseView

PROCESS = "minqing_liushuixian"
INTAKE = {
    "channel": "构筑平台及时受理",
    "channel_way": "民情热线",
    "topic": "水电气暖",
    "title": "3号楼暖气不热",
    "description": "3号楼2单元多户反映暖气温度低于16度。",
    "reporter_name": "刘大爷",
    "reporter_contact": "13800001111",
    "address": "示范社区3号楼2单元",
    "grid": "第三网格",
}


class Matter:
    """One 民情事项 being worked; `do` completes the named step as the given person."""

    def __init__(self, db: Database, staff: dict[str, Actor], **intake: Any):
        self.db, self.staff = db, staff
        started = cases.start_case(db, staff["clerk"], PROCESS, {**INTAKE, **intake})
        self.number = started.case_number

    def view(self) -> CaseView:
        return casepages.get_case(self.db, self.staff["auditor"], self.number)

    @property
    def waiting(self) -> list[str]:
        """Step ids waiting for people, in order."""
        return [s.step_id for s in self.view().open_steps]

    def task_id(self, step_id: str) -> int:
        steps = [s for s in self.view().open_steps if s.step_id == step_id]
        assert steps, f"{step_id} is not waiting; waiting: {self.waiting}"
        return steps[0].task_id

    def do(self, step_id: str, who: str, **values: Any) -> None:
        runtime.forget_all()  # every step reloads the case from the database
        cases.complete_task(self.db, self.staff[who], self.task_id(step_id), values)

    def data(self) -> dict[str, Any]:
        return self.view().data

    def history_steps(self) -> list[str]:
        return [e.step_id for e in self.view().history if e.kind == "task_completed"]
