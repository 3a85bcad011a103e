"""The 考核 pages: rankings of the units a viewer may see, drill-down, level, period and sort choosers, CSV
downloads and the print layout; who may open them, and bad choices named."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from engine.people import units, users
from engine.store.models import Case
from tests.conftest import PASSWORD, PROCESSES, deploy_file
from tests.web.conftest import login


@pytest.fixture
def tree(minyi_db):
    """龙山区 → 城关街道 → 光明社区 → 光明一网格; a November case in 光明一网格, rated 满意."""
    with minyi_db.write() as session:
        q = units.create_unit(session, "admin", "龙山区", "区").id
        s = units.create_unit(session, "admin", "城关街道", "街道", q).id
        c = units.create_unit(session, "admin", "光明社区", "社区", s).id
        g = units.create_unit(session, "admin", "光明一网格", "网格", c).id
    version = deploy_file(minyi_db, PROCESSES / "minqing_liushuixian.bpmn")
    with minyi_db.write() as session:
        when = datetime(2026, 11, 3, 2, tzinfo=timezone.utc)
        session.add(Case(number="MQ-T-1", version_id=version.id, process_id="minqing_liushuixian", unit_id=g,
                         status="completed", rating="满意", started_by="clerk", started_at=when, updated_at=when))
    users.create_user(minyi_db, "district", PASSWORD, "区审计", [], grants=[("审计", q)])
    users.create_user(minyi_db, "gm_leader", PASSWORD, "光明负责人", [], grants=[("社区负责人", c)])
    return {"区": q, "街道": s, "社区": c, "网格": g}


def test_the_district_auditor_sees_its_街道_and_drills_down(client, tree):
    login(client, "district")
    page = client.get("/assessment/?period=2026-11").get_data(as_text=True)
    assert "龙山区 · 街道排名 · 2026年11月" in page and "城关街道" in page
    assert f'href="/assessment/?unit={tree["街道"]}&amp;period=2026-11&amp;sort=satisfaction"' in page
    down = client.get(f"/assessment/?unit={tree['社区']}&period=2026-11").get_data(as_text=True)
    assert "光明社区 · 网格排名" in down and "光明一网格" in down and "100.0%" in down
    assert 'aria-current="page">光明社区</span>' in down  # the way down, named


def test_the_ranking_downloads_as_csv_in_the_chosen_level_and_period(client, tree):
    login(client, "district")
    response = client.get("/assessment/ranking.csv?period=2026-11&level=网格&sort=received")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:4] == ["名次", "单位", "层级", "受理量"]
    assert rows[1][:4] == ["1", "光明一网格", "网格", "1"] and rows[-1][1] == "合计"
    flags = client.get("/assessment/flags.csv?period=2026-11").get_data().decode("utf-8")
    assert "名次,单位,类别,网格,红旗数,处理" in flags and "光明一网格" in flags


def test_a_社区负责人_sees_only_their_社区(client, tree):
    login(client, "gm_leader")
    page = client.get("/assessment/?period=2026-11").get_data(as_text=True)
    assert "光明社区 · 网格排名" in page and "城关街道" not in page
    assert client.get(f"/assessment/?unit={tree['街道']}").status_code == 403
    assert client.get(f"/assessment/ranking.csv?unit={tree['区']}").status_code == 403
    assert client.get(f"/assessment/flags.csv?unit={tree['街道']}").status_code == 403
    assert client.get(f"/assessment/flags.csv?unit={tree['社区']}").status_code == 200


@pytest.mark.parametrize("who", ["clerk", "handler", "supervisor"])
def test_people_without_a_ranking_role_are_refused(client, tree, who):
    login(client, who)
    assert client.get("/assessment/").status_code == 403
    assert "考核</a>" not in client.get("/tasks/inbox").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/assessment/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bad_choices_are_named(client, tree):
    login(client, "district")
    response = client.get("/assessment/?period=2026-13")
    assert response.status_code == 422 and "考核期应为" in response.get_data(as_text=True)
    assert client.get("/assessment/?level=省").status_code == 422
    assert client.get("/assessment/?sort=名次").status_code == 422
    assert client.get("/assessment/?unit=abc").status_code == 404
    assert client.get("/assessment/ranking.csv?period=x").status_code == 422


def test_the_page_prints_the_ranking_on_one_landscape_page(client, tree):
    login(client, "district")
    page = client.get("/assessment/").get_data(as_text=True)
    assert 'href="/static/ranking-print.css" media="print"' in page and "data-print" in page
    response = client.get("/static/ranking-print.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "size: A4 landscape" in css and ".no-print" in css and "break-after: page" in css
