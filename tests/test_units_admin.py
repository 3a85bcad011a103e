"""单位管理: a 管理员 builds the district's tree (add, rename, move, 撤销, 恢复, import from a file), only
inside their own scope; every change is recorded for the auditors (审计 › 单位变更) with names."""
from __future__ import annotations

import pytest

from engine.errors import Forbidden, InvalidInput
from engine.people import unitadmin, units, users
from tests.conftest import PASSWORD

DISTRICT_CSV = """name,level,parent,beside
龙山街道,街道,龙山区,
光明社区,社区,龙山区/龙山街道,
第一网格,网格,龙山区/龙山街道/光明社区,
民政科,职能部门,龙山区/龙山街道,是
红星社区,社区,龙山区/龙山街道,否
""".encode()

DISTRICT_TOML = """
[[unit]]
name = "龙山街道"
level = "街道"
parent = "龙山区"

[[unit]]
name = "光明社区"
level = "社区"
parent = "龙山区/龙山街道"

[[unit]]
name = "城管执法队"
level = "职能部门"
parent = "龙山区"
beside = true
""".encode()


@pytest.fixture
def admin(db):
    return users.create_user(db, "admin", PASSWORD, "管理员甲", ["管理员"])


@pytest.fixture
def district(db, admin) -> dict[str, int]:
    """The default unit becomes 龙山区 and the district comes from a CSV file: name path → id."""
    unitadmin.rename(db, admin, 1, "龙山区", "区")
    unitadmin.import_units(db, admin, "district.csv", DISTRICT_CSV)
    with db.read() as session:
        return {units.name_path(session, units.get(session, u.id)): u.id for u in units.all_units(session)}


def tree(db) -> list[tuple[str, str, bool]]:
    with db.read() as session:
        return [(units.name_path(session, units.get(session, u.id)), u.level, u.closed)
                for u in units.all_units(session)]


def test_a_district_is_imported_from_a_csv_file_and_importing_it_again_changes_nothing(db, admin, district):
    assert tree(db) == [("龙山区", "区", False), ("龙山区/龙山街道", "街道", False),
                        ("龙山区/龙山街道/光明社区", "社区", False),
                        ("龙山区/龙山街道/光明社区/第一网格", "网格", False),
                        ("龙山区/龙山街道/红星社区", "社区", False), ("龙山区/龙山街道/民政科", "职能部门", False)]
    with db.read() as session:
        assert units.get(session, district["龙山区/龙山街道/民政科"]).beside  # beside the tree, after the tree units
    again = unitadmin.import_units(db, admin, "district.csv", DISTRICT_CSV)
    assert again.created == () and len(again.unchanged) == 5


def test_a_district_is_imported_from_a_toml_file(db, admin):
    unitadmin.rename(db, admin, 1, "龙山区", "区")
    done = unitadmin.import_units(db, admin, "district.toml", DISTRICT_TOML)
    assert done.created == ("龙山区/龙山街道", "龙山区/龙山街道/光明社区", "龙山区/城管执法队")
    assert ("龙山区/城管执法队", "职能部门", False) in tree(db)


def test_an_import_with_any_bad_line_imports_nothing_and_names_each_line_and_field(db, admin):
    unitadmin.rename(db, admin, 1, "龙山区", "区")
    bad = ("name,level,parent,beside\n龙山街道,街道,龙山区,\n光明社区,,龙山区/龙山街道,\n"
           "红星社区,社区,龙山区/没有这个街道,\n龙山街道,街道,龙山区,\n民政科,职能部门,龙山区,也许\n").encode()
    with pytest.raises(InvalidInput) as err:
        unitadmin.import_units(db, admin, "bad.csv", bad)
    assert err.value.fields["file"].split("\n") == ["第 3 行 层级:不能为空", "第 6 行 旁设:应为“是”或“否”,不是“也许”"]
    assert tree(db) == [("龙山区", "区", False)]
    with pytest.raises(InvalidInput) as err:  # the form is right, the tree is not: still all or nothing
        unitadmin.import_units(db, admin, "bad.csv", bad.replace(",,".encode(), ",社区,".encode())
                               .replace("也许".encode(), "是".encode()))
    assert err.value.fields["file"].split("\n") == [
        "第 4 行 上级:上级“龙山区/没有这个街道”不存在(须是已有单位,或在文件中较前的行)",
        "第 5 行 名称:“龙山区/龙山街道”在文件中重复"]
    assert tree(db) == [("龙山区", "区", False)]


