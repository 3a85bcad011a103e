"""The cost budget of a designer expression (表达式计算限制, issue #16).

An expression runs inside the write transaction of a case: whatever it costs, every other writer
waits. So no expression may build or scan a large value, and none may run longer than a fraction of
a second. Each attack below must end — refused, with a Chinese message saying why — in well under
one second, whether its large numbers are written in the expression (refused already at validation)
or come from case data (refused when it runs).
"""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from engine.bpmn import budget, expressions
from engine.errors import ExpressionError


def _refused_quickly(text: str, names: dict, says: str) -> str:
    """Refused within one second of this thread's CPU time (what the attack costs the server; a wall
    clock would also count the other tests sharing the machine)."""
    started = time.thread_time()
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(text, names)
    assert time.thread_time() - started < 1.0
    assert says in err.value.message
    return err.value.message


# Attacks written into the diagram: refused when the diagram is validated (`check`), before any case runs.
@pytest.mark.parametrize("attack, says", [
    ("[0]*20000 in [[0]*20000]*20000", "重复(*)的结果超过"),
    ("'%0999999999d' % 0", "宽度或精度超过"),
    ("'%.999999999f' % 1.5", "宽度或精度超过"),
    ("'%*d' % (999999999, 0)", "不允许用 * 指定宽度"),
    ("str([[0]*9999]*9999)", "重复(*)的结果超过"),
    ("'x' * 10**9", "重复(*)的结果超过"),
    ("['x'] * 4000 * 4000", "重复(*)的结果超过"),
    ("[[0] * 300] * 300 == [[0] * 300] * 300", "重复(*)的结果超过"),
    ("(10**6)**64 * (10**6)**64 * (10**6)**64", "整数超过 1000 位"),
    ("round(5, -10**8)", "round() 的位数超过"),
    ("add_workdays(today(), 10**8)", "天数 100000000 超过"),
    ("add_days(today(), 10**12)", "超过"),
    ("at_least(1, 1, '1e999999999')", "不是数字或比例"),
    ("int('9' * 5000)", "超过"),
    ("-" * 500 + "1", "嵌套过深"),
    ("1" + "+1" * 600, "嵌套过深"),
])
def test_a_costly_constant_is_refused_at_validation(attack, says):
    started = time.thread_time()
    with pytest.raises(ExpressionError) as err:
        expressions.check(attack)
    assert time.thread_time() - started < 1.0
    assert says in err.value.message
    assert "表达式" in err.value.message


# Attacks whose large numbers come from case data: nothing to see at validation, refused as they run.
@pytest.mark.parametrize("attack, names, says", [
    ("'x' * n", {"n": 10**9}, "重复(*)的结果超过"),
    ("[text] * n", {"text": "长" * 1000, "n": 1000}, "重复(*)的结果超过"),
    ("[row] * n in [[row] * n] * n", {"row": [0] * 1000, "n": 1000}, "重复(*)的结果超过"),
    ("str([row] * n)", {"row": [0] * 9999, "n": 9999}, "重复(*)的结果超过"),
    ("str(rows)", {"rows": [[0] * 1000] * 1000}, "str() 的参数超过"),
    ("pattern % 0", {"pattern": "%0999999999d"}, "宽度或精度超过"),
    ("pattern % (n, 0)", {"pattern": "%*d", "n": 10**9}, "不允许用 * 指定宽度"),
    ("n * n * n * n", {"n": 10**400}, "整数超过 1000 位"),
    ("b ** e", {"b": 10**7, "e": 2}, "乘方过大"),
    ("round(5, n)", {"n": -10**8}, "round() 的位数超过"),
    ("add_workdays(today(), n)", {"n": 10**8}, "天数 100000000 超过"),
    ("more_than(part, 1, '1/2')", {"part": "1e999999999"}, "不是数字或比例"),
    ("int(digits)", {"digits": "9" * 100_000}, "int() 的参数超过"),
    ("[a, a, a, a, a, a, a, a, a, a] * 2", {"a": "x" * 50_000}, "列表的结果超过"),
    ("a + a + a", {"a": "x" * 40_000}, "连接(+)的结果超过"),
])
def test_a_costly_value_from_case_data_is_refused_as_it_runs(attack, names, says):
    expressions.check(attack)  # nothing wrong to see before the data is known
    _refused_quickly(attack, names, says)


