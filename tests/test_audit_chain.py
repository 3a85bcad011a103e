"""Tamper evidence: the audit log is append-only and hash-chained per case and globally.

A row edited or deleted directly in the database is found by `minyi audit verify`, which names
the case, the event and what differs; a downloaded case bundle is checked offline.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text, update

from engine.actor import SYSTEM
from engine.audit import verify
from engine.bpmn import deployments
from engine.errors import InvalidInput
from engine.store import audit_chain, locks
from engine.store.audit_chain import AuditTampering
from engine.people import users
from engine.store.models import AuditEvent, Case, ChainHead, DiagramVersion
from engine.work import cases, timers
from tests import units_tree
from tests.conftest import PASSWORD, PROCESSES
from tests.minqing import INTAKE, PROCESS, Matter
from tests.sql_log import statements_from_now
from web.cli import main

FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已处理"}


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def finished(line, staff, kind: str = "即办件") -> Matter:
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind=kind)
    m.do("UserTask_handle_immediate", "handler", handling_result="已修复")
    m.do("UserTask_feedback", "handler", **FEEDBACK)
    m.do("UserTask_rate", "clerk", rating="满意")
    return m


def event_id(db, number: str, seq: int) -> int:
    with db.read() as session:
        return session.scalar(text(
            "SELECT e.id FROM audit_events e JOIN cases c ON c.id = e.case_id WHERE c.number = :n AND e.seq = :s"),
            {"n": number, "s": seq})


def test_untouched_chains_verify(line, staff):
    first, second = finished(line, staff), Matter(line, staff)
    verdict = verify.verify_database(line)
    assert verdict.ok, verdict.broken
    assert verdict.cases == 2
    with line.read() as session:
        rows = session.execute(select(AuditEvent.global_seq, AuditEvent.global_prev_hash, AuditEvent.global_hash)
                               .order_by(AuditEvent.global_seq)).all()
    assert [r.global_seq for r in rows] == list(range(1, len(rows) + 1)) == list(range(1, verdict.events + 1))
    assert rows[0].global_prev_hash == "0" * 64
    assert all(b.global_prev_hash == a.global_hash for a, b in pairwise(rows))
    del first, second


def test_interleaved_cases_each_keep_their_own_chain(line, staff):
    """A completion reads its case's chain head under the case lock, never another case's newest event."""
    a, b = Matter(line, staff), Matter(line, staff)
    for step, who, values in (("UserTask_classify", "leader", {"kind": "即办件"}),
                              ("UserTask_handle_immediate", "handler", {"handling_result": "已修复"})):
        a.do(step, who, **values)
        b.do(step, who, **values)
    verdict = verify.verify_database(line)
    assert verdict.ok, verdict.broken
    with line.read() as session:
        for number in (a.number, b.number):
            seqs = session.scalars(text("SELECT e.seq FROM audit_events e JOIN cases c ON c.id = e.case_id "
                                        "WHERE c.number = :n ORDER BY e.seq"), {"n": number}).all()
            assert seqs == list(range(1, len(seqs) + 1))


def test_an_event_edited_in_the_database_is_reported_exactly(line, staff):
    m, other = finished(line, staff), finished(line, staff)
    target = event_id(line, m.number, 4)
    with line.write() as session:
        session.execute(text("UPDATE audit_events SET actor = 'someone_else' WHERE id = :id"), {"id": target})
    verdict = verify.verify_database(line)
    assert not verdict.ok
    assert (verdict.broken.chain, verdict.broken.case_number, verdict.broken.seq) == ("case", m.number, 4)
    assert "内容与哈希不符" in verdict.broken.problem
    assert (verdict.cases, verdict.events) == (1, 4)  # how far the check went: the first case, up to the break
    # the message shows the first 12 hex digits of the stored hash and of the hash of the content as found
    with line.read() as session:
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == target))
    shown = re.fullmatch(r"内容与哈希不符:记录被改动\(存储 ([0-9a-f]{12})…,按内容计算 ([0-9a-f]{12})…\)",
                         verdict.broken.problem)
    assert shown and shown[1] == stored[:12] and shown[2] != shown[1]
    del other


def test_edited_form_values_are_detected(line, staff):
    m = finished(line, staff)
    with line.read() as session:
        completed = session.execute(select(AuditEvent.id, AuditEvent.seq, AuditEvent.data)
                                    .where(AuditEvent.kind == "task_completed").order_by(AuditEvent.seq)).first()
        data = dict(completed.data)
    data["values"] = {**data["values"], "kind": "建议件"}
    with line.write() as session:
        session.execute(text("UPDATE audit_events SET data = :d WHERE id = :id"),
                        {"d": json.dumps(data, ensure_ascii=False), "id": completed.id})
    verdict = verify.verify_database(line)
    assert (verdict.broken.case_number, verdict.broken.seq) == (m.number, completed.seq)


def head_differs(recorded: int, last: int) -> str:
    return f"全局链头不符:链头记录为第 {recorded} 条,实际链尾为第 {last} 条(末尾记录被删除或链头被改动)"


def test_a_deleted_last_event_breaks_the_global_chain(line, staff):
    m = finished(line, staff)
    with line.read() as session:
        last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.global_seq.desc()).limit(1))
    with line.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last})
    verdict = verify.verify_database(line)
    assert verdict.broken.chain == "global" and "链头" in verdict.broken.problem
    with line.read() as session:
        left = session.scalar(select(func.max(AuditEvent.global_seq)))
    assert verdict == verify.Verdict(left, 1, verify.Break("global", "", None, head_differs(left + 1, left)))
    assert str(verdict.broken) == f"全局链: {verdict.broken.problem}"  # no case, no event: the chain's end
    del m


def test_a_cases_deleted_newest_event_breaks_the_global_chain_at_the_next_event(line, staff):
    """Deleting a case's newest event leaves that case's own chain whole, but the global chain, which runs
    through every event in the order written, misses a link: the break is reported at the next event, with
    its case and seq, after every case chain was walked."""
    first = finished(line, staff)
    second = Matter(line, staff)
    with line.read() as session:
        gone, gone_seq = session.execute(
            select(AuditEvent.id, AuditEvent.global_seq).join(Case, Case.id == AuditEvent.case_id)
            .where(Case.number == first.number).order_by(AuditEvent.seq.desc()).limit(1)).one()
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    with line.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": gone})
    verdict = verify.verify_database(line)
    assert verdict == verify.Verdict(total - 1, 2, verify.Break(
        "global", second.number, 1, f"全局序号不连续:应为 {gone_seq},实为 {gone_seq + 1}(有记录被删除)"))


def test_an_event_relinked_in_the_global_chain_is_found_at_that_link_naming_its_case(line, staff):
    """An event whose link into the global chain is rewritten, with a global hash that fits the forged
    link, still breaks the global chain there: the link must be the hash of the event before it."""
    m = finished(line, staff)
    row = _classified(line, m.number)
    with line.read() as session:
        own, global_seq = session.execute(select(AuditEvent.hash, AuditEvent.global_seq)
                                          .where(AuditEvent.id == row.id)).one()
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    forged = "f" * 64
    with line.write() as session:
        session.execute(text("UPDATE audit_events SET global_prev_hash = :p, global_hash = :h WHERE id = :id"),
                        {"p": forged, "h": audit_chain.global_hash(global_seq, own, forged), "id": row.id})
    assert verify.verify_database(line) == verify.Verdict(total, 1, verify.Break(
        "global", m.number, row.seq, "全局链在此断开(记录被改动或替换)"))


def test_a_chain_head_changed_in_the_database_is_found(line, staff):
    """The stored head of the global chain names its last event by count and by hash: changing either one
    alone is found; put back, the chain verifies again."""
    finished(line, staff)
    with line.read() as session:
        head = session.get(ChainHead, audit_chain.GLOBAL)
        count, good = head.seq, head.hash
    for changed, shown in (({"hash": "f" * 64}, count), ({"seq": count + 1}, count + 1)):
        with line.write() as session:
            session.execute(update(ChainHead).where(ChainHead.name == audit_chain.GLOBAL).values(changed))
        assert verify.verify_database(line).broken == verify.Break("global", "", None, head_differs(shown, count))
        with line.write() as session:
            session.execute(update(ChainHead).where(ChainHead.name == audit_chain.GLOBAL)
                            .values(seq=count, hash=good))
        assert verify.verify_database(line) == verify.Verdict(count, 1, None)


def test_a_database_without_events_verifies(db):
    """A new installation, before its first case, has no chain head yet: nothing to check, nothing broken."""
    assert verify.verify_database(db) == verify.Verdict(0, 0, None)


def test_a_deleted_middle_event_breaks_the_case_chain(line, staff):
    m = finished(line, staff)
    with line.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event_id(line, m.number, 3)})
    verdict = verify.verify_database(line)
    assert (verdict.broken.case_number, verdict.broken.seq) == (m.number, 4)
    assert "序号不连续" in verdict.broken.problem


def test_the_application_cannot_update_or_delete_an_event(line, staff):
    Matter(line, staff)
    with pytest.raises(AuditTampering):
        with line.write() as session:
            session.scalars(select(AuditEvent)).first().actor = "mallory"
    with pytest.raises(AuditTampering):
        with line.write() as session:
            session.delete(session.scalars(select(AuditEvent)).first())
    assert verify.verify_database(line).ok


def test_a_failed_step_leaves_no_event_and_no_chain_gap(line, staff):
    m = Matter(line, staff)
    with pytest.raises(InvalidInput):
        m.do("UserTask_classify", "leader", kind="承诺件")  # promised_date missing
    m.do("UserTask_classify", "leader", kind="即办件")
    assert verify.verify_database(line).ok


def test_a_case_bundle_verifies_offline_and_tampering_is_found(line, staff, tmp_path):
    m = finished(line, staff)
    bundle = verify.case_bundle(line, staff["auditor"], m.number)
    assert verify.verify_bundle(json.loads(json.dumps(bundle))).ok
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    good = runner.invoke(main, ["audit", "verify", "--bundle", str(path)])  # no DATABASE_URL needed
    assert good.exit_code == 0 and "已验证" in good.output

    bundle["events"][2]["data"] = {"roles": ["管理员"], "due_at": None}
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    bad = runner.invoke(main, ["audit", "verify", "--bundle", str(path)])
    assert bad.exit_code == 1
    assert f"事项 {m.number} 第 3 条" in bad.output and "内容与哈希不符" in bad.output


def test_a_bundle_with_another_diagram_is_refused(line, staff):
    bundle = verify.case_bundle(line, staff["auditor"], finished(line, staff).number)
    bundle["diagram"]["bpmn"] = bundle["diagram"]["bpmn"].replace("分类交办", "随意改名")
    assert "流程图内容与其版本哈希不符" in verify.verify_bundle(bundle).broken.problem
    assert not verify.verify_bundle({"format": "other"}).ok
    number = bundle["case"]["number"]
    verdict = verify.verify_bundle(bundle)
    assert verdict == verify.Verdict(0, 1, verify.Break("bundle", number, None,
                                                        "流程图内容与其版本哈希不符(流程图被改动)"))
    assert str(verdict.broken) == f"事项 {number}: 流程图内容与其版本哈希不符(流程图被改动)"  # a case, no event
    not_ours = verify.Verdict(0, 0, verify.Break("bundle", "", None,
                                                 "不是民议审计包(format 应为 minyi-audit-bundle/1)"))
    assert verify.verify_bundle({**bundle, "format": "other"}) == verify.verify_bundle([bundle]) == not_ours


def test_only_auditors_download_bundles(line, staff):
    from engine.errors import Forbidden

    m = Matter(line, staff)
    with pytest.raises(Forbidden):
        verify.case_bundle(line, staff["handler"], m.number)


def test_cli_verify_reports_the_first_broken_link(line, staff, monkeypatch):
    m = finished(line, staff)
    monkeypatch.setenv("DATABASE_URL", line.url)
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    with line.write() as session:
        session.execute(text("UPDATE audit_events SET at = at WHERE id = :id"), {"id": event_id(line, m.number, 2)})
        session.execute(text("UPDATE audit_events SET kind = 'x' WHERE id = :id"), {"id": event_id(line, m.number, 2)})
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1 and f"事项 {m.number} 第 2 条" in result.output


# --- every field an auditor reads is covered: an edit of any one of them is found --------------------

def _classified(line, number: str):
    """The 分类交办 completion of a case: an event with a step id, step name, lane, actor and form values."""
    with line.read() as session:
        return session.execute(
            select(AuditEvent.id, AuditEvent.seq, AuditEvent.at, AuditEvent.data)
            .join(Case, Case.id == AuditEvent.case_id)
            .where(Case.number == number, AuditEvent.kind == "task_completed",
                   AuditEvent.step_id == "UserTask_classify")
        ).one()


def _edited(field: str, row):
    """A plausible forged value for `field` of `row`, different from the written one."""
    return {
        "at": row.at + timedelta(hours=3),
        "actor": "handler",
        "kind": "task_claimed",
        "step_id": "UserTask_feedback",
        "step_name": "反馈答复",
        "lane": "承办人",
        "data": json.dumps({**row.data, "values": {**row.data["values"], "kind": "建议件"}}, ensure_ascii=False),
    }[field]


AUDITOR_FIELDS = ("at", "actor", "kind", "step_id", "step_name", "lane", "data")


@pytest.mark.parametrize("field", AUDITOR_FIELDS)
def test_editing_any_field_an_auditor_reads_breaks_the_chain_at_that_event(line, staff, field):
    """When (at), who (actor), what happened (kind), which step (id and name), which lane and what was
    entered (data) are all inside the event's hash: editing any one of them in the database is reported
    at exactly that case and event."""
    m, other = finished(line, staff), finished(line, staff)
    row = _classified(line, m.number)
    with line.write() as session:
        session.execute(text(f"UPDATE audit_events SET {field} = :v WHERE id = :id"),
                        {"v": _edited(field, row), "id": row.id})
    verdict = verify.verify_database(line)
    assert (verdict.broken.chain, verdict.broken.case_number, verdict.broken.seq) == ("case", m.number, row.seq)
    assert "内容与哈希不符" in verdict.broken.problem
    del other


@pytest.mark.parametrize("field", AUDITOR_FIELDS)
def test_editing_any_field_of_a_downloaded_bundle_is_found_offline(line, staff, field):
    """The same fields, edited inside a downloaded bundle, are found by the offline check."""
    m = finished(line, staff)
    row = _classified(line, m.number)
    bundle = json.loads(json.dumps(verify.case_bundle(line, staff["auditor"], m.number), ensure_ascii=False))
    event = next(e for e in bundle["events"] if e["seq"] == row.seq)
    forged = _edited(field, row)
    event[field] = (audit_chain.utc_iso(forged) if field == "at" else json.loads(forged) if field == "data" else forged)
    verdict = verify.verify_bundle(bundle)
    assert (verdict.broken.case_number, verdict.broken.seq) == (m.number, row.seq)
    assert "内容与哈希不符" in verdict.broken.problem


def test_an_event_moved_to_another_case_breaks_that_cases_chain(line, staff):
    """Moving a valid event under another case (case_id and seq rewritten to fit) is found: it links to
    the wrong predecessor and its hash covers the case it was written for."""
    m, other = finished(line, staff), Matter(line, staff)
    row = _classified(line, m.number)
    with line.read() as session:
        other_id, other_last = session.execute(
            select(Case.id, func.max(AuditEvent.seq)).join(AuditEvent, AuditEvent.case_id == Case.id)
            .where(Case.number == other.number).group_by(Case.id)).one()
    with line.write() as session:
        session.execute(text("UPDATE audit_events SET case_id = :c, seq = :s WHERE id = :id"),
                        {"c": other_id, "s": other_last + 1, "id": row.id})
    verdict = verify.verify_database(line)
    assert not verdict.ok and verdict.broken.chain == "case"
    assert verdict.broken.case_number in (m.number, other.number)


def test_case_numbers_exchanged_in_the_database_are_found(line, staff):
    """The case number auditors search by is hashed into the case's 登记受理 event, so two cases whose
    numbers are swapped in the cases table no longer verify, and the message names both numbers."""
    first, second = finished(line, staff), finished(line, staff)
    with line.write() as session:
        for old, new in ((first.number, "swap"), (second.number, first.number), ("swap", second.number)):
            session.execute(update(Case).where(Case.number == old).values(number=new))
    verdict = verify.verify_database(line)
    # the first case (checked first) now shows the second's number
    assert (verdict.broken.case_number, verdict.broken.seq) == (second.number, 1)
    assert f"受理编号为 {first.number},与事项编号 {second.number} 不符(记录属于其他事项)" in verdict.broken.problem


# --- a bundle is bound to its case ---------------------------------------------------------------

def test_a_bundle_carrying_another_cases_valid_chain_is_refused(line, staff):
    """Case A's bundle with case B's (internally valid) events, relabelled with B's id so no event looks
    foreign, is refused: B's hashed 登记受理 record names B's number, not A's."""
    a, b = finished(line, staff), finished(line, staff)
    bundle = verify.case_bundle(line, staff["auditor"], a.number)
    theirs = verify.case_bundle(line, staff["auditor"], b.number)
    assert verify.verify_bundle(theirs).ok
    swapped = {**bundle, "case": {**bundle["case"], "id": theirs["case"]["id"]}, "events": theirs["events"]}
    verdict = verify.verify_bundle(json.loads(json.dumps(swapped, ensure_ascii=False)))
    assert (verdict.broken.case_number, verdict.broken.seq) == (a.number, 1)
    assert f"受理编号为 {b.number},与事项编号 {a.number} 不符" in verdict.broken.problem
    assert "记录属于其他事项" in str(verdict.broken)


