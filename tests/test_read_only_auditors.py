"""审计 reads every case and acts on none; a person acts only through their other roles."""
from __future__ import annotations

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Forbidden
from engine.people import users
from engine.work import casepages, cases
from tests.conftest import DATA, PASSWORD, deploy_file


def test_an_auditor_may_not_start_a_procedure_open_to_all_staff(db, staff):
    """A diagram without candidateStarterGroups is open to every member of staff, but not to 审计."""
    xml = (DATA / "approval.bpmn").read_text(encoding="utf-8").replace(' camunda:candidateStarterGroups="受理员"', "")
    deployments.deploy(db, xml.encode("utf-8"), "approval.bpmn", SYSTEM)
    with pytest.raises(Forbidden) as err:
        cases.start_case(db, staff["auditor"], "approval", {"title": "审计发起"})
    assert "审计人员只能查看" in err.value.message
    assert "approval" not in [p.process_id for p in cases.procedures_for(db, staff["auditor"])]
    assert cases.start_case(db, staff["handler"], "approval", {"title": "承办人发起"}).case_status == "running"


def test_an_auditor_who_is_also_a_clerk_comments_as_clerk_only(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    both = users.create_user(db, "clerk_auditor", PASSWORD, "钱受理", ["受理员", "审计"])
    own = cases.start_case(db, both, "approval", {"title": "自己登记的"}).case_number
    other = cases.start_case(db, staff["clerk"], "approval", {"title": "别人登记的"}).case_number
    cases.add_comment(db, both, own, "登记时补充")
    with pytest.raises(Forbidden) as err:
        cases.add_comment(db, both, other, "审计看到的")
    assert "审计人员只能查看" in err.value.message
    assert casepages.get_case(db, both, other).comments == ()  # still readable, unchanged