@pytest.mark.parametrize("attack", [
    "'x'.ljust(10**9)", "'x'.center(10**9)", "'0'.zfill(10**9)", "'\\t'.expandtabs(10**9)",
    "','.join(['x'] * 10)", "'a'.replace('a', 'aa')", "'{:>999999999}'.format(1)",
])
def test_string_methods_are_refused_as_attribute_access(attack):
    _refused_quickly(attack, {}, "不允许访问属性")


@pytest.mark.parametrize("attack, says", [
    ("sum(range(10**12))", "未知函数 “sum”"),
    ("sorted(range(10**12))", "未知函数 “sorted”"),
    ("max(range(10**12))", "未知函数 “range”"),
    ("format(1, '>999999999')", "未知函数 “format”"),
])
def test_functions_that_scan_huge_ranges_do_not_exist(attack, says):
    _refused_quickly(attack, {}, says)


def test_the_time_limit_stops_many_bounded_operations():
    """Each comparison of two large case values is bounded, but hundreds of them are not cheap:
    the evaluation stops at the time limit instead of holding the transaction — at the limit, not a multiple of
    it: merely naming a large value costs nothing (simpleeval walked all of it at every reference, outside the
    limit, so this took 0.8–1.0 s of CPU on a slow host against a limit of 0.2).
    The two lists hold equal but distinct strings, so every comparison reads every item (about 8 ms each on a
    slow host, 200 of them 1.7 s); lists sharing their items compare by identity, 0.4 ms each, and 200 of those
    ended under the limit on a fast enough host."""
    a = [f"第{i}号" for i in range(1_000_000)]
    b = [f"第{i}号" for i in range(999_999)] + ["末"]
    started = time.thread_time()
    message = _refused_quickly(" or ".join(["a == b"] * 200), {"a": a, "b": b}, "求值超过")
    assert f"{budget.TIME_LIMIT:g} 秒" in message
    assert time.thread_time() - started < budget.TIME_LIMIT + 0.3


@pytest.mark.parametrize("text, names, expected", [
    ("'-' * 20", {}, "-" * 20),
    ("[0] * n", {"n": 3}, [0, 0, 0]),
    ("'%05d号' % n", {"n": 12}, "00012号"),
    ("'%s:%s' % (a, b)", {"a": "甲", "b": 2}, "甲:2"),
    ("str(votes) + '票'", {"votes": 31}, "31票"),
    ("len(description) > 1000", {"description": "很长" * 40_000}, True),
    ("description == other", {"description": "字" * 200_000, "other": "字" * 200_000}, True),
    ("add_workdays('2026-09-30', 3)", {}, "2026-10-10"),
    ("at_least(present, members, '2/3')", {"present": "20", "members": 30}, True),
    ("round(ratio * 100, 1)", {"ratio": 2 / 3}, 66.7),
    ("2 ** 10", {}, 1024),
])
def test_ordinary_expressions_stay_within_the_budget(text, names, expected):
    """The limits are far above what a procedure needs: large case values may still be read and compared."""
    assert expressions.evaluate(text, names) == expected


def test_a_budget_error_leaves_the_evaluator_usable():
    with pytest.raises(ExpressionError):
        expressions.evaluate("'x' * n", {"n": 10**9})
    assert expressions.evaluate("n + 1", {"n": 1}) == 2


def test_validating_a_diagram_has_one_time_limit_for_all_its_expressions(monkeypatch):
    """A 5 MB diagram holds thousands of expressions, each just within its own limit; computing their
    constant parts at validation stops at one shared limit (lowered here to keep the test fast). The
    expressions below would take about 8 s of CPU on a slow host, so they pass the limit on any machine."""
    monkeypatch.setattr(budget, "VALIDATION_TIME_LIMIT", 0.3)
    started = time.thread_time()
    with budget.validating(), pytest.raises(ExpressionError) as err:
        for n in range(10_000):  # distinct texts: `check` caches what it has seen
            expressions.check(" or ".join([f"[{n}] * 12000 == [0] * 12000"] * 10))
    assert "流程图中的表达式合计计算超过 0.3 秒" in err.value.message
    assert time.thread_time() - started < 1.0
    expressions.check("[7] * 12000 == [0] * 12000")  # outside a validation, each expression has its own limit