def test_a_bundle_with_foreign_events_or_none_is_refused(line, staff):
    """Events of another case beside the case's own, or no events at all, are refused; so is a bundle
    whose case names a procedure other than its diagram's."""
    a, b = finished(line, staff), finished(line, staff)
    bundle = verify.case_bundle(line, staff["auditor"], a.number)
    theirs = verify.case_bundle(line, staff["auditor"], b.number)
    mixed = {**bundle, "events": theirs["events"]}
    assert "包内混有其他事项的记录" in verify.verify_bundle(mixed).broken.problem
    assert "第 1 条不是登记受理记录" in verify.verify_bundle({**bundle, "events": []}).broken.problem
    assert "第 1 条不是登记受理记录" in verify.verify_bundle({**bundle, "events": bundle["events"][1:]}).broken.problem
    renamed = {**bundle, "case": {**bundle["case"], "process_id": "yizheng_sanyi"}}
    assert "与包内流程图" in verify.verify_bundle(renamed).broken.problem
    assert verify.verify_bundle(bundle).ok
    # each verdict in full: how much was checked, where, and what is wrong
    events = len(bundle["events"])
    assert verify.verify_bundle(mixed) == verify.Verdict(0, 1, verify.Break("bundle", a.number, None,
                                                                            "包内混有其他事项的记录"))
    assert verify.verify_bundle({**bundle, "events": bundle["events"][1:]}) == verify.Verdict(0, 1, verify.Break(
        "bundle", a.number, 1, "包内第 1 条不是登记受理记录,无法确认记录属于该事项"))
    assert verify.verify_bundle(renamed) == verify.Verdict(events, 1, verify.Break(
        "bundle", a.number, None, f"事项的流程 yizheng_sanyi 与包内流程图 {PROCESS} 不符"))
    assert verify.verify_bundle(bundle) == verify.Verdict(events, 1, None)


