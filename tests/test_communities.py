"""Residents and their 社区 (issue #18): a resident submitting online names their 社区 (and may name
their 网格), and the matter belongs there; each 社区 has its own public board and 办事指南, a 街道's
board shows all of its 社区; a publication belongs to its case's unit and moves with it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import InvalidInput, NotFound
from engine.people.units import UnitView
from engine.public import communities, procedures_page, publications, residents
from engine.store.models import Case
from engine.work import casepages, tasklist, transfer
from tests.conftest import PROCESSES
from tests.units_tree import District, build, published

MATTER = {"topic": "水电气暖", "title": "5号楼停水", "description": "5号楼从昨天起停水。"}


@pytest.fixture
def line(db, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


@pytest.fixture
def district(line) -> District:
    return build(line)


def unit(id: int, level: str, parent: int | None, path: str) -> UnitView:
    return UnitView(id, f"{level}{id}", level, parent, False, path, False)


def test_the_community_level_is_the_level_of_the_units_holding_the_leaves():
    tree = [unit(1, "镇", None, "/1/"), unit(2, "村", 1, "/1/2/"), unit(3, "组", 2, "/1/2/3/"),
            unit(4, "村", 1, "/1/4/")]  # 村4 has no 组 yet: a community all the same
    assert communities.community_level(tree) == "村"
    assert [u.id for u in communities.communities_in(tree)] == [2, 4]


def test_社区_is_the_community_level_even_before_any_社区_has_a_网格():
    tree = [unit(1, "街道", None, "/1/"), unit(2, "社区", 1, "/1/2/"), unit(3, "社区", 1, "/1/3/")]
    assert [u.id for u in communities.communities_in(tree)] == [2, 3]


def test_a_tree_of_one_unit_is_its_own_community():
    assert [u.id for u in communities.communities_in([unit(1, "社区", None, "/1/")])] == [1]


def test_with_a_single_community_the_resident_chooses_nothing_and_the_matter_goes_there(line):
    assert residents.submit_form(line).places == ()
    receipt = residents.submit(line, MATTER, [])
    with line.read() as session:
        assert session.scalar(select(Case.unit_id).where(Case.number == receipt.number)) == 1


def test_with_several_communities_the_resident_must_choose_one(district, line):
    form = residents.submit_form(line)
    community, grid = form.places
    assert community.label == "所在社区" and community.required
    assert [c.name for c in community.choices] == ["东岗街道 › 光明社区", "东岗街道 › 幸福社区", "本社区"]
    assert grid.label == "所在网格(可不选)" and not grid.required and grid.depends_on == "community_id"
    assert grid.offered_for(str(district.guangming_grid)) == (str(district.guangming),)
    with pytest.raises(InvalidInput) as err:
        residents.submit(line, MATTER, [])
    assert err.value.fields == {"community_id": "请选择所在社区"}
    with line.read() as session:
        assert session.scalar(select(func.count(Case.id))) == 0


def test_the_matter_goes_to_the_chosen_community_and_its_clerk_verifies_it(district, line):
    receipt = residents.submit(line, {**MATTER, "community_id": str(district.xingfu)}, [])
    p = district.people
    assert [t.case_number for t in tasklist.tasks(line, p["xf_clerk"], "queue").items] == [receipt.number]
    assert tasklist.tasks(line, p["gm_clerk"], "queue").total == 0


def test_a_chosen_grid_takes_the_matter_and_fills_the_forms_grid(district, line):
    receipt = residents.submit(line, {**MATTER, "community_id": str(district.guangming),
                                      "grid_id": str(district.guangming_grid)}, [])
    view = casepages.get_case(line, district.people["street_auditor"], receipt.number)
    assert view.data["grid"] == "第一网格"
    with line.read() as session:
        assert session.scalar(select(Case.unit_id).where(Case.number == receipt.number)) == district.guangming_grid
    # nobody holds 受理员 in the 网格: its 社区's clerk verifies
    assert [t.case_number for t in tasklist.tasks(line, district.people["gm_clerk"], "queue").items] == [
        receipt.number]


def test_the_residents_own_words_for_the_grid_are_kept(district, line):
    receipt = residents.submit(line, {**MATTER, "community_id": str(district.guangming), "grid": "3号楼网格",
                                      "grid_id": str(district.guangming_grid)}, [])
    assert casepages.get_case(line, district.people["street_auditor"], receipt.number).data["grid"] == "3号楼网格"


@pytest.mark.parametrize(("grid", "message"), [("xingfu_grid", "所选网格不在所选社区内,请重新选择"),
                                               ("missing", "所选网格不存在"),
                                               ("department", "所选网格不存在")])
def test_a_grid_must_be_one_of_the_chosen_community(district, line, grid, message):
    grid_id = 9999 if grid == "missing" else getattr(district, grid)
    with pytest.raises(InvalidInput) as err:
        residents.submit(line, {**MATTER, "community_id": str(district.guangming), "grid_id": str(grid_id)}, [])
    assert err.value.fields == {"grid_id": message}


@pytest.mark.parametrize("value", ["光明社区", "9999"])
def test_a_community_not_in_the_list_is_refused(district, line, value):
    with pytest.raises(InvalidInput) as err:
        residents.submit(line, {**MATTER, "community_id": value}, [])
    assert set(err.value.fields) == {"community_id"}


# --- each 社区's board ---------------------------------------------------------------------------

def titles(page) -> set[str]:
    return {e.title for e in page.items}


def test_a_communitys_board_shows_its_own_publications_and_a_streets_all_of_its_communities(district, line):
    published(line, district, "guangming", "光明路灯修复")
    published(line, district, "xingfu", "幸福水管修复")
    assert titles(publications.board(line, unit_id=district.guangming)) == {"光明路灯修复"}
    assert titles(publications.board(line, unit_id=district.xingfu)) == {"幸福水管修复"}
    assert titles(publications.board(line, unit_id=district.street)) == {"光明路灯修复", "幸福水管修复"}
    assert titles(publications.board(line)) == {"光明路灯修复", "幸福水管修复"}
    [entry] = publications.board(line, unit_id=district.guangming).items
    assert entry.unit_name == "光明社区"


def test_a_units_board_page_lists_its_entries_and_an_entry_names_its_unit(district, line):
    published(line, district, "guangming", "光明路灯修复")
    published(line, district, "xingfu", "幸福水管修复")
    assert titles(publications.board_page(line, unit_id=district.guangming).entries) == {"光明路灯修复"}
    assert titles(publications.board_page(line, unit_id=district.street).entries) == {"光明路灯修复", "幸福水管修复"}
    [entry] = publications.board(line, unit_id=district.xingfu).items
    assert publications.publication(line, entry.id).unit_name == "幸福社区"


def test_a_publication_moves_with_its_case(district, line):
    number = published(line, district, "guangming", "光明路灯修复")
    with line.write() as session:  # a finished case does not move: reopen it for the test's sake
        session.execute(Case.__table__.update().where(Case.number == number).values(status="running"))
    transfer.move_case(line, district.people["street_office"], number, district.xingfu, "实属幸福社区")
    assert titles(publications.board(line, unit_id=district.guangming)) == set()
    assert titles(publications.board(line, unit_id=district.xingfu)) == {"光明路灯修复"}


def test_the_board_page_names_its_unit_and_offers_the_other_communities(district, line):
    page = publications.board_page(line, unit_id=district.guangming)
    assert (page.places.unit.name, page.places.unit.label) == ("光明社区", "东岗街道 › 光明社区")
    assert [u.label for u in page.places.choices] == [  # in tree order: a 街道, then its 社区
        "东岗街道", "东岗街道 › 光明社区", "东岗街道 › 幸福社区", "本社区"]


def test_a_department_beside_the_tree_has_no_public_pages(district, line):
    with pytest.raises(NotFound):
        publications.board_page(line, unit_id=district.department)
    with pytest.raises(NotFound):
        procedures_page.page(line, 9999)


def test_a_unit_number_beyond_any_id_is_not_found(district, line):
    with pytest.raises(NotFound):
        publications.board_page(line, unit_id=2**40)


def test_a_single_community_offers_no_choice(line):
    assert publications.board_page(line).places.choices == ()


# --- each 社区's 办事指南 (固定式公开) ------------------------------------------------------------------

def posts(procedures, name: str) -> dict[str, str]:
    [p] = [p for p in procedures if p.name == name]
    return {s.name: s.roles for stage in p.stages for s in stage.steps}


def test_a_communitys_procedures_name_the_unit_each_post_works_in_for_it(district, line):
    page = procedures_page.page(line, district.guangming)
    name = next(p.name for p in page.procedures if any(s.name == "分类交办" for st in p.stages for s in st.steps))
    shown = posts(page.procedures, name)
    assert shown["分类交办"] == "社区负责人(光明社区)"
    assert shown["上级批复"] == "上级部门(东岗街道)"
    assert posts(procedures_page.procedures(line), name)["分类交办"] == "社区负责人"

