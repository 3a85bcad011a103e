"""`minyi unit …`: the units tree on the command line, acting as `unitadmin.COMMAND_LINE` (recorded as
“命令行” in 审计 › 单位变更). A unit is named by its id or its name path from the top, "龙山区/龙山街道"."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from engine.errors import MinyiError
from engine.people import unitadmin
from engine.store.db import Database

CLI = unitadmin.COMMAND_LINE


def _run(change: Callable[[Database], str]) -> None:
    """Run one change on the configured database; a refusal is printed (not a traceback), exit code 1."""
    from web.cli import _db

    database = _db()
    try:
        click.echo(change(database))
    except MinyiError as exc:
        fields = getattr(exc, "fields", {})
        click.echo("\n".join([exc.message, *(v for v in fields.values() if v not in exc.message)]), err=True)
        sys.exit(1)
    finally:
        database.dispose()


@click.group(help="单位:列出、新建、改名、调整上级、撤销、恢复、从文件导入")
def unit() -> None:
    pass


@unit.command("list", help="列出全部单位(树形,含编号)")
def unit_list() -> None:
    def shown(database: Database) -> str:
        rows = unitadmin.units_page(database, CLI).rows
        return "\n".join(f"{'  ' * r.unit.depth}{r.unit.name}({r.unit.level}{',旁设' if r.unit.beside else ''}"
                         f"{',已撤销' if r.unit.closed else ''}) #{r.unit.id}" for r in rows)
    _run(shown)


@unit.command("add", help="新建单位,例如: minyi unit add 光明社区 --level 社区 --parent 龙山区/龙山街道")
@click.argument("name")
@click.option("--level", required=True, help="层级,如 区、街道、社区、网格、职能部门、包保单位")
@click.option("--parent", default="", help="上级单位的编号或名称路径;不填则为顶层单位")
@click.option("--beside", is_flag=True, help="旁设单位(职能部门、包保单位:不受理事项)")
def unit_add(name: str, level: str, parent: str, beside: bool) -> None:
    def add(database: Database) -> str:
        parent_id = unitadmin.resolve(database, parent) if parent else ""
        made = unitadmin.add_unit(database, CLI, {"name": name, "level": level, "parent_id": parent_id,
                                                  "beside": beside})
        return f"已新建单位 {made.name}({made.level}) #{made.id}"
    _run(add)


@unit.command("rename", help="改名(可同时改层级),例如: minyi unit rename 1 龙山区 --level 区")
@click.argument("unit_ref", metavar="UNIT")
@click.argument("name")
@click.option("--level", default=None, help="新的层级")
def unit_rename(unit_ref: str, name: str, level: str | None) -> None:
    def rename(database: Database) -> str:
        changed = unitadmin.rename(database, CLI, unitadmin.resolve(database, unit_ref), name, level)
        return f"已改为 {changed.name}({changed.level})"
    _run(rename)


@unit.command("move", help="调整上级(连同全部下级单位),例如: minyi unit move 龙山区/龙山街道/光明社区 龙山区/东城街道")
@click.argument("unit_ref", metavar="UNIT")
@click.argument("parent", metavar="NEW_PARENT")
def unit_move(unit_ref: str, parent: str) -> None:
    def move(database: Database) -> str:
        moved = unitadmin.move(database, CLI, unitadmin.resolve(database, unit_ref),
                               unitadmin.resolve(database, parent))
        return f"已把 {moved.name} 移到新的上级之下"
    _run(move)


@unit.command("close", help="撤销单位(须先撤销其下级单位;事项和记录保留)")
@click.argument("unit_ref", metavar="UNIT")
def unit_close(unit_ref: str) -> None:
    _run(lambda database: f"已撤销 {unitadmin.close(database, CLI, unitadmin.resolve(database, unit_ref)).name}")


@unit.command("reopen", help="恢复已撤销的单位(须先恢复其上级)")
@click.argument("unit_ref", metavar="UNIT")
def unit_reopen(unit_ref: str) -> None:
    _run(lambda database: f"已恢复 {unitadmin.reopen(database, CLI, unitadmin.resolve(database, unit_ref)).name}")


@unit.command("import", help="从 CSV 或 TOML 文件导入单位(表头/键: name, level, parent, beside);有任何错误则全部不导入")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def unit_import(file: Path) -> None:
    def load(database: Database) -> str:
        done = unitadmin.import_units(database, CLI, file.name, file.read_bytes())
        kept = f",{len(done.unchanged)} 个已有的未改动" if done.unchanged else ""
        return f"已导入 {len(done.created)} 个单位{kept}"
    _run(load)