def test_a_bundle_of_the_wrong_shape_is_refused_in_chinese(line, staff):
    """A damaged bundle file gets a verdict naming what is missing, never a traceback."""
    bundle = verify.case_bundle(line, staff["auditor"], finished(line, staff).number)
    no_hash = json.loads(json.dumps(bundle, ensure_ascii=False))
    del no_hash["events"][1]["hash"]
    for damaged in (no_hash, {**bundle, "events": "不是列表"}, {**bundle, "case": None}):
        verdict = verify.verify_bundle(damaged)
        assert not verdict.ok and "审计包结构不完整" in verdict.broken.problem
        assert verdict == verify.Verdict(0, 0, verify.Break("bundle", "", None, verdict.broken.problem))


def test_a_timer_batch_continues_each_cases_own_chain(line, staff, frozen_clock):
    """The timer worker fires several cases in one transaction and reads their chain heads in one query
    (`audit_chain.seed_locked`): each case's `timer_fired` event follows that case's own last event, and
    every chain still verifies."""
    waiting = []
    for _ in range(3):
        m = Matter(line, staff)
        m.do("UserTask_classify", "leader", kind="补办件")
        m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
        waiting.append(m.number)
    with line.read() as session:
        heads = dict(session.execute(select(Case.number, func.max(AuditEvent.seq))
                                     .join(AuditEvent, AuditEvent.case_id == Case.id).group_by(Case.number)).all())
    frozen_clock.set(frozen_clock.value + timedelta(days=16))
    assert timers.fire_due(line, batch=5) == 3
    with line.read() as session:
        for number in waiting:
            events = session.execute(select(AuditEvent.seq, AuditEvent.kind, AuditEvent.prev_hash, AuditEvent.hash)
                                     .join(Case, Case.id == AuditEvent.case_id).where(Case.number == number)
                                     .order_by(AuditEvent.seq)).all()
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            fired = next(e for e in events if e.kind == "timer_fired")
            assert fired.seq == heads[number] + 1 and fired.prev_hash == events[fired.seq - 2].hash
    assert verify.verify_database(line).ok


