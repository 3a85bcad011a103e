"""The `minyi` command line: database, users, demo data, validation — messages, never tracebacks."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.people import accounts, users
from engine.store.db import Database
from tests.conftest import DATA, PROCESSES
from web.cli import main


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return CliRunner()


def test_validate_accepts_the_shipped_diagrams(runner):
    result = runner.invoke(main, ["validate", str(PROCESSES)])
    assert result.exit_code == 0, result.output
    assert "✓" in result.output and "minqing_liushuixian.bpmn" in result.output


def test_validate_names_file_element_line_and_problem(runner, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text((DATA / "approval.bpmn").read_text().replace('default="F_no"', ""))
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "✗" in result.output
    assert "bad.bpmn:" in result.output and "F_no" in result.output and "没有条件" in result.output
    assert "Traceback" not in result.output


def test_database_users_and_demo(runner, tmp_path):
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    users.use_fast_hashing()
    result = runner.invoke(main, ["user", "create", "wang", "--name", "王受理", "--role", "受理员",
                                  "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["user", "create", "wang", "--role", "受理员", "--password", "long-enough-pw"])
    assert again.exit_code == 1 and "已存在" in again.output
    short = runner.invoke(main, ["user", "create", "li", "--role", "受理员", "--password", "short"])
    assert short.exit_code == 1 and "至少 8 位" in short.output
    bad_mail = runner.invoke(main, ["user", "create", "li", "--role", "受理员", "--email", "li@", "--password",
                                    "long-enough-pw"])
    assert bad_mail.exit_code == 1 and "电子邮箱地址不正确" in bad_mail.output and "Traceback" not in bad_mail.output
    mailed = runner.invoke(main, ["user", "create", "li", "--role", "受理员", "--email", "li@example.org",
                                  "--password", "long-enough-pw"])
    assert mailed.exit_code == 0, mailed.output
    reset = runner.invoke(main, ["user", "password", "wang", "--password", "another-long-pw"])
    assert reset.exit_code == 0 and "已重设 wang 的密码" in reset.output
    unknown = runner.invoke(main, ["user", "password", "nobody", "--password", "another-long-pw"])
    assert unknown.exit_code == 1 and "不存在" in unknown.output
    token = runner.invoke(main, ["user", "token", "wang"])
    assert token.exit_code == 0 and len(token.output.strip()) > 30
    demo = runner.invoke(main, ["demo"])
    assert demo.exit_code == 0, demo.output
    assert "部署" in demo.output and "事项 MQ-" in demo.output
    assert runner.invoke(main, ["demo"]).exit_code == 0  # idempotent
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    assert {"clerk", "leader", "wang", "li"} <= {a.username for a in users.list_users(db)}
    assert users.authenticate(db, "wang", "another-long-pw").session_version == 1
    admin = {a.username: a for a in users.list_users(db)}["admin"]
    assert {a.username: a.email for a in accounts.list_accounts(db, admin)}["li"] == "li@example.org"
    db.dispose()


def test_every_command_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    def walk(group, prefix):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, f"{prefix} {name}")
            else:
                yield f"{prefix} {name}".strip()
    missing = [c for c in walk(main, "minyi") if f"`{c}" not in readme]
    assert missing == [], f"README does not document: {missing}"


def test_a_backup_is_a_checked_copy_that_the_app_can_run_on(runner, tmp_path, monkeypatch):
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    users.use_fast_hashing()
    assert runner.invoke(main, ["demo"]).exit_code == 0
    target = tmp_path / "backup.db"
    result = runner.invoke(main, ["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []
    # the copy holds the same cases and its audit chains verify
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{target}")
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    original, copy = Database(f"sqlite:///{tmp_path / 'cli.db'}"), Database(f"sqlite:///{target}")
    try:
        with original.read() as a, copy.read() as b:
            from sqlalchemy import func, select

            from engine.store.models import AuditEvent, Case

            for model in (Case, AuditEvent):
                assert a.scalar(select(func.count()).select_from(model)) == b.scalar(
                    select(func.count()).select_from(model)) > 0
    finally:
        original.dispose()
        copy.dispose()
    again = runner.invoke(main, ["db", "backup", str(target)])
    assert again.exit_code == 1 and "已存在,不会覆盖" in again.output
