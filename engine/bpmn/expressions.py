"""Designer expressions, evaluated safely (no Python `eval`).

Designers write conditions such as ``kind == "承诺件"``, also in the ``${...}`` form
modelers produce. ISO-8601 durations and dates (``P3D``, ``2026-12-01``) may be
written unquoted. Everything is checked against a whitelist of syntax and a fixed
set of functions; attribute access, comprehensions and huge powers are refused.
Every evaluation runs within the cost budget of `budget` (sizes measured before an
operation runs, a time limit per evaluation), and the parts of an expression that
read no case data are computed once at validation.
"""
from __future__ import annotations

import ast
import re
import threading
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import simpleeval

from engine import clock
from engine.errors import ExpressionError

from . import budget, calendar, durations, messages

_WRAPPED = re.compile(r"^\s*\$\{(.*)\}\s*$", re.S)
_ISO_LITERAL = re.compile(
    r"^(R\d*/)?(P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    r"|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)$"
)
_MAX_LENGTH = 2000
_MAX_DEPTH = 100


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValueError(f"不是日期: {str(value)[:40]!r}")


def _at_least(part: Any, whole: Any, ratio: Any) -> bool:
    """part ≥ ratio × whole, in exact arithmetic (三分之二以上)."""
    return budget.fraction(part) >= budget.fraction(ratio) * budget.fraction(whole)


def _more_than(part: Any, whole: Any, ratio: Any) -> bool:
    """part > ratio × whole, in exact arithmetic (过半数)."""
    return budget.fraction(part) > budget.fraction(ratio) * budget.fraction(whole)


def _defined(name: Any) -> bool:
    raise ExpressionError("defined(…) 只能直接写在表达式中,例如 defined('objection_valid')")  # the evaluator answers it


DEFINED = "defined"  # defined('x'): whether the case's data has field x yet (reads the data; see _Evaluator)
FUNCTIONS: dict[str, Any] = {
    DEFINED: _defined,
    "today": lambda: clock.today().isoformat(),
    "now": lambda: clock.now().isoformat(),
    "add_days": lambda d, n: (_as_date(d) + timedelta(days=budget.days(n))).isoformat(),
    "add_workdays": lambda d, n: calendar.add_workdays(_as_date(d), budget.days(n)).isoformat(),
    "at_least": _at_least,
    "more_than": _more_than,
    "len": len,
    "int": budget.to_int,
    "float": budget.to_float,
    "str": budget.to_str,
    "abs": abs,
    "min": min,
    "max": max,
    "round": budget.rounded,
}
# Every operator that can build a value larger than its operands is measured before it runs.
_OPERATORS = {**simpleeval.DEFAULT_OPERATORS, ast.Add: budget.add, ast.Mult: budget.multiply,
              ast.Mod: budget.modulo, ast.Pow: budget.power}

_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.IfExp, ast.Call, ast.Name, ast.Load, ast.Constant,
    ast.List, ast.Tuple, ast.Subscript,
)


def unwrap(text: str) -> str:
    """Strip the ``${...}`` wrapper modelers write, and surrounding space."""
    match = _WRAPPED.match(text or "")
    return (match.group(1) if match else (text or "")).strip()


def is_iso_literal(text: str) -> bool:
    """A date or moment, an ISO duration or a timer cycle of one (`R3/P1D`), written without quotes.
    Durations are read by `durations.parse`, the engine's one reader of them."""
    source = unwrap(text)
    if source.startswith("R"):
        repeat, slash, source = source[1:].partition("/")
        if not slash or not (repeat == "" or repeat.isdigit()):
            return False
    if source.startswith("P"):
        return durations.parse(source) is not None
    return bool(_ISO_LITERAL.match(source))


@lru_cache(maxsize=4096)
def check(text: str) -> ast.Expression | None:
    """Parse and whitelist an expression; raise ExpressionError saying what is wrong.

    Returns None for an ISO literal, which needs no evaluation.
    """
    source = unwrap(text)
    if not source:
        raise ExpressionError("表达式为空")
    if len(source) > _MAX_LENGTH:
        raise ExpressionError(f"表达式过长(超过 {_MAX_LENGTH} 个字符)")
    if is_iso_literal(source):
        return None
    if durations.meant(source):
        raise ExpressionError(durations.problem(source))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"表达式语法错误(第 {exc.offset or 0} 个字符): {source}") from None
    nodes = list(ast.walk(tree))
    if _depth(tree) > _MAX_DEPTH:
        raise ExpressionError(f"表达式嵌套过深(超过 {_MAX_DEPTH} 层): {source[:80]}…")
    for node in nodes:  # escapes first, so the message names the real danger
        if isinstance(node, ast.Attribute):
            raise ExpressionError(f"表达式不允许访问属性(“.{node.attr}”): {source}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"表达式不允许使用以下划线开头的名字 “{node.id}”: {source}")
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"表达式不允许使用 {type(node).__name__}: {source}")
        if isinstance(node, ast.Call):
            _check_call(node, source)
    _check_constant_parts(tree, source)
    return tree


def _check_call(node: ast.Call, source: str) -> None:
    """A call names one of `FUNCTIONS`, without keywords; `defined` takes one quoted field name."""
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise ExpressionError(f"表达式调用了未知函数 “{name}”;可用函数: {', '.join(sorted(FUNCTIONS))}")
    if node.keywords:
        raise ExpressionError(f"表达式不允许关键字参数: {source}")
    if node.func.id == DEFINED and _defined_name(node) is None:
        raise ExpressionError(f"defined(…) 须写一个带引号的字段名,例如 defined('objection_valid'): {source}")