# --- the measure and each limit, exactly: at the limit computed, one beyond refused ---------------------

@pytest.mark.parametrize("value, measured", [
    ("", 0), ("abc", 3), (b"ab", 2), (True, 5), (None, 5), (0, 1), (12345, 5), (-999, 4), (1.5, 32),
    ([], 2), ([1, "ab"], 9), ((1,), 5), ({1, 2}, 8), (frozenset(), 2), ({"a": 1}, 8), ([[0] * 3] * 2, 28),
])
def test_the_size_of_a_value_is_about_the_characters_it_takes_written_out(value, measured):
    assert budget.size(value) == measured


def test_measuring_stops_just_past_the_limit_whatever_the_value():
    assert budget.size([[0] * 20000] * 20000) == budget.MAX_SIZE + 1  # 400 million, counted to 100,001
    assert budget.size(["x" * 60000, "y" * 60000]) == 120006
    assert budget.size([1] * 100, limit=10) == 202  # the list's own cost is past the limit: its items uncounted


@pytest.mark.parametrize("text, names, expected", [
    ("a + b", {"a": "x" * 50_000, "b": "y" * 50_000}, 100_000),
    ("'x' * n", {"n": 100_000}, 100_000),
    ("n * 'x'", {"n": 100_000}, 100_000),
    ("str(a)", {"a": "x" * 100_000}, 100_000),
    ("pattern % a", {"pattern": "%s", "a": "x" * 100_000}, 100_000),
    ("'%100d' % 1", {}, 100),
    ("'%.100f' % 1", {}, 102),
    ("int(a)", {"a": "9" * 1000}, 1000),
])
def test_a_value_exactly_at_a_size_limit_is_computed(text, names, expected):
    result = expressions.evaluate(text, names)
    assert len(str(result)) == expected


@pytest.mark.parametrize("text, names, says", [
    ("a + b", {"a": "x" * 50_000, "b": "y" * 50_001}, "表达式超出计算限制:连接(+)的结果超过 100000 个字符"),
    ("n + n", {"n": 9 * 10**1000}, "表达式超出计算限制:加法(+)得到的整数超过 1000 位"),
    ("'x' * n", {"n": 100_001}, "表达式超出计算限制:重复(*)的结果超过 100000 个字符"),
    ("n * 'x'", {"n": 100_001}, "表达式超出计算限制:重复(*)的结果超过 100000 个字符"),
    ("n * n", {"n": 10**501}, "表达式超出计算限制:乘法(*)得到的整数超过 1000 位"),
    ("str(a)", {"a": ["x" * 100_000]}, "表达式超出计算限制:str() 的参数超过 100000 个字符"),
    ("pattern % a", {"pattern": "%s", "a": "x" * 100_001}, "表达式超出计算限制:格式化(%)的参数超过 100000 个字符"),
    ("pattern % a", {"pattern": "%100s" * 1001, "a": ("x",) * 1001},  # small arguments, padded past the limit
     "表达式超出计算限制:格式化(%)的结果超过 100000 个字符"),
    ("'%101d' % 1", {}, "表达式超出计算限制:格式化(%)的宽度或精度超过 100"),
    ("'%.101f' % 1", {}, "表达式超出计算限制:格式化(%)的宽度或精度超过 100"),
    ("'%.*f' % (2, 1)", {}, "表达式超出计算限制:格式化(%)不允许用 * 指定宽度"),
    ("int(a)", {"a": "9" * 1011}, "表达式超出计算限制:int() 的参数超过 1000 位"),
    ("int(a)", {"a": "9" * 1010}, "表达式超出计算限制:int()得到的整数超过 1000 位"),
    ("float(a)", {"a": "9" * 1011}, "表达式超出计算限制:float() 的参数超过 1000 个字符"),
    ("round(1.5, -1001)", {}, "表达式超出计算限制:round() 的位数超过 1000"),
    ("add_days('2026-01-01', 36601)", {}, "表达式超出计算限制:天数 36601 超过 36600"),
    ("add_days('2026-01-01', -36601)", {}, "表达式超出计算限制:天数 -36601 超过 36600"),
])
def test_one_beyond_a_limit_is_refused_saying_which(text, names, says):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(text, names)
    assert err.value.message.endswith(f"{says}: {text}")  # a constant one is refused at validation, so saying


