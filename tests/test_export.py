"""Event logs for process mining: CSV and XES (IEEE 1849-2016), one trace per case, sandbox excluded."""
from __future__ import annotations

import csv
import io
from datetime import timezone

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import update

from engine.actor import SYSTEM
from engine.audit import csvfile, export, search
from engine.bpmn import deployments
from engine.errors import Forbidden, InvalidInput
from engine.store.models import Case
from tests.conftest import PROCESSES, SHARED
from tests.minqing import Matter
from web.cli import main

XSD = SHARED / "corpora" / "xes" / "koalas" / "xes-ieee-1849-2016.xsd"
FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已处理"}  # 答复日期: today, its default


@pytest.fixture
def two_cases(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    done = Matter(db, staff)
    done.do("UserTask_classify", "leader", kind="即办件")
    done.do("UserTask_handle_immediate", "handler", handling_result="已修复")
    done.do("UserTask_feedback", "handler", **FEEDBACK)
    done.do("UserTask_rate", "clerk", rating="满意")
    running = Matter(db, staff, topic="社区治安")
    sandbox = Matter(db, staff)
    with db.write() as session:
        session.execute(update(Case).where(Case.number == sandbox.number).values(sandbox=True))
    return done, running


def test_xes_validates_against_the_ieee_schema_and_has_one_trace_per_case(db, staff, two_cases):
    done, running = two_cases
    xml = export.export_log(db, staff["auditor"], search.CaseQuery(), "xes")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.fromstring(xml)
    assert schema.validate(doc), schema.error_log
    traces = {t.find("string[@key='concept:name']").get("value"): t for t in doc.findall("trace")}
    assert set(traces) == {done.number, running.number}
    events = [e for e in traces[done.number].findall("event")
              if e.find("string[@key='lifecycle:transition']").get("value") == "complete"]
    activity = [e.find("string[@key='concept:name']").get("value") for e in events]
    assert activity == ["民情受理", "分类交办", "即办件办理", "反馈答复", "一事一评"]
    second = {a.get("key"): a.get("value") for a in events[1]}
    assert second == {"concept:name": "分类交办", "time:timestamp": "2026-11-23T02:00:00.000+00:00",
                      "org:resource": "李主任", "minyi:username": "leader", "org:role": "社区负责人",
                      "lifecycle:transition": "complete", "minyi:process": "minqing_liushuixian"}
    assert [c.get("keys") for c in doc.findall("classifier")][0] == "concept:name"


def test_each_step_is_exported_when_ready_claimed_and_done_so_waiting_and_working_time_can_be_mined(
        db, staff, frozen_clock):
    """A step's life in the XES: `schedule` when it became ready, `start` when someone claimed it,
    `complete` when it was done — with their times (the log still validates against the XSD)."""
    from datetime import timedelta

    from engine.work import cases

    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    matter = Matter(db, staff)
    ready_at = frozen_clock.value
    frozen_clock.set(ready_at + timedelta(hours=1))
    cases.claim(db, staff["leader"], matter.task_id("UserTask_classify"))
    frozen_clock.set(ready_at + timedelta(hours=3))
    matter.do("UserTask_classify", "leader", kind="即办件")
    xml = export.export_log(db, staff["auditor"], search.CaseQuery(number=matter.number), "xes")
    doc = etree.fromstring(xml)
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(doc)
    life = [(values["lifecycle:transition"], values["time:timestamp"][11:16], values["org:resource"])
            for values in ({a.get("key"): a.get("value") for a in e} for e in doc.iter("event"))
            if values["concept:name"] == "分类交办"]
    start = ready_at.astimezone(timezone.utc)
    assert life == [("schedule", f"{start:%H:%M}", "系统"),
                    ("start", f"{start + timedelta(hours=1):%H:%M}", "李主任"),
                    ("complete", f"{start + timedelta(hours=3):%H:%M}", "李主任")]


def test_the_resource_is_the_name_people_read_and_the_username_is_kept_beside_it(db, staff, frozen_clock):
    """`org:resource` is what every page shows: the person's display name, 居民 for a resident's online
    submission, 系统 for what the engine did; `minyi:username` keeps the audit trail's account name."""
    from engine.public import residents

    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    online = residents.submit(db, {"topic": "其他", "title": "路灯坏了", "description": "东门路灯不亮"}, [])
    xml = export.export_log(db, staff["auditor"], search.CaseQuery(number=online.number), "xes")
    doc = etree.fromstring(xml)
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(doc)
    who = {(v["lifecycle:transition"], v["org:resource"], v["minyi:username"])
           for v in ({a.get("key"): a.get("value") for a in e} for e in doc.iter("event"))}
    assert ("complete", "居民", "resident") in who and ("schedule", "系统", "system") in who
    assert all(resource not in ("resident", "system") for _, resource, _ in who)


def test_csv_has_one_row_per_event_with_case_activity_time_resource(db, staff, two_cases):
    done, running = two_cases
    data = export.export_log(db, staff["auditor"], search.CaseQuery(number=done.number), "csv")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    rows = [r for r in rows if r["lifecycle"] == "complete"]
    assert [r["activity"] for r in rows] == ["民情受理", "分类交办", "即办件办理", "反馈答复", "一事一评"]
    assert {r["case_id"] for r in rows} == {done.number}
    assert (rows[4]["resource"], rows[4]["username"], rows[4]["lifecycle"]) == ("王受理", "clerk", "complete")
    del running


def test_selection_by_topic_and_the_command_line(db, staff, two_cases, tmp_path, monkeypatch):
    done, running = two_cases
    only = export.export_log(db, staff["auditor"], search.parse_query({"topic": "社区治安"}), "xes")
    assert [t.find("string").get("value") for t in etree.fromstring(only).findall("trace")] == [running.number]
    monkeypatch.setenv("DATABASE_URL", db.url)
    out = tmp_path / "log.xes"
    result = CliRunner().invoke(main, ["audit", "export", "--format", "xes", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(etree.parse(str(out)))
    bad = CliRunner().invoke(main, ["audit", "export", "--from", "2026-13-01", "-o", str(out)])
    assert bad.exit_code == 1 and "起始日期" in bad.output
    del done


def test_export_is_for_auditors_and_names_a_bad_format(db, staff, two_cases):
    with pytest.raises(Forbidden):
        export.export_log(db, staff["handler"], search.CaseQuery(), "csv")
    with pytest.raises(InvalidInput) as err:
        export.export_log(db, staff["auditor"], search.CaseQuery(), "pdf")
    assert "format" in err.value.fields


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ('=HYPERLINK("http://x","点我")', '\'=HYPERLINK("http://x","点我")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"),
    ("-3", "-3"), ("+7", "+7"), ("0.2500", "0.2500"), ("1,200", "1,200"), (-3, -3), (2.5, 2.5), (None, None),
    ("民情受理", "民情受理"), ("a=b", "a=b"), ("", ""),
])
def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(value, written):
    assert csvfile.cell(value) == written


def test_every_csv_is_utf8_with_a_bom_and_crlf_rows():
    assert csvfile.csv_bytes(("名称", "数量"), [("=1", 2)]) == "\ufeff名称,数量\r\n'=1,2\r\n".encode("utf-8")