def test_the_hashed_form_of_an_event_never_changes():
    """Audit logs written by earlier versions must still verify after an upgrade, and an auditor can recompute
    a hash by hand: an event's hash is the SHA-256 of the compact, key-sorted, unescaped UTF-8 JSON of
    [case id, seq, time in UTC, actor, kind, step id, step name, lane, data, previous hash]; its link into
    the global chain is the SHA-256 of [global seq, own hash, previous global hash]."""
    at = datetime(2026, 11, 23, 10, 0, 30, 123456, tzinfo=timezone(timedelta(hours=8)))
    genesis = audit_chain.GENESIS
    assert genesis == "0" * 64
    hashed = ('[7,1,"2026-11-23T02:00:30.123456","clerk","case_started","StartEvent_1","登记","受理员",'
              f'{{"n":3,"number":"MQ-2026-0001","标题":"路灯不亮"}},"{genesis}"]')
    own = audit_chain.event_hash(7, 1, at, "clerk", "case_started", "StartEvent_1",
                                 {"number": "MQ-2026-0001", "标题": "路灯不亮", "n": 3}, genesis, "登记", "受理员")
    assert own == hashlib.sha256(hashed.encode("utf-8")).hexdigest()
    assert own == "f7c745aa46bf1d4354de941a561f1cf121f5cd3489a9554e8b0a47e70b1c0eb0"
    linked = audit_chain.global_hash(1, own, genesis)
    assert linked == hashlib.sha256(f'[1,"{own}","{genesis}"]'.encode("utf-8")).hexdigest()
    assert linked == "0aa84cb4815cac9183c3999af94cc70b4f15f3c1836044e4521076c5d0cb63a1"
    assert audit_chain.utc_iso(datetime(2026, 11, 23, 2, 0)) == "2026-11-23T02:00:00"  # a naive time is UTC