@pytest.mark.parametrize("text, names, expected", [
    ("n * n", {"n": 10**500}, 10**1000),          # 1000-digit products are computed
    ("a * b", {"a": 3, "b": 4}, 12),
    ("'ab' * 0", {}, ""),
    ("'ab' * -3", {}, ""),
    ("[1] * 2", {}, [1, 1]),
    ("7 % 3", {}, 1),
    ("str()", {}, ""),
    ("int()", {}, 0),
    ("int('ff', 16)", {}, 255),
    ("float()", {}, 0.0),
    ("round(2.567, 2)", {}, 2.57),
    ("round(2.5)", {}, 2),
    ("round(1234.5, -1000)", {}, 0.0),
    ("add_days('2026-01-01', 36600)", {}, (date(2026, 1, 1) + timedelta(days=36600)).isoformat()),
    ("add_days('2026-01-01', -36600)", {}, (date(2026, 1, 1) - timedelta(days=36600)).isoformat()),
    ("at_least(a, 3, ' 2/3 ')", {"a": "2"}, True),
    ("at_least(a, 3, '0.5')", {"a": 1}, False),
    ("more_than(a, 4, r)", {"a": 2.0, "r": 0.5}, False),
])
def test_values_within_the_limits_are_computed_as_python_does(text, names, expected):
    assert expressions.evaluate(text, names) == expected


# --- added for the mutation run of budget: each count and each limit, exactly -------------------------------

@pytest.mark.parametrize("value, limit, measured", [
    ([1, {"a": 1}], budget.MAX_SIZE, 15),            # a dict after other values adds to what was counted
    ({"a": 1, "b": 2}, budget.MAX_SIZE, 14),         # four per entry, besides its key and value
    ([1.5, 1.5], budget.MAX_SIZE, 70),               # 32 for each value of no known kind, added up
    ([True, None], budget.MAX_SIZE, 16),             # 5 for each of true, false and none, added up
    ([1] * 4, 10, 11),                               # a list whose own cost is exactly the limit: its items count
    ({"a": 1}, 6, 7),                                # so does a dict's
])
def test_the_size_adds_up_every_part_and_counts_inside_a_value_up_to_the_limit_itself(value, limit, measured):
    assert budget.size(value, limit=limit) == measured


@pytest.mark.parametrize("text, names, says", [
    ("a * b", {"a": 10**501, "b": 10**500}, "表达式超出计算限制:乘法(*)得到的整数超过 1000 位"),  # 502 + 501 digits
    ("text * 1", {"text": "x" * 100_001}, "表达式超出计算限制:重复(*)的结果超过 100000 个字符"),
    ("str(rows)", {"rows": ["x"] * 30_000},  # counted 90,002, written out ['x', 'x', …] 150,000 characters
     "表达式超出计算限制:str()的结果超过 100000 个字符"),
    ("b'%0101d' % n", {"n": 0}, "表达式超出计算限制:格式化(%)的宽度或精度超过 100"),  # bytes are formats too
])
def test_one_beyond_a_limit_is_refused_however_the_value_was_reached(text, names, says):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(text, names)
    assert err.value.message.endswith(f"{says}: {text}")


@pytest.mark.parametrize("text, names, expected", [
    ("a * b", {"a": 10**500, "b": 10**500}, 10**1000),   # 501 + 501 digits: computed
    ("b'%05d' % n", {"n": 12}, b"00012"),
    ("float(a)", {"a": "0" * 1009 + "5"}, 5.0),          # 1,010 characters: read
])
def test_a_value_just_within_a_limit_is_computed(text, names, expected):
    assert expressions.evaluate(text, names) == expected


@pytest.mark.parametrize("ratio, shown", [(None, "'None'"), ([1], "'[1]'"), ("y" * 50, repr("y" * 40))])
def test_a_ratio_that_is_not_one_is_named_by_its_first_40_characters(ratio, shown):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate("at_least(1, 1, r)", {"r": ratio})
    assert err.value.message == f"表达式求值失败(不是数字或比例: {shown}): at_least(1, 1, r)"