@pytest.mark.parametrize(("filename", "content", "expected"), [
    ("units.xlsx", b"name,level", "只能导入 .csv 或 .toml 文件"),
    ("units.csv", "名称,上级\n光明社区,\n".encode(), "第 1 行 表头:缺少列 层级(表头应为 name,level,parent,beside)"),
    ("units.csv", "name,level\n".encode("utf-8"), "文件中没有单位"),
    ("units.csv", "name,level\n光明社区,社区\n".encode("gbk"), "文件不是 UTF-8 编码的文字(请另存为 UTF-8)"),
    ("units.toml", b'[[unit]]\nname = "a"\nlevel = \n', "第 3 行 格式:不是有效的 TOML"),
    ("units.toml", b'[[unit]]\nname = "a"\n\n[[unit]]\nname = 5\nlevel = "x"\n',
     "第 1 行 层级:不能为空\n第 4 行 名称:应为文字"),
])
def test_a_file_that_cannot_be_read_is_refused_with_what_is_wrong(db, admin, filename, content, expected):
    with pytest.raises(InvalidInput) as err:
        unitadmin.import_units(db, admin, filename, content)
    assert err.value.fields["file"] == expected


def test_a_unit_of_the_tree_is_never_added_below_a_beside_unit(db, admin, district):
    """职能部门 and 包保单位 take no cases: below them only other beside units (a 科室 of a 部门)."""
    office = district["龙山区/龙山街道/民政科"]
    with pytest.raises(InvalidInput) as err:
        unitadmin.add_unit(db, admin, {"name": "新社区", "level": "社区", "parent_id": office})
    assert err.value.fields == {"parent_id": "“民政科”是旁设单位(职能部门),其下只能设旁设单位"}
    unitadmin.add_unit(db, admin, {"name": "救助股", "level": "职能部门", "parent_id": office, "beside": "1"})


def test_renaming_keeps_names_unique_among_siblings(db, admin, district):
    unitadmin.rename(db, admin, district["龙山区/龙山街道/红星社区"], "红旗社区")
    with pytest.raises(InvalidInput) as err:
        unitadmin.rename(db, admin, district["龙山区/龙山街道/红星社区"], "光明社区")
    assert err.value.fields == {"name": "同一上级下已有名为“光明社区”的单位"}
    with pytest.raises(InvalidInput) as err:
        unitadmin.rename(db, admin, district["龙山区/龙山街道/红星社区"], "光明/社区")
    assert "不能含有“/”" in err.value.fields["name"]
    assert ("龙山区/龙山街道/红旗社区", "社区", False) in tree(db)


def test_moving_a_unit_carries_its_whole_subtree_and_the_scope_of_its_people(db, admin, district):
    grid = district["龙山区/龙山街道/光明社区/第一网格"]
    wangge = users.create_user(db, "wangge", PASSWORD, "网格员", ["网格员"], unit_id=grid)
    new_street = unitadmin.add_unit(db, admin, {"name": "东城街道", "level": "街道", "parent_id": "1"})
    unitadmin.move(db, admin, district["龙山区/龙山街道/光明社区"], new_street.id)
    assert ("龙山区/东城街道/光明社区/第一网格", "网格", False) in tree(db)
    moved = f"/1/{new_street.id}/{district['龙山区/龙山街道/光明社区']}/{grid}/"
    with db.read() as session:
        assert units.get(session, grid).path == moved
    assert users.get_actor(db, wangge.id).scope == frozenset({moved})


@pytest.mark.parametrize(("unit", "parent", "expected"), [
    ("龙山区/龙山街道", "龙山区/龙山街道", "不能移到自己或下级之下"),
    ("龙山区/龙山街道", "龙山区/龙山街道/光明社区/第一网格", "不能移到自己或下级之下"),
    ("龙山区/龙山街道/光明社区/第一网格", "龙山区/龙山街道/红星社区", "同一上级下已有名为“第一网格”的单位"),
    ("龙山区/龙山街道/光明社区", "龙山区/关闭的街道", "该单位已撤销"),
    ("龙山区/龙山街道/红星社区", "龙山区/龙山街道/民政科", "“民政科”是旁设单位(职能部门),其下只能设旁设单位"),
])
def test_a_unit_moves_neither_under_itself_nor_a_closed_or_beside_unit_nor_beside_a_namesake(
        db, admin, district, unit, parent, expected):
    red = unitadmin.add_unit(db, admin, {"name": "第一网格", "level": "网格",
                                         "parent_id": district["龙山区/龙山街道/红星社区"]})
    closed = unitadmin.add_unit(db, admin, {"name": "关闭的街道", "level": "街道", "parent_id": "1"})
    unitadmin.close(db, admin, closed.id)
    ids = {**district, "龙山区/龙山街道/红星社区/第一网格": red.id, "龙山区/关闭的街道": closed.id}
    before = tree(db)
    with pytest.raises(InvalidInput) as err:
        unitadmin.move(db, admin, ids[unit], ids[parent])
    assert expected in err.value.fields.values()
    assert tree(db) == before


