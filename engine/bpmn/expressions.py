"""Designer expressions, evaluated safely (no Python `eval`).

Designers write conditions such as ``kind == "承诺件"``, also in the ``${...}`` form
modelers produce. ISO-8601 durations and dates (``P3D``, ``2026-12-01``) may be
written unquoted. Everything is checked against a whitelist of syntax and a fixed
set of functions; attribute access, comprehensions and huge powers are refused.
"""
from __future__ import annotations

import ast
import operator
import re
import threading
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any

import simpleeval

from engine import clock
from engine.errors import ExpressionError

from . import calendar, durations, messages

_WRAPPED = re.compile(r"^\s*\$\{(.*)\}\s*$", re.S)
_ISO_LITERAL = re.compile(
    r"^(R\d*/)?(P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    r"|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)$"
)
_MAX_LENGTH = 2000
_MAX_POWER_EXPONENT = 64


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
    raise ValueError(f"不是日期: {value!r}")


def _fraction(value: Any) -> Fraction:
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"不是比例: {value!r}") from exc


def _at_least(part: Any, whole: Any, ratio: Any) -> bool:
    """part ≥ ratio × whole, in exact arithmetic (三分之二以上)."""
    return Fraction(part) >= _fraction(ratio) * Fraction(whole)


def _more_than(part: Any, whole: Any, ratio: Any) -> bool:
    """part > ratio × whole, in exact arithmetic (过半数)."""
    return Fraction(part) > _fraction(ratio) * Fraction(whole)


def _safe_power(base: Any, exponent: Any) -> Any:
    if abs(exponent) > _MAX_POWER_EXPONENT or (isinstance(base, int) and abs(base) > 10**6):
        raise ValueError(f"乘方过大: {base} ** {exponent}")
    return operator.pow(base, exponent)


FUNCTIONS: dict[str, Any] = {
    "today": lambda: clock.today().isoformat(),
    "now": lambda: clock.now().isoformat(),
    "add_days": lambda d, n: (_as_date(d) + timedelta(days=int(n))).isoformat(),
    "add_workdays": lambda d, n: calendar.add_workdays(_as_date(d), int(n)).isoformat(),
    "at_least": _at_least,
    "more_than": _more_than,
    "len": len,
    "int": int,
    "float": float,
    "str": str,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
}

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
    for node in nodes:  # escapes first, so the message names the real danger
        if isinstance(node, ast.Attribute):
            raise ExpressionError(f"表达式不允许访问属性(“.{node.attr}”): {source}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"表达式不允许使用以下划线开头的名字 “{node.id}”: {source}")
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"表达式不允许使用 {type(node).__name__}: {source}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(
                    f"表达式调用了未知函数 “{name}”;可用函数: {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords:
                raise ExpressionError(f"表达式不允许关键字参数: {source}")
    return tree


class _Evaluator(simpleeval.SimpleEval):
    def __init__(self) -> None:
        operators = dict(simpleeval.DEFAULT_OPERATORS)
        operators[ast.Pow] = _safe_power
        super().__init__(operators=operators, functions=FUNCTIONS, names={})
        self.nodes[ast.List] = lambda node: [self._eval(x) for x in node.elts]
        self.nodes[ast.Tuple] = lambda node: tuple(self._eval(x) for x in node.elts)

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id not in self.names:
            raise simpleeval.NameNotDefined(node.id, "")
        return self.names[node.id]


_evaluators = threading.local()


def _evaluator() -> _Evaluator:
    """This thread's evaluator: building one costs more than most evaluations, and it holds no
    state between them but the names, which `evaluate` sets and clears around each use."""
    found = getattr(_evaluators, "one", None)
    if found is None:
        found = _evaluators.one = _Evaluator()
    return found


def evaluate(text: str, names: dict[str, Any]) -> Any:
    """Evaluate a designer expression over case data `names`."""
    tree = check(text)
    source = unwrap(text)
    if tree is None:
        return source
    evaluator = _evaluator()
    outer, evaluator.names = evaluator.names, names
    try:
        return evaluator._eval(tree.body)
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(f"表达式引用了不存在的字段 “{exc.name}”: {source}") from None
    except ExpressionError:
        raise
    except Exception as exc:  # a designer's arithmetic on bad data: say which expression
        raise ExpressionError(f"表达式求值失败({messages.evaluation(exc)}): {source}") from None
    finally:
        evaluator.names = outer