def test_an_event_appended_without_a_seeded_head_follows_the_cases_last_event(line, staff):
    """A caller holding the case's lock may append without telling `append` the chain head: it reads the head
    itself. The event follows the case's last one; one without a step stores an empty step and lane."""
    m = finished(line, staff)
    with line.write() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == m.number))
        last = session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.case_id == case_id))
        locks.lock_case(session, case_id)
        appended = audit_chain.append(session, case_id, "auditor", "comment", data={"text": "已核对"})
    assert (appended.case_id, appended.seq, appended.kind) == (case_id, last + 1, "comment")
    with line.read() as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.seq == last + 1))
        assert (row.hash, row.step_id, row.step_name, row.lane) == (appended.hash, "", "", "")
    assert verify.verify_database(line).ok


def test_a_bundle_event_rehashed_by_a_forger_is_found_at_its_global_link_or_at_the_next_event(line, staff):
    """A forger who edits an event of a bundle and recomputes its hash is found at that event by its link
    into the global chain; one who recomputes that link too is found at the next event, whose recorded
    predecessor hash no longer fits."""
    m = finished(line, staff)
    bundle = json.loads(json.dumps(verify.case_bundle(line, staff["auditor"], m.number), ensure_ascii=False))
    event = bundle["events"][2]
    event["actor"] = "someone_else"
    event["hash"] = audit_chain.event_hash(
        event["case_id"], event["seq"], datetime.fromisoformat(event["at"]), event["actor"], event["kind"],
        event["step_id"], event["data"], event["prev_hash"], event["step_name"], event["lane"])
    assert verify.verify_bundle(bundle) == verify.Verdict(3, 1, verify.Break("case", m.number, 3,
                                                                             "全局链哈希与记录不符"))
    event["global_hash"] = audit_chain.global_hash(event["global_seq"], event["hash"], event["global_prev_hash"])
    assert verify.verify_bundle(bundle) == verify.Verdict(4, 1, verify.Break(
        "case", m.number, 4, "前一条的哈希不符:链在此断开(前一条记录被删除、替换或改动)"))