def test_a_closed_unit_keeps_its_place_but_takes_no_new_units_until_it_is_reopened(db, admin, district):
    community = district["龙山区/龙山街道/红星社区"]
    unitadmin.close(db, admin, community)
    assert ("龙山区/龙山街道/红星社区", "社区", True) in tree(db)
    with pytest.raises(InvalidInput) as err:
        unitadmin.add_unit(db, admin, {"name": "新网格", "level": "网格", "parent_id": community})
    assert err.value.fields == {"parent_id": "上级单位已撤销"}
    with pytest.raises(InvalidInput, match="已撤销"):
        unitadmin.close(db, admin, community)
    unitadmin.reopen(db, admin, community)
    unitadmin.add_unit(db, admin, {"name": "新网格", "level": "网格", "parent_id": community})
    with pytest.raises(InvalidInput, match="未撤销"):
        unitadmin.reopen(db, admin, community)


def test_a_unit_closes_only_after_every_unit_below_it_and_the_default_unit_never(db, admin, district):
    """撤销 goes bottom up: an open unit below a closed one would have its cases routed up into a unit that
    takes no work. Reopening goes top down for the same reason."""
    street, community = district["龙山区/龙山街道"], district["龙山区/龙山街道/光明社区"]
    with pytest.raises(InvalidInput) as err:
        unitadmin.close(db, admin, community)
    assert "“光明社区”下还有未撤销的单位:第一网格" in err.value.message
    unitadmin.close(db, admin, district["龙山区/龙山街道/光明社区/第一网格"])
    unitadmin.close(db, admin, community)
    with pytest.raises(InvalidInput, match="默认单位不能撤销|是默认单位"):
        unitadmin.close(db, admin, 1)
    for below in ("红星社区", "民政科"):
        unitadmin.close(db, admin, district[f"龙山区/龙山街道/{below}"])
    unitadmin.close(db, admin, street)
    with pytest.raises(InvalidInput, match="请先恢复上级"):
        unitadmin.reopen(db, admin, community)
    unitadmin.reopen(db, admin, street)
    unitadmin.reopen(db, admin, community)


def test_only_an_administrator_manages_units(db, staff, district):
    for name in ("clerk", "leader", "auditor"):
        for attempt in (lambda a: unitadmin.units_page(db, a),
                        lambda a: unitadmin.add_unit(db, a, {"name": "x", "level": "网格", "parent_id": "1"}),
                        lambda a: unitadmin.rename(db, a, 1, "改名"),
                        lambda a: unitadmin.close(db, a, district["龙山区/龙山街道/红星社区"]),
                        lambda a: unitadmin.import_units(db, a, "d.csv", DISTRICT_CSV)):
            with pytest.raises(Forbidden, match="只有管理员可以管理单位"):
                attempt(staff[name])
    assert tree(db)[0] == ("龙山区", "区", False)


def test_a_street_administrator_manages_only_units_inside_the_street(db, admin, district):
    street = district["龙山区/龙山街道"]
    local = users.create_user(db, "jdadmin", PASSWORD, "街道管理员", ["管理员"], unit_id=street)
    page = unitadmin.units_page(db, local)
    assert [r.unit.name for r in page.rows] == ["龙山街道", "光明社区", "第一网格", "红星社区", "民政科"]
    assert not page.may_add_root
    unitadmin.add_unit(db, local, {"name": "第二网格", "level": "网格",
                                   "parent_id": district["龙山区/龙山街道/光明社区"]})
    unitadmin.rename(db, local, district["龙山区/龙山街道/红星社区"], "红旗社区")
    other = unitadmin.add_unit(db, admin, {"name": "东城街道", "level": "街道", "parent_id": "1"})
    for attempt in (lambda: unitadmin.rename(db, local, 1, "我的区"),
                    lambda: unitadmin.add_unit(db, local, {"name": "x", "level": "社区", "parent_id": other.id}),
                    lambda: unitadmin.add_unit(db, local, {"name": "新区", "level": "区", "parent_id": ""}),
                    lambda: unitadmin.move(db, local, district["龙山区/龙山街道/光明社区"], other.id),
                    lambda: unitadmin.close(db, local, other.id)):
        with pytest.raises(Forbidden):
            attempt()
    with pytest.raises(InvalidInput) as err:
        unitadmin.import_units(db, local, "d.csv", "name,level,parent\n新社区,社区,龙山区/东城街道\n".encode())
    assert err.value.fields["file"] == "第 2 行 上级:只能在您所辖范围内的单位下添加"


