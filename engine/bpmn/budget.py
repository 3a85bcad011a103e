"""The cost budget of one expression evaluation (表达式计算限制): bounded sizes and a time limit.

A time limit cannot interrupt one operation running in C (building a 1 GB string, comparing two
400-million-element lists), so every operation that can build a large value is refused *before* it
runs when its result would be too large, and no value an expression builds is ever larger than
`MAX_SIZE`. Scanning (`in`, `==`, `<`, `min`, `len`…) is then bounded by the size of its operands,
and the time limit bounds how many such bounded operations one evaluation may do.

The size of a value is about how many characters it takes written out, nested lists counted in
full: `[[0] * 20000] * 20000` is 400 million, although Python holds it in 160 kB.
"""
from __future__ import annotations

import operator
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

from engine.errors import ExpressionError

MAX_SIZE = 100_000
MAX_DIGITS = 1000
MAX_POWER_EXPONENT = 64
MAX_POWER_BASE = 10**6
MAX_DAYS = 36_600
MAX_FORMAT_WIDTH = 100
TIME_LIMIT = 0.2  # seconds of this thread's CPU time per evaluation

_SEQUENCES = (str, bytes, list, tuple)
_BITS_PER_DIGIT = 3.3219280948873626
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+)?)?[hlL]?(.)", re.S)
_RATIO = re.compile(r"^\s*[+-]?\d{1,30}(\.\d{1,30})?(/\d{1,30})?\s*$")


def refuse(what: str) -> ExpressionError:
    return ExpressionError(f"表达式超出计算限制:{what}")


def _digits(value: int) -> int:
    return int(value.bit_length() / _BITS_PER_DIGIT) + 1


def size(value: Any, limit: int = MAX_SIZE) -> int:
    """About the number of characters `value` takes written out; counting stops past `limit`,
    so measuring costs at most `limit` steps whatever the value."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += _digits(item)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total <= limit:
                stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        else:
            total += 32
        if total > limit:
            return total
    return total


def bounded(value: Any, what: str) -> Any:
    """`value` when an expression may hold it; refused when larger than `MAX_SIZE` or `MAX_DIGITS`."""
    if isinstance(value, int) and not isinstance(value, bool):
        if _digits(value) > MAX_DIGITS + 1:
            raise refuse(f"{what}得到的整数超过 {MAX_DIGITS} 位")
    elif size(value) > MAX_SIZE:
        raise refuse(f"{what}的结果超过 {MAX_SIZE} 个字符")
    return value


VALIDATION_TIME_LIMIT = 2.0  # seconds of CPU for every expression computed while validating one diagram
_shared = threading.local()


@contextmanager
def validating() -> Iterator[None]:
    """One time limit for all the expressions computed at validation of a diagram (their parts that
    read no case data): a 5 MB file holds thousands of expressions, each within its own limit."""
    outer = getattr(_shared, "ends", None)
    _shared.ends = time.thread_time() + VALIDATION_TIME_LIMIT if outer is None else outer
    try:
        yield
    finally:
        _shared.ends = outer


class Clock:
    """The time limit of one evaluation, on the evaluating thread's CPU time (a busy machine
    slows a wall clock, not this one). At run time it is read every few steps: reading it costs a
    system call, and a few steps, each bounded in size, take far less than the limit. At validation
    it is read at every step, against the diagram's shared limit too."""

    EVERY = 8

    def __init__(self) -> None:
        self.ends: float | None = None
        self.steps = 0

    def check(self) -> None:
        self.steps += 1
        shared = getattr(_shared, "ends", None)
        if self.steps % self.EVERY and shared is None:
            return
        now = time.thread_time()
        if shared is not None and now > shared:
            raise refuse(f"流程图中的表达式合计计算超过 {VALIDATION_TIME_LIMIT:g} 秒")
        if self.ends is None:
            self.ends = now + TIME_LIMIT
        elif now > self.ends:
            raise refuse(f"求值超过 {TIME_LIMIT:g} 秒")