def _depth(tree: ast.AST) -> int:
    """How deeply the expression nests (`-(-(-x))`: 4), counted without recursion, so that
    neither the evaluator nor a message ever recurses past Python's limit."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _constant_parts(tree: ast.Expression) -> list[ast.expr]:
    """The largest parts of an expression that use no case data (a call's function name is not
    data): they give the same value on every case, so validation can compute them."""
    nodes = list(ast.walk(tree))  # parents before children
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    free: dict[int, bool] = {}
    for node in reversed(nodes):
        if isinstance(node, ast.Name):
            free[id(node)] = id(node) in called
        elif _defined_name(node) is not None:
            free[id(node)] = False  # it reads the case's data
        else:
            free[id(node)] = all(free[id(child)] for child in ast.iter_child_nodes(node))
    parts, stack = [], [tree.body]
    while stack:
        node = stack.pop()
        if not free[id(node)]:
            stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))
        elif not isinstance(node, (ast.Constant, ast.Name)):
            parts.append(node)
    return parts


def names_used(text: str) -> frozenset[str]:
    """The case fields and process properties an expression reads (none for an ISO literal)."""
    tree = check(text)
    if tree is None:
        return frozenset()
    nodes = list(ast.walk(tree))
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    return frozenset(n.id for n in nodes if isinstance(n, ast.Name) and id(n) not in called) \
        | {_defined_name(n) for n in nodes if _defined_name(n)}


def _defined_name(node: ast.AST) -> str | None:
    """The field a `defined('x')` call asks about; None for any other node (or a malformed call)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == DEFINED \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def constant_value(text: str) -> tuple[bool, Any]:
    """(True, value) when the expression reads no case data, so validation knows its value; else (False, None)."""
    tree = check(text)
    if tree is None:
        return True, unwrap(text)
    if names_used(text):
        return False, None
    return True, evaluate(text, {})


def _check_constant_parts(tree: ast.Expression, source: str) -> None:
    """A part without case data that cannot be computed (too costly, or wrong) is refused at
    validation rather than failing on a real case."""
    for part in _constant_parts(tree):
        try:
            _run(part, {}, source)
        except ExpressionError as exc:
            text = (ast.get_source_segment(source, part) or "")[:80]
            raise ExpressionError(f"表达式中的 “{text}” 无法计算:{exc.message}") from None


class _Evaluator(simpleeval.SimpleEval):
    def __init__(self) -> None:
        super().__init__(operators=dict(_OPERATORS), functions=FUNCTIONS, names={})
        self.nodes[ast.List] = lambda node: budget.bounded([self._eval(x) for x in node.elts], "列表")
        self.nodes[ast.Tuple] = lambda node: budget.bounded(tuple(self._eval(x) for x in node.elts), "元组")
        self.clock = budget.Clock()

    def _eval(self, node: ast.AST) -> Any:
        self.clock.check()
        return super()._eval(node)

    def _check_disallowed_items(self, item: Any) -> None:
        """simpleeval checks every value a node yields for a module or a forbidden function, walking lists and
        dicts element by element: each reference to a large case value cost a walk of all of it (a 1,000,000-item
        list: 0.1–0.3 s a reference), outside the time limit, which is read between nodes. No container here can
        hold such a thing: names are case data (JSON values, as stored) and process properties, attribute access
        is refused by `check`, calls are to `FUNCTIONS` only, and a list or tuple written in the expression is
        built from nodes each checked on its own. So only a value that is not a container is checked."""
        if not isinstance(item, (list, tuple, set, frozenset, dict)):
            super()._check_disallowed_items(item)

    def _eval_call(self, node: ast.Call) -> Any:
        """`defined('x')` answers from the names (a field a later step fills is not there yet); any other
        call is the library's."""
        name = _defined_name(node)
        if name is not None:
            return name in self.names
        return super()._eval_call(node)

    def _eval_name(self, node: ast.Name) -> Any:
        """A case field or process property (True, False and None are `ast.Constant`s since Python 3.8, never
        names)."""
        if node.id not in self.names:
            raise simpleeval.NameNotDefined(node.id, "")
        return self.names[node.id]


_evaluators = threading.local()


def _evaluator() -> _Evaluator:
    """This thread's evaluator: building one costs more than most evaluations, and it holds no
    state between them but the names and the time limit, which `_run` sets around each use."""
    found = getattr(_evaluators, "one", None)
    if found is None:
        found = _evaluators.one = _Evaluator()
    return found


def _run(node: ast.expr, names: dict[str, Any], source: str) -> Any:
    evaluator = _evaluator()
    outer = evaluator.names, evaluator.clock
    evaluator.names, evaluator.clock = names, budget.Clock()
    try:
        return evaluator._eval(node)
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(f"表达式引用了不存在的字段 “{exc.name}”: {source}") from None
    except ExpressionError as exc:
        raise ExpressionError(f"{exc.message}: {source}") from None
    except Exception as exc:  # a designer's arithmetic on bad data: say which expression
        raise ExpressionError(f"表达式求值失败({messages.evaluation(exc)}): {source}") from None
    finally:
        evaluator.names, evaluator.clock = outer


def evaluate(text: str, names: dict[str, Any]) -> Any:
    """Evaluate a designer expression over case data `names`, within the budget (`budget`)."""
    tree = check(text)
    source = unwrap(text)
    if tree is None:
        return source
    return _run(tree.body, names, source)
