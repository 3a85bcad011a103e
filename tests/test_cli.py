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


def test_units_on_the_command_line(runner, tmp_path):
    """`minyi unit …` builds and changes the tree by ids or name paths; a refusal is a message and exit code 1;
    every change is recorded as made on the command line."""
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    users.use_fast_hashing()
    assert runner.invoke(main, ["unit", "rename", "1", "龙山区", "--level", "区"]).exit_code == 0
    district = tmp_path / "district.toml"
    district.write_text('[[unit]]\nname = "龙山街道"\nlevel = "街道"\nparent = "龙山区"\n', encoding="utf-8")
    imported = runner.invoke(main, ["unit", "import", str(district)])
    assert imported.exit_code == 0 and "已导入 1 个单位" in imported.output
    added = runner.invoke(main, ["unit", "add", "光明社区", "--level", "社区", "--parent", "龙山区/龙山街道"])
    assert added.exit_code == 0 and "已新建单位 光明社区(社区)" in added.output
    beside = runner.invoke(main, ["unit", "add", "民政科", "--level", "职能部门", "--parent", "1", "--beside"])
    assert beside.exit_code == 0
    moved = runner.invoke(main, ["unit", "move", "龙山区/龙山街道/光明社区", "龙山区"])
    assert moved.exit_code == 0, moved.output
    assert runner.invoke(main, ["unit", "close", "龙山区/民政科"]).exit_code == 0
    listed = runner.invoke(main, ["unit", "list"])
    assert listed.output.splitlines() == ["龙山区(区) #1", "  光明社区(社区) #3", "  龙山街道(街道) #2",
                                          "  民政科(职能部门,旁设,已撤销) #4"]  # siblings by name, 旁设 last
    refused = runner.invoke(main, ["unit", "move", "1", "龙山区/龙山街道"])
    assert refused.exit_code == 1 and "不能把“龙山区”移到它自己或它的下级单位之下" in refused.output
    unknown = runner.invoke(main, ["unit", "close", "龙山区/没有"])
    assert unknown.exit_code == 1 and "单位“龙山区/没有”不存在" in unknown.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name,level,parent\n东城街道,,龙山区\n", encoding="utf-8")
    failed = runner.invoke(main, ["unit", "import", str(bad)])
    assert failed.exit_code == 1 and "第 2 行 层级:不能为空" in failed.output and "Traceback" not in failed.output
    made = runner.invoke(main, ["user", "create", "wangge", "--role", "网格员", "--unit", "龙山区/光明社区",
                                "--password", "long-enough-pw"])
    assert made.exit_code == 0, made.output
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        assert users.authenticate(db, "wangge", "long-enough-pw").grants == frozenset({("网格员", 3)})
        from engine.actor import Actor
        from engine.people import unitadmin

        changes = unitadmin.unit_changes(db, Actor(None, "审计", "审计", frozenset({"审计"}), scope=None))
        assert {c.actor for c in changes} == {"命令行"} and len(changes) == 6
    finally:
        db.dispose()
