"""A driver for 一征三议两公开 cases in tests: each step goes through the database."""
from __future__ import annotations

from typing import Any

from engine import clock
from engine.actor import Actor
from engine.public import publications
from engine.store.db import Database
from engine.work import casepages, cases, runtime
from engine.work.views import CaseView

CONSULTATION = {
    "title": "幸福小区环境综合整治",
    "description": "小区路面硬化、煤池改造、车位规划和绿化。",
    "topic": "小区整治",
    "consult_from": "2026-11-23",
    "consult_until": "2026-11-30",
    "way_survey": "true",
    "way_forum": "true",
}
# dates of what happened (意见日期, 会议日期) default to today, the day the tests record them
OPINION = {"opinion_way": "座谈会", "opinion_by": "刘大爷",
           "opinion_stance": "建议", "opinion_content": "车位优先规划给老年住户。"}
PROPOSAL = {"proposal": "硬化主路,拆除废弃煤池,新划车位 40 个,补种绿化。", "opinions_adopted": "采纳车位优先意见。"}
VOTE = {"members": "30", "present": "24", "votes_for": "20",
        "votes_against": "3", "abstain": "1", "signed_by": "全体与会代表"}
PUBLISH = {"resolution": "同意实施幸福小区环境综合整治方案。", "publish_channel": "公开栏"}
SIGNOFF = {"signoff_complete": "true", "signoff_timely": "true", "signoff_true": "true"}
HEARING = {"hearing_attendees": "居民代表 9 人", "hearing_statements": "多数支持,个别担心施工噪音。",
           "hearing_conclusion": "支持提交居民代表会议表决", "hearing_signed": "听证参加人"}


class Matter:
    """One matter under 一征三议两公开; `do` completes the named step as the given person."""

    def __init__(self, db: Database, staff: dict[str, Actor], process: str = "yizheng_sanyi", **start: Any):
        self.db, self.staff = db, staff
        values = {**CONSULTATION, **start} if process == "yizheng_sanyi" else start
        self.number = cases.start_case(db, staff["liangwei"], process, values).case_number

    def view(self) -> CaseView:
        return casepages.get_case(self.db, self.staff["auditor"], self.number)

    @property
    def waiting(self) -> list[str]:
        return [s.step_id for s in self.view().open_steps]

    def task_ids(self, step_id: str) -> list[int]:
        ids = [s.task_id for s in self.view().open_steps if s.step_id == step_id]
        assert ids, f"{step_id} is not waiting; waiting: {self.waiting}"
        return ids

    def do(self, step_id: str, who: str, task_id: int | None = None, **values: Any) -> None:
        runtime.forget_all()  # every step reloads the case from the database
        cases.complete_task(self.db, self.staff[who], task_id or self.task_ids(step_id)[0], values)

    def data(self) -> dict[str, Any]:
        return self.view().data

    def events(self, kind: str) -> list:
        return [e for e in self.view().history if e.kind == kind]

    def published(self, include_withdrawn: bool = False) -> list[publications.PublicationView]:
        return publications.of_case(self.db, self.number, include_withdrawn)

    # the usual stretches of the procedure
    def consult(self, *opinions: dict[str, Any]) -> None:
        """Register the opinions; the last one ends the 征集 — before its announced end, with a reason."""
        for i, opinion in enumerate(opinions):
            last = {"last_opinion": "false"}
            if i == len(opinions) - 1:
                last = {"last_opinion": "true"}
                if clock.today().isoformat() < self.data()["consult_until"]:
                    last["early_close_reason"] = "意见已充分,居民代表同意提前结束征集。"
            self.do("UserTask_opinion", "liangwei", **{**OPINION, **opinion, **last})
        self.do("UserTask_summary", "liangwei", opinion_summary="多数赞成整治,建议车位优先老年住户。")

    def propose_and_review(self, **proposal: Any) -> None:
        self.do("UserTask_propose", "liangwei", **{**PROPOSAL, **proposal})
        self.do("UserTask_review", "yishihui", review_decision="同意提交表决")

    def vote(self, **votes: Any) -> None:
        self.do("UserTask_vote", "daibiao", **{**VOTE, **votes})