def test_a_bundle_names_its_case_and_the_diagram_it_ran_on(line, staff):
    """What an auditor reads offline beside the events: the case's number, title, procedure, status and
    start, and the diagram's name, file, content hash and BPMN, with every event in order."""
    m = finished(line, staff)
    bundle = verify.case_bundle(line, staff["auditor"], m.number)
    with line.read() as session:
        case = session.scalar(select(Case).where(Case.number == m.number))
        version = session.get(DiagramVersion, case.version_id)
        seqs = session.scalars(select(AuditEvent.seq).where(AuditEvent.case_id == case.id)).all()
        assert bundle["case"] == {"id": case.id, "number": m.number, "process_id": PROCESS, "title": "3号楼暖气不热",
                                  "status": case.status, "started_at": "2026-11-23T02:00:00"}
        assert bundle["diagram"] == {"process_id": PROCESS, "name": version.name, "hash": version.hash,
                                     "filename": version.filename, "bpmn": version.bpmn.decode("utf-8")}
        assert case.status == "completed" and version.filename.endswith(".bpmn") and version.name
    assert [e["seq"] for e in bundle["events"]] == list(range(1, len(seqs) + 1))
    assert bundle["format"] == "minyi-audit-bundle/1"


def test_an_auditor_verifies_the_chains_of_their_units_and_the_global_chain_whole(line, staff):
    """An auditor of one 社区 walks the chains of that 社区's cases only: a broken chain of another 社区 is
    not theirs to see (the 街道's auditor, above both, finds it). The global chain runs through every case and
    is checked whole: a break at another unit's event is reported to them without naming that case."""
    district = units_tree.build(line)
    people = district.people
    gm = cases.start_case(line, people["gm_clerk"], PROCESS, INTAKE, unit_id=district.guangming).case_number
    xf = cases.start_case(line, people["xf_clerk"], PROCESS, INTAKE, unit_id=district.xingfu).case_number
    gm_auditor = users.create_user(line, "gm_auditor", PASSWORD, "光明审计", ["审计"], unit_id=district.guangming)
    with line.read() as session:
        rows = session.execute(select(Case.number, AuditEvent.id, AuditEvent.seq)
                               .join(AuditEvent, AuditEvent.case_id == Case.id).order_by(AuditEvent.global_seq)).all()
    own = [r for r in rows if r.number == gm]
    theirs = [r for r in rows if r.number == xf]
    assert verify.chain_status(line, gm_auditor) == verify.Verdict(len(own), 1, None)
    assert verify.chain_status(line, people["street_auditor"]) == verify.Verdict(len(own) + len(theirs), 2, None)
    mixed = users.create_user(line, "mixed_audit", PASSWORD, "两处任职", ["审计"], unit_id=district.guangming,
                              grants=[("受理员", district.xingfu)])  # a role never lends its reach to another unit
    assert verify.chain_status(line, mixed) == verify.Verdict(len(own), 1, None)

    with line.write() as session:  # another 社区's first event edited: not in this auditor's chains
        session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": theirs[0].id})
    assert verify.chain_status(line, gm_auditor).ok
    assert verify.chain_status(line, people["street_auditor"]).broken.case_number == xf

    last = theirs[-1]  # another 社区's event linked to a forged predecessor: the global chain breaks there
    with line.write() as session:
        session.execute(text("UPDATE audit_events SET global_prev_hash = :h WHERE id = :id"),
                        {"h": "f" * 64, "id": last.id})
    assert verify.chain_status(line, gm_auditor) == verify.Verdict(len(own), 1, verify.Break(
        "global", "", last.seq, "全局链在此断开(记录被改动或替换)"))
    broken = verify.chain_status(line, people["street_auditor"]).broken  # the first break of their chains
    assert (broken.chain, broken.case_number, broken.seq) == ("case", xf, theirs[0].seq)