# --- operators ------------------------------------------------------------------------

def add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and size(a) + size(b) > MAX_SIZE:
        raise refuse(f"连接(+)的结果超过 {MAX_SIZE} 个字符")
    return bounded(operator.add(a, b), "加法(+)")


def multiply(a: Any, b: Any) -> Any:
    """Repetition (`'x' * n`, `[0] * n`) is measured before it is built; so are integer products."""
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, _SEQUENCES) and isinstance(times, int):
            if times > 0 and size(seq) * times > MAX_SIZE:
                raise refuse(f"重复(*)的结果超过 {MAX_SIZE} 个字符")
            return operator.mul(a, b)
    if isinstance(a, int) and isinstance(b, int) and _digits(a) + _digits(b) > MAX_DIGITS + 2:
        raise refuse(f"乘法(*)得到的整数超过 {MAX_DIGITS} 位")
    return operator.mul(a, b)


def modulo(a: Any, b: Any) -> Any:
    """`'%05d' % n` formats: widths and precisions are bounded, `*` widths are refused."""
    if isinstance(a, (str, bytes)):
        text = a.decode("latin-1") if isinstance(a, bytes) else a
        for match in _FORMAT_SPEC.finditer(text):
            width, precision = match.group(1), match.group(2)
            if "*" in (width, precision):
                raise refuse("格式化(%)不允许用 * 指定宽度")
            if any(n is not None and n != "*" and int(n) > MAX_FORMAT_WIDTH for n in (width, precision)):
                raise refuse(f"格式化(%)的宽度或精度超过 {MAX_FORMAT_WIDTH}")
        if size(b) > MAX_SIZE:
            raise refuse(f"格式化(%)的参数超过 {MAX_SIZE} 个字符")
        return bounded(operator.mod(a, b), "格式化(%)")
    return operator.mod(a, b)


def power(base: Any, exponent: Any) -> Any:
    if abs(exponent) > MAX_POWER_EXPONENT or (isinstance(base, int) and abs(base) > MAX_POWER_BASE):
        raise ExpressionError(f"乘方过大: {base} ** {exponent}")
    return operator.pow(base, exponent)


# --- functions -----------------------------------------------------------------------

def to_str(value: Any = "") -> str:
    if size(value) > MAX_SIZE:
        raise refuse(f"str() 的参数超过 {MAX_SIZE} 个字符")
    return bounded(str(value), "str()")


def to_int(value: Any = 0, *base: Any) -> int:
    if isinstance(value, (str, bytes)) and len(value) > MAX_DIGITS + 10:
        raise refuse(f"int() 的参数超过 {MAX_DIGITS} 位")
    return bounded(int(value, *base), "int()")


def to_float(value: Any = 0.0) -> float:
    if isinstance(value, (str, bytes)) and len(value) > MAX_DIGITS + 10:
        raise refuse(f"float() 的参数超过 {MAX_DIGITS} 个字符")
    return float(value)


def rounded(value: Any, *ndigits: Any) -> Any:
    if ndigits and isinstance(ndigits[0], int) and abs(ndigits[0]) > MAX_DIGITS:
        raise refuse(f"round() 的位数超过 {MAX_DIGITS}")
    return round(value, *ndigits)


def days(n: Any) -> int:
    """A number of days to add: at most `MAX_DAYS` (about 100 years) either way."""
    count = to_int(n)
    if abs(count) > MAX_DAYS:
        raise refuse(f"天数 {count} 超过 {MAX_DAYS}")
    return count


def fraction(value: Any) -> Fraction:
    """A number or a ratio written `2/3`, `0.5` (never `1e999999999`, which Fraction would expand)."""
    if isinstance(value, (int, float, Fraction)):
        return Fraction(value)
    if isinstance(value, str) and _RATIO.match(value):
        return Fraction(value.strip())
    raise ValueError(f"不是数字或比例: {str(value)[:40]!r}")
