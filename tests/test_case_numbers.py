"""受理编号 (issue #17): each procedure, and its 试运行, counts its own cases, so a clerk's MQ numbers run
on without gaps whatever else was started meanwhile; numbers issued before the change stay as they were."""
from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import text

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.design import trial
from engine.people import users
from engine.store import migrate
from tests.conftest import PROCESSES
from tests.minqing import Matter
from tests.yizheng import Matter as Consultation


def test_each_procedure_numbers_its_cases_one_after_another(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    first = Matter(db, staff).number
    Consultation(db, staff)
    Consultation(db, staff)
    second = Matter(db, staff).number
    assert (first, second) == ("MQ-20261123-000001", "MQ-20261123-000002")


def test_a_trial_counts_on_its_own_and_takes_no_number_from_real_cases(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    with db.read() as session:
        version = deployments.latest_version_id(session, "minqing_liushuixian")
    designer = users.create_user(db, "sheji", "minyi-test-pw", "何设计", ["流程设计人员"])
    tried = trial.start(db, designer, version, {"channel": "政务大厅集中受理", "topic": "其他", "title": "试一下",
                                                "description": "试运行"})
    real = Matter(db, staff).number
    assert (tried.case_number, real) == ("试运行-MQ-20261123-000001", "MQ-20261123-000001")


def test_the_migration_continues_each_prefix_after_its_highest_existing_number(db):
    """Numbers issued before the migration end in the shared case id; each prefix's counter starts after
    the highest of its own, so no number is issued twice and none changes."""
    config = migrate._config()
    with db.engine.begin() as connection:  # back to the schema before case_sequences
        config.attributes["connection"] = connection
        command.downgrade(config, "c4a1e7d3b2f9")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO diagram_versions (id, process_id, name, hash, draft, bpmn, filename, note, "
                          "deployed_by, deployed_at) VALUES (1, 'p', 'p', 'h', :f, :b, 'p.bpmn', '', 'x', :at)"),
                     {"f": False, "b": b"<x/>", "at": datetime(2026, 11, 1)})
        for number in ("MQ-20261101-000004", "YZ-20261101-000005", "MQ-20261102-000009", "试运行-MQ-20261102-000010"):
            conn.execute(text("INSERT INTO cases (number, version_id, process_id, title, status, started_by, "
                              "started_at, updated_at, sandbox, revision) VALUES (:n, 1, 'p', '', 'running', 'x', "
                              ":at, :at, :f, 1)"), {"n": number, "at": datetime(2026, 11, 1), "f": False})
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        counters = dict(conn.execute(text("SELECT prefix, last_number FROM case_sequences")).all())
    assert counters == {"MQ": 9, "YZ": 5, "试运行-MQ": 10}
