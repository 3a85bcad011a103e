"""一征 closed before its announced period ends (issue #17: a consultation announced for a week closed on
its first day). Ending the 征集 early asks for a reason; the reason shows on the case and on the board."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import InvalidInput
from tests.conftest import PROCESSES
from tests.yizheng import OPINION, PROPOSAL, PUBLISH, Matter

REASON = "座谈会已覆盖全部楼栋,居民代表同意提前结束。"


@pytest.fixture
def procedure(db, staff, frozen_clock):
    """Deployed; today is 2026-11-23 and the announced period runs to 2026-11-30."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def test_ending_the_consultation_before_its_announced_end_needs_a_reason(procedure, staff):
    m = Matter(procedure, staff)
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_opinion", "liangwei", **OPINION, last_opinion="true")
    assert err.value.fields == {"early_close_reason": "此项为必填项"}
    assert m.waiting == ["UserTask_opinion"] and not m.data().get("opinions")


def test_the_reason_is_kept_on_the_case_and_shown_on_the_board_with_the_resolution(procedure, staff):
    m = Matter(procedure, staff)
    m.do("UserTask_opinion", "liangwei", **OPINION, last_opinion="true", early_close_reason=REASON)
    assert m.waiting == ["UserTask_summary"] and m.data()["early_close_reason"] == REASON
    [entry] = [e for e in m.view().history if e.step_id == "UserTask_opinion" and e.kind == "task_completed"]
    assert entry.data["values"]["early_close_reason"] == REASON
    m.do("UserTask_summary", "liangwei", opinion_summary="多数赞成。")
    m.do("UserTask_propose", "liangwei", **PROPOSAL)
    m.do("UserTask_review", "yishihui", review_decision="同意提交表决")
    m.vote()
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    [board] = m.published()
    assert ("提前结束征集的原因", REASON) in board.body
    assert ("征求意见截止日期", "2026-11-30") in board.body


def test_ending_on_the_announced_last_day_needs_no_reason(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    frozen_clock.set(datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc))
    m.do("UserTask_opinion", "liangwei", **OPINION, last_opinion="true")
    assert m.waiting == ["UserTask_summary"]


def test_a_reason_without_ending_early_is_refused(procedure, staff):
    m = Matter(procedure, staff)
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_opinion", "liangwei", **OPINION, last_opinion="false", early_close_reason=REASON)
    assert err.value.fields == {"early_close_reason": "只有在截止日期前结束征集时才填写原因"}
