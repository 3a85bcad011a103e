"""The public board: open without login, newest first, filter by kind, detail pages, no personal data."""
from __future__ import annotations

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from tests.conftest import PROCESSES, refresh_kept
from tests.minqing import INTAKE
from tests.minqing import Matter as MinqingMatter
from tests.yizheng import OPINION, PUBLISH, Matter

PERSONAL = (INTAKE["reporter_name"], INTAKE["reporter_contact"], INTAKE["address"], OPINION["opinion_by"],
            "赵先生")


@pytest.fixture
def published(minyi_db, staff_actors, frozen_clock):
    """A 民情 answer in 集中式公示 and a 一征三议两公开 resolution in its publicity period."""
    deployments.deploy_directory(minyi_db, PROCESSES, SYSTEM)
    m = MinqingMatter(minyi_db, staff_actors)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已修复")
    m.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已修复", answered_at="2026-11-23",
         publish="true", public_summary="3号楼暖气已修复。")
    y = Matter(minyi_db, staff_actors)
    y.consult({})
    y.propose_and_review()
    y.vote()
    y.do("UserTask_publish", "gongzuo", **PUBLISH)
    y.do("UserTask_objection", "liangwei", objection_by="赵先生", objection_content="请公布施工单位",
         objection_valid="不成立", objection_review="施工单位将在开工前公布")
    return y


def test_the_board_is_public_and_lists_newest_first(client, published):
    page = client.get("/public/board")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("幸福小区环境综合整治") < html.index("3号楼暖气不热")
    assert "剩余 7 天" in html and "长期公开" in html


def test_the_board_filters_by_kind(client, published):
    html = client.get("/public/board?kind=集中式公示").get_data(as_text=True)
    assert "3号楼暖气不热" in html and "幸福小区环境综合整治" not in html


def test_an_unknown_kind_is_a_clear_error(client, published):
    page = client.get("/public/board?kind=内部文件")
    assert page.status_code == 422 and "没有“内部文件”这一类公示" in page.get_data(as_text=True)


def test_a_detail_page_shows_the_public_fields_of_the_resolution(client, published):
    [entry] = published.published()
    html = client.get(f"/public/board/{entry.id}").get_data(as_text=True)
    assert PUBLISH["resolution"] in html and "实到人数" in html and published.number in html


def test_a_missing_entry_is_404(client, published):
    assert client.get("/public/board/9999").status_code == 404


def test_no_resident_name_phone_or_address_appears_on_any_board_page(client, published):
    pages = [client.get("/public/board").get_data(as_text=True)]
    for kind in ("决议公开", "集中式公示"):
        pages.append(client.get(f"/public/board?kind={kind}").get_data(as_text=True))
    for link in {part.split('"')[0] for part in pages[0].split('href="/public/board/')[1:]}:
        pages.append(client.get(f"/public/board/{link}").get_data(as_text=True))
    assert len(pages) == 6  # the list, its two kinds, the two entries and the 查询异议答复 form
    for html in pages:
        for personal in PERSONAL:
            assert personal not in html


def test_a_试运行_cases_entry_is_neither_listed_nor_opened(client, minyi_db, published):
    """Residents never see a sandbox case: its entry leaves the list (and its kind's list) and its page is a
    404, while the real case's entry stays."""
    from sqlalchemy import update

    from engine.store.models import Case

    [entry] = published.published()
    link = f'href="/public/board/{entry.id}"'
    assert link in client.get("/public/board").get_data(as_text=True)
    with minyi_db.write() as session:
        session.execute(update(Case).where(Case.number == published.number).values(sandbox=True))
        refresh_kept(session.connection())  # no case becomes 试运行 in service: kept figures as after a load
    html = client.get("/public/board").get_data(as_text=True)
    assert link not in html and "幸福小区环境综合整治" not in html and "3号楼暖气不热" in html
    assert "幸福小区环境综合整治" not in client.get("/public/board?kind=决议公开").get_data(as_text=True)
    assert client.get(f"/public/board/{entry.id}").status_code == 404


# --- 异议: how to object, and the online form, while a 决议公开 is in its publicity period -----------------

def resolution_id(published) -> int:
    return published.published()[0].id


def test_a_resolution_in_publicity_says_how_to_object_and_offers_the_form(client, published):
    listed = client.get("/public/board").get_data(as_text=True)
    assert listed.count("有异议?公示期内可提出") == 1  # the resolution, not the 集中式公示 of an answer
    html = client.get(f"/public/board/{resolution_id(published)}").get_data(as_text=True)
    assert "对公示内容有异议?" in html and "社区“两委”" in html and "2026-11-30" in html
    assert f'action="/public/board/{resolution_id(published)}/objection"' in html and 'name="csrf_token"' in html