def test_a_second_tree_is_made_on_the_command_line_only(db, admin):
    """A second top unit would narrow everyone's “everything” to their own tree, the administrator's too."""
    assert not unitadmin.units_page(db, admin).may_add_root
    with pytest.raises(Forbidden, match="minyi unit add"):
        unitadmin.add_unit(db, admin, {"name": "虎山区", "level": "区", "parent_id": ""})
    with pytest.raises(InvalidInput) as err:
        unitadmin.import_units(db, admin, "d.csv", "name,level,parent\n虎山区,区,\n".encode())
    assert err.value.fields["file"] == "第 2 行 上级:不能为空(顶层单位须在服务器上用 minyi unit add 新建)"
    made = unitadmin.add_unit(db, unitadmin.COMMAND_LINE, {"name": "虎山区", "level": "区", "parent_id": ""})
    assert tree(db)[-1] == ("虎山区", "区", False) and made.path == f"/{made.id}/"


def test_auditors_read_every_unit_change_newest_first_with_names(db, admin, staff, district):
    community = district["龙山区/龙山街道/红星社区"]
    unitadmin.rename(db, admin, community, "红旗社区")
    unitadmin.move(db, admin, community, 1)
    unitadmin.close(db, admin, community)
    unitadmin.reopen(db, admin, community)
    changes = unitadmin.unit_changes(db, staff["auditor"])
    assert [(c.actor, c.unit_name, c.kind_name, c.summary) for c in changes[:5]] == [
        ("admin", "红旗社区", "恢复", "红旗社区"),
        ("admin", "红旗社区", "撤销", "红旗社区"),
        ("admin", "红旗社区", "调整上级", "上级 龙山街道 → 龙山区"),
        ("admin", "红旗社区", "改名", "红星社区 → 红旗社区"),
        ("admin", "红旗社区", "新建单位", "红星社区(社区);上级 龙山街道"),
    ]
    assert changes[5].summary == "民政科(职能部门,旁设);上级 龙山街道"
    assert changes[-1].summary == "本社区 → 龙山区;层级 社区 → 区"
    assert [c.kind for c in unitadmin.unit_changes(db, staff["auditor"], community)] == [
        "unit_reopened", "unit_closed", "unit_moved", "unit_renamed", "unit_created"]
    with pytest.raises(Forbidden):
        unitadmin.unit_changes(db, staff["clerk"])


def crossing_moves(db, admin, a: int, b: int) -> list[str]:
    """Move a under b and b under a at the same moment; each outcome is "ok" or the refusal."""
    import threading

    barrier, outcomes = threading.Barrier(2), []

    def move(unit: int, parent: int) -> None:
        barrier.wait()
        try:
            unitadmin.move(db, admin, unit, parent)
            outcomes.append("ok")
        except InvalidInput as exc:
            outcomes.append(exc.fields.get("parent_id", exc.message))

    threads = [threading.Thread(target=move, args=(a, b)), threading.Thread(target=move, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


def test_two_administrators_moving_two_units_under_each_other_at_once_make_no_loop(db, admin):
    """Tree changes go one at a time: of two crossing moves one succeeds, the other is refused (it would now
    put a unit under its own subtree), and every path still starts at the root."""
    for round_ in range(3):
        a = unitadmin.add_unit(db, admin, {"name": f"甲{round_}", "level": "街道", "parent_id": "1"})
        b = unitadmin.add_unit(db, admin, {"name": f"乙{round_}", "level": "街道", "parent_id": "1"})
        assert crossing_moves(db, admin, a.id, b.id) == ["ok", "不能移到自己或下级之下"]
        with db.read() as session:
            assert all(u.path.startswith("/1/") for u in units.all_units(session))
            assert len(units.all_units(session)) == 1 + 2 * (round_ + 1)
