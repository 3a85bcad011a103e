"""The functions and operators designers' expressions may use, at their limits (表达式的函数与上限).

Dates may be written as a date or as a moment (what `now()` gives); ratios as '2/3' or 0.5; a power is
computed while its exponent is at most 64 and an integer base at most a million, and refused above.
What cannot be read says so, naming the value.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.bpmn import expressions
from engine.errors import ExpressionError


def test_date_functions_take_a_moment_and_keep_its_day(frozen_clock):
    """`now()` gives a moment (2026-11-23T10:00+08:00 here); add_days and add_workdays use its day."""
    frozen_clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    assert expressions.evaluate("add_days(now(), 1)", {}) == "2026-11-24"
    assert expressions.evaluate("add_days(moment, 7)", {"moment": "2026-11-27T23:59:59+08:00"}) == "2026-12-04"
    assert expressions.evaluate("add_workdays('2026-11-27T09:00', 1)", {}) == "2026-11-30"  # Friday → Monday


@pytest.mark.parametrize("text, says", [
    ("add_days('下周一', 1)", "不是日期: '下周一'"),
    ("add_days(3, 1)", "不是日期: '3'"),
    ("at_least(20, 30, '三分之二')", "不是数字或比例: '三分之二'"),
    ("more_than(1, 2, '1/0')", "除数为零"),
])
def test_a_value_that_is_not_a_date_or_a_ratio_is_named(text, says):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(text, {})
    assert says in err.value.message and text in err.value.message


@pytest.mark.parametrize("text, expected", [
    ("2 ** 10", 1024),
    ("2 ** 64", 2 ** 64),          # the largest exponent allowed
    ("2 ** -64", 2 ** -64),
    ("1000000 ** 2", 10 ** 12),    # the largest integer base allowed
    ("-1000000 ** 2", -(10 ** 12)),
    ("1000001.5 ** 2", 1000001.5 ** 2),  # a decimal base is bounded by the exponent alone
])
def test_powers_within_the_limits_are_computed(text, expected):
    assert expressions.evaluate(text, {}) == expected


@pytest.mark.parametrize("text", ["2 ** 65", "2 ** -65", "1000001 ** 2", "(-1000001) ** 2"])
def test_powers_beyond_the_limits_are_refused(text):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(text, {})
    assert "乘方过大" in err.value.message and text in err.value.message


@pytest.mark.parametrize("text, names, expected", [
    ("rating in ('满意', '基本满意')", {"rating": "基本满意"}, True),
    ("rating in ('满意', '基本满意')", {"rating": "不满意"}, False),
    ("(votes, members)", {"votes": 7, "members": 9}, (7, 9)),
    ("[votes, members]", {"votes": 7, "members": 9}, [7, 9]),
])
def test_tuples_and_lists_hold_the_values_written(text, names, expected):
    assert expressions.evaluate(text, names) == expected


@pytest.mark.parametrize("text, literal", [
    ("R3/P1D", True),            # three times, a day apart (a timer cycle)
    ("R/PT4H", True),            # unbounded
    ("R2/P1.5D", True),          # its duration read as every duration is (durations.parse)
    ("${R12/P1W}", True),
    ("R3P1D", False),            # the slash is missing
    ("Rx/P1D", False),           # the repeat count is not a number
    ("R3/下周", False),
    ("r3/P1D", False),
])
def test_a_timer_cycle_is_a_literal_only_when_written_as_r_count_slash_duration(text, literal):
    assert expressions.is_iso_literal(text) is literal


@pytest.mark.parametrize("text", ["", "   ", "${}", "${  }"])
def test_an_empty_expression_is_refused_as_empty(text):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(text, {})
    assert err.value.message == "表达式为空"


def test_defined_asks_whether_the_case_has_a_field_yet_without_failing_when_it_has_not():
    """`defined('x')`: a condition may ask about a field a later step (or the engine) fills; reading the
    field itself before it exists stops the case. It reads the case's data, so it is never computed at
    validation, and the field it names counts as read."""
    rule = "defined('objection_valid') and objection_valid == '待审查'"
    assert expressions.evaluate(rule, {}) is False
    assert expressions.evaluate(rule, {"objection_valid": "不成立"}) is False
    assert expressions.evaluate(rule, {"objection_valid": "待审查"}) is True
    assert expressions.names_used(rule) == {"objection_valid"}
    assert expressions.constant_value("defined('x')") == (False, None)


@pytest.mark.parametrize("text", ["defined(x)", "defined('a', 'b')", "defined()", "defined(1)"])
def test_defined_takes_one_quoted_field_name(text):
    with pytest.raises(ExpressionError, match="带引号的字段名"):
        expressions.check(text)


# --- what validation says, exactly (mutation survivors of expressions.py) ------------------------------------

def test_nesting_up_to_the_limit_is_accepted_and_one_level_more_is_refused():
    """`-` written n times before 1 nests n + 2 deep (the expression, n operations, the number); 100 is the
    limit, so 98 are computed and 99 are refused with the limit named."""
    assert expressions.evaluate("-" * 98 + "1", {}) == 1
    with pytest.raises(ExpressionError, match=r"^表达式嵌套过深\(超过 100 层\): -{80}…$"):
        expressions.check("-" * 99 + "1")


def test_an_unknown_function_is_named_as_written_with_the_functions_there_are():
    message = f"可用函数: {', '.join(sorted(expressions.FUNCTIONS))}"
    assert message.startswith("可用函数: abs, add_days, add_workdays, ")
    with pytest.raises(ExpressionError) as named:
        expressions.check("weekday(today())")
    assert named.value.message == f"表达式调用了未知函数 “weekday”;{message}"
    with pytest.raises(ExpressionError) as unnamed:  # what is called is not a name: it is quoted as written
        expressions.check("[today][0]()")
    assert unnamed.value.message == f"表达式调用了未知函数 “[today][0]”;{message}"


def test_a_keyword_argument_is_refused_with_the_expression():
    with pytest.raises(ExpressionError) as refused:
        expressions.check("${add_days(reply_date, n=3)}")
    assert refused.value.message == "表达式不允许关键字参数: add_days(reply_date, n=3)"


def test_a_part_without_case_data_is_computed_at_validation_and_named_when_it_fails():
    """Function names are not case data, so `add_days('…', 1)` is a constant part even beside fields; it is
    computed when the diagram is checked and, failing, quoted (up to 80 characters) with why."""
    with pytest.raises(ExpressionError) as failed:
        expressions.check("reply_date == add_days('下周一', 1)")
    assert failed.value.message == ("表达式中的 “add_days('下周一', 1)” 无法计算:"
                                    "表达式求值失败(不是日期: '下周一'): reply_date == add_days('下周一', 1)")
    long_text = "x" * 100
    with pytest.raises(ExpressionError) as quoted:
        expressions.check(f"kind == add_days('{long_text}', 1)")
    assert quoted.value.message.startswith(f"表达式中的 “add_days('{'x' * 70}” 无法计算:")  # 80 characters
    assert f"不是日期: '{'x' * 40}')" in quoted.value.message  # the value itself is cut at 40


def test_defined_reads_the_case_so_what_it_guards_is_still_computed_at_validation():
    """`defined('x')` reads the case's data: the expression around it is not constant, yet its constant parts
    are — a failing one is refused even behind `defined(…) and`, where a case would seldom reach it."""
    with pytest.raises(ExpressionError, match="“add_days\\('不是日期', 1\\) == '2026-12-01'” 无法计算"):
        expressions.check("defined('objection_valid') and add_days('不是日期', 1) == '2026-12-01'")
    assert expressions.check("defined('objection_valid') and add_days('2026-11-30', 1) == '2026-12-01'")


def test_the_value_known_at_validation_is_the_literal_or_the_computed_constant():
    assert expressions.constant_value("${2026-12-01}") == (True, "2026-12-01")
    assert expressions.constant_value("P3D") == (True, "P3D")
    assert expressions.constant_value("${add_days('2026-11-30', 1)}") == (True, "2026-12-01")
    assert expressions.constant_value("${add_days(reply_date, 1)}") == (False, None)


def test_a_missing_field_is_named_with_the_expression_it_is_in():
    with pytest.raises(ExpressionError) as missing:
        expressions.evaluate("${reply_date + 1}", {})
    assert missing.value.message == "表达式引用了不存在的字段 “reply_date”: reply_date + 1"


@pytest.mark.parametrize("text, what", [("[note, note]", "列表"), ("(note, note)", "元组")])
def test_a_list_or_tuple_too_large_is_refused_by_what_it_is(text, what):
    """A list or tuple written in an expression may hold case fields; beyond the size limit it is refused, the
    message saying which."""
    with pytest.raises(ExpressionError) as refused:
        expressions.evaluate(text, {"note": "长" * 60_000})
    assert refused.value.message == f"表达式超出计算限制:{what}的结果超过 100000 个字符: {text}"