def test_an_objection_is_received_and_reaches_the_两委s_step(client, published, staff_actors):
    from engine.work import tasklist

    page = client.post(f"/public/board/{resolution_id(published)}/objection",
                       data={"objection_content": "请公布车位分配细则。", "name": "", "contact": ""})
    assert page.status_code == 200 and "异议已提交" in page.get_data(as_text=True)
    task_id = published.task_ids("UserTask_objection")[0]
    values = tasklist.get_task(published.db, staff_actors["liangwei"], task_id).values
    assert values["objection_content"].endswith("匿名居民(网上提交):请公布车位分配细则。")


def test_an_empty_objection_is_refused_in_chinese_next_to_the_field(client, published):
    page = client.post(f"/public/board/{resolution_id(published)}/objection",
                       data={"objection_content": "", "name": "赵", "contact": ""})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="err-objection_content"' in html and "请填写异议内容" in html
    assert 'value="赵"' in html  # what was typed is kept


def test_an_entry_that_takes_no_objection_refuses_one_in_chinese(client, published):
    """A 集中式公示 of a 民情 answer has no objection step: the page says so, nothing else happens."""
    from engine.public import publications

    [answer] = publications.board(published.db, "集中式公示").items
    page = client.post(f"/public/board/{answer.id}/objection", data={"objection_content": "有意见"})
    assert page.status_code == 409 and "“集中式公示”不受理异议" in page.get_data(as_text=True)
    assert "对公示内容有异议?" not in client.get(f"/public/board/{answer.id}").get_data(as_text=True)


def test_the_receipt_gives_a_reference_and_code_with_which_the_resident_reads_the_answer(
        client, published, staff_actors, frozen_clock):
    """The objection's receipt shows 异议编号, 查询码 and a QR code of the answer's link; the link shows
    待审查 until the 两委 answer — here after the 公示期, which ended before they reviewed it."""
    import re
    from datetime import datetime, timezone

    from engine.work import timers

    page = client.post(f"/public/board/{resolution_id(published)}/objection",
                       data={"objection_content": "请公布车位分配细则。", "name": "", "contact": ""})
    html = page.get_data(as_text=True)
    reference = f"{published.number}-异议1"
    assert reference in html and "<svg" in html and page.headers["Cache-Control"] == "no-store"
    code = re.search(r'class="objection-code">([2-9A-Z]{5}-[2-9A-Z]{5})<', html).group(1)
    link = re.search(r'href="(http://localhost/public/board/objections/[^"]+)"', html).group(1).replace("&amp;", "&")
    waiting = client.get(link.removeprefix("http://localhost")).get_data(as_text=True)
    assert "待审查" in waiting and "请公布车位分配细则。" in waiting
    frozen_clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc))
    assert timers.fire_due(published.db) == 1
    published.do("UserTask_late_objections", "liangwei", objection_answers="细则已张贴在公开栏。",
                 objection_valid="不成立")
    answered = client.post("/public/board/objections", data={"reference": reference, "code": code.lower()})
    html = answered.get_data(as_text=True)
    assert answered.status_code == 200 and "已审查" in html and "不成立" in html and "细则已张贴在公开栏。" in html


def test_the_case_page_shows_the_objection_and_the_answers_as_text(login_as, published, frozen_clock):
    """Staff read the online objection in the case's history, and the late review's answers as text
    (not as a Python list)."""
    from datetime import datetime, timezone

    from engine.public import objections
    from engine.work import timers

    objections.raise_objection(published.db, resolution_id(published), "", "", "请公布车位分配细则。")
    frozen_clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc))
    assert timers.fire_due(published.db) == 1
    published.do("UserTask_late_objections", "liangwei", objection_answers="细则已张贴在公开栏。",
                 objection_valid="不成立")
    html = login_as("liangwei").get(f"/cases/{published.number}").get_data(as_text=True)
    assert "〔网上异议1〕请公布车位分配细则。" in html and "细则已张贴在公开栏。" in html
    assert "['" not in html and "code_hash" not in html


@pytest.mark.parametrize("reference, code", [("YZ-20261123-000001-异议1", "2345678923"), ("不是编号", "X"),
                                             ("YZ-20261123-000001-异议9", "2345678923")])
def test_a_wrong_reference_or_code_is_one_404_in_chinese_with_the_form_again(client, published, reference, code):
    client.post(f"/public/board/{resolution_id(published)}/objection",
                data={"objection_content": "异议。", "name": "", "contact": ""})
    page = client.post("/public/board/objections", data={"reference": reference, "code": code})
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and "异议编号或查询码不正确" in html and 'name="csrf_token"' in html
    asked = client.get(f"/public/board/objections/{published.number}-异议1")
    assert asked.status_code == 200 and 'name="code"' in asked.get_data(as_text=True)