def _head_reads(sent: list[str]) -> list[str]:
    """Of the SQL sent, each read of a chain head: a case's (`case`) or the global one's (`global`, or
    `global, locked` with PostgreSQL's row lock); and each time the global head row is created (`new global`)."""
    reads = []
    for sql in sent:
        if sql in (audit_chain._CASE_HEAD.sqlite, audit_chain._CASE_HEAD.postgresql):
            reads.append("case")
        elif sql.startswith(audit_chain._GLOBAL_HEAD.sqlite):
            reads.append("global, locked" if sql.endswith("FOR UPDATE") else "global")
        elif sql.startswith("INSERT INTO chain_heads"):
            reads.append("new global")
    return reads


def test_a_completion_reads_its_chain_heads_with_the_steps_lock(
        line, staff, monkeypatch):
    """Completing a step reads its case's chain head in the statement that locks the step, so none of the
    events it writes reads it again. On SQLite that statement reads the global head too: the write
    transaction holds the database's lock from its start, so nobody can move it before the commit. On
    PostgreSQL the global head is read once, row-locked, at the commit — the last lock a writer takes."""
    m = Matter(line, staff)
    task_id = m.task_id("UserTask_classify")
    sent = statements_from_now(line, monkeypatch)
    cases.complete_task(line, staff["leader"], task_id, {"kind": "即办件"})
    assert _head_reads(sent) == ([] if line.is_sqlite else ["global, locked"])
    with line.read() as session:
        written = session.scalars(select(AuditEvent.kind).join(Case).where(Case.number == m.number)).all()
    assert written.count("task_completed") == 1 and len(written) >= 3  # several events, one read
    assert verify.verify_database(line).ok


