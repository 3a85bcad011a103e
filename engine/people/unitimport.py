"""导入单位: a whole district's units from one CSV or TOML file, all or nothing.

Each unit is one CSV row (header `name,level,parent,beside`, or 名称,层级,上级,旁设) or one TOML table
`[[unit]]` with those keys. `parent` is a name path from a root, "龙山区/龙山街道", naming a unit that
exists already or comes on an earlier line; empty makes a root. `beside` marks a 职能部门 or 包保单位.
A line naming a unit that exists already with the same level is left as it is, so a file can be
imported again; any problem refuses the whole file, each one named with its line and field.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.store.models import Unit

from . import units

MAX_LINES = 5000
MAX_BYTES = 2 * 1024 * 1024
_KEYS = {"name": "name", "名称": "name", "level": "level", "层级": "level", "parent": "parent", "上级": "parent",
         "beside": "beside", "旁设": "beside"}
_FIELDS = {"name": "名称", "level": "层级", "parent": "上级", "beside": "旁设"}
_YES = {"1", "true", "yes", "y", "是", "x", "√", "✓"}
_NO = {"", "0", "false", "no", "n", "否"}
_TABLE = re.compile(r"^\s*\[\[\s*(unit|units|单位)\s*\]\]")


@dataclass(frozen=True)
class Line:
    """One unit of the file, with the line it starts on."""

    number: int
    name: str
    level: str
    parent: str
    beside: bool


@dataclass(frozen=True)
class Imported:
    created: tuple[str, ...]  # the name paths of the new units, in the file's order
    unchanged: tuple[str, ...]  # those already there


class Problems:
    """The problems found so far, each "第 N 行 名称:…"."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, line: int, field: str, message: str) -> None:
        self.found.append(f"第 {line} 行 {_FIELDS.get(field, field)}:{message}")

    def raise_if_any(self) -> None:
        if self.found:
            shown = self.found[:50] + ([f"……另有 {len(self.found) - 50} 处问题"] if len(self.found) > 50 else [])
            raise InvalidInput(f"导入失败,没有导入任何单位:共 {len(self.found)} 处问题", {"file": "\n".join(shown)})


def parse(filename: str, content: bytes) -> list[Line]:
    """The file's lines; InvalidInput (field `file`) listing every problem of form."""
    if len(content) > MAX_BYTES:
        raise InvalidInput("文件太大", {"file": f"文件太大:最多 {MAX_BYTES // 1024 // 1024} MB"})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("文件不是 UTF-8 编码的文字", {"file": "文件不是 UTF-8 编码的文字(请另存为 UTF-8)"}) from None
    if "\x00" in text:
        raise InvalidInput("文件含有 NUL 字符", {"file": "文件含有 NUL 字符,不是文字文件"})
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("csv", "toml"):
        raise InvalidInput("只能导入 .csv 或 .toml 文件", {"file": "只能导入 .csv 或 .toml 文件"})
    problems = Problems()
    rows = _csv_rows(text, problems) if suffix == "csv" else _toml_rows(text, problems)
    problems.raise_if_any()
    if not rows:
        raise InvalidInput("文件中没有单位", {"file": "文件中没有单位"})
    if len(rows) > MAX_LINES:
        raise InvalidInput(f"一次最多导入 {MAX_LINES} 个单位", {"file": f"一次最多导入 {MAX_LINES} 个单位"})
    lines = [line for number, row in rows if (line := _line(number, row, problems)) is not None]
    problems.raise_if_any()
    return lines


def _csv_rows(text: str, problems: Problems) -> list[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(text))
    header = [_KEYS.get(h.strip().lower(), h.strip()) for h in next(reader, [])]
    missing = [_FIELDS[k] for k in ("name", "level") if k not in header]
    if missing:
        problems.add(1, "表头", f"缺少列 {'、'.join(missing)}(表头应为 name,level,parent,beside)")
        return []
    rows = []
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append((reader.line_num, dict(zip(header, row, strict=False))))
    return rows


def _toml_rows(text: str, problems: Problems) -> list[tuple[int, dict]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"line (\d+)", str(exc))
        problems.add(int(at.group(1)) if at else 1, "格式", "不是有效的 TOML")
        return []
    key = next((k for k in ("unit", "units", "单位") if k in data), None)
    tables = data.get(key) if key else None
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        problems.add(1, "格式", "应为一组 [[unit]] 表,每个有 name、level,可有 parent、beside")
        return []
    starts = [n for n, line in enumerate(text.splitlines(), 1) if _TABLE.match(line)]
    return [(starts[i] if i < len(starts) else 0, {_KEYS.get(k, k): v for k, v in t.items()})
            for i, t in enumerate(tables)]


def _line(number: int, row: dict, problems: Problems) -> Line | None:
    values: dict[str, str] = {}
    for field in ("name", "level", "parent"):
        value = row.get(field)
        if not isinstance(value, (str, type(None))):
            problems.add(number, field, "应为文字")
            return None
        values[field] = (value or "").strip()
    for field in ("name", "level"):
        if not values[field]:
            problems.add(number, field, "不能为空")
    beside = row.get("beside")
    if isinstance(beside, bool):
        flag: bool | None = beside
    else:
        text = str(beside if beside is not None else "").strip().lower()
        flag = True if text in _YES else False if text in _NO else None
        if flag is None:
            problems.add(number, "beside", f"应为“是”或“否”,不是“{text[:20]}”")
    parent = "/".join(p.strip() for p in values["parent"].strip("/").split("/")) if values["parent"] else ""
    if not values["name"] or not values["level"] or flag is None:
        return None
    return Line(number, values["name"], values["level"], parent, flag)


def apply(session: Session, actor: str, lines: list[Line], may_add_under: Callable[[Unit | None], bool]) -> Imported:
    """Create the units of `lines` in order; InvalidInput listing every problem (the caller's transaction
    then rolls back whatever was created). `may_add_under(parent)` says whether the actor may add there."""
    problems = Problems()
    made: dict[str, Unit] = {}
    created: list[str] = []
    unchanged: list[str] = []
    for line in lines:
        path = f"{line.parent}/{line.name}" if line.parent else line.name
        if path in made or path in unchanged:
            problems.add(line.number, "name", f"“{path}”在文件中重复")
            continue
        parent = (made.get(line.parent) or units.find(session, line.parent)) if line.parent else None
        if line.parent and parent is None:
            problems.add(line.number, "parent", f"上级“{line.parent}”不存在(须是已有单位,或在文件中较前的行)")
            continue
        if not may_add_under(parent):
            problems.add(line.number, "parent", "只能在您所辖范围内的单位下添加" if parent
                         else "不能为空(顶层单位须在服务器上用 minyi unit add 新建)")
            continue
        existing = units.find(session, path)
        if existing is not None:
            if existing.level == line.level and bool(existing.beside) == line.beside:
                unchanged.append(path)
            else:
                problems.add(line.number, "level", f"“{path}”已存在,层级为“{existing.level}”")
            continue
        try:
            made[path] = units.create_unit(session, actor, line.name, line.level, parent.id if parent else None,
                                           beside=line.beside)
        except InvalidInput as exc:
            field, message = next(iter(exc.fields.items()), ("name", exc.message))
            problems.add(line.number, "parent" if field == "parent_id" else field, message)
            continue
        created.append(path)
    problems.raise_if_any()
    return Imported(tuple(created), tuple(unchanged))