def test_starting_a_case_reads_no_case_chain_head_and_the_global_head_once(line, staff, monkeypatch):
    """A new case has no events: its chain starts at the genesis hash without a query. The global head is
    read once, at the commit (row-locked on PostgreSQL), once it exists (the first writer makes it, below)."""
    Matter(line, staff)
    sent = statements_from_now(line, monkeypatch)
    Matter(line, staff)
    assert _head_reads(sent) == ["global" if line.is_sqlite else "global, locked"]


def test_a_timer_batch_reads_every_cases_chain_head_in_one_query(line, staff, frozen_clock, monkeypatch):
    """The timer worker locks a batch of cases and reads their chain heads together (`seed_locked`): none of
    the cases' events reads its head again; the global head is read once for the whole batch. The cases' chains
    are of different lengths (a step claimed and put back once or twice more), and each still verifies."""
    for extra in range(3):
        m = Matter(line, staff)
        m.do("UserTask_classify", "leader", kind="补办件")
        m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
        waiting = m.task_id(m.waiting[0])
        for _ in range(extra):
            cases.claim(line, staff["clerk"], waiting)
            cases.unclaim(line, staff["clerk"], waiting)
    frozen_clock.set(frozen_clock.value + timedelta(days=16))
    sent = statements_from_now(line, monkeypatch)
    assert timers.fire_due(line, batch=5) == 3
    assert _head_reads(sent) == ["global" if line.is_sqlite else "global, locked"]
    assert verify.verify_database(line).ok


def test_the_first_event_of_a_database_starts_the_global_chain(line, staff, monkeypatch):
    """In a new database the global chain's head is made by the first writer (found missing, created, read
    again): the first event is global link 1 after the genesis hash, and the head then names the last event
    written. Later writers find it (below: no `new global` once it exists)."""
    with line.read() as session:
        assert session.scalar(select(func.count()).select_from(ChainHead)) == 0
    sent = statements_from_now(line, monkeypatch)
    Matter(line, staff)
    assert _head_reads(sent) == ["global", "new global", "global"] if line.is_sqlite else \
        ["global, locked", "new global", "global, locked"]
    with line.read() as session:
        events = session.execute(select(AuditEvent.global_seq, AuditEvent.global_prev_hash, AuditEvent.global_hash)
                                 .order_by(AuditEvent.global_seq)).all()
        head = session.execute(select(ChainHead.name, ChainHead.seq, ChainHead.hash)).one()
    assert (events[0].global_seq, events[0].global_prev_hash) == (1, audit_chain.GENESIS)
    assert [e.global_seq for e in events] == list(range(1, len(events) + 1))
    assert tuple(head) == ("global", len(events), events[-1].global_hash)


def test_a_naive_time_is_hashed_as_utc_whatever_the_servers_time_zone(monkeypatch):
    """Servers in China often run on Asia/Shanghai: a moment without a zone is still UTC in the hash, so a
    chain written on one server verifies on another."""
    import time

    try:
        monkeypatch.setenv("TZ", "Asia/Shanghai")
        time.tzset()
        assert audit_chain.utc_iso(datetime(2026, 11, 23, 2, 0)) == "2026-11-23T02:00:00"
        assert audit_chain.utc_iso(datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))) \
            == "2026-11-23T02:00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_value_json_has_no_type_for_is_hashed_as_its_text():
    """A date or a decimal in an event's data is hashed as its text, the form the bundle carries, rather
    than failing the step."""
    from datetime import date
    from decimal import Decimal

    assert audit_chain.canonical({"日期": date(2026, 11, 23), "金额": Decimal("1.50")}) \
        == '{"日期":"2026-11-23","金额":"1.50"}'
