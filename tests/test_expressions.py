"""Designer expressions: what a designer may write, and what is refused with a clear error."""
from __future__ import annotations

import pytest

from engine.bpmn import expressions
from engine.errors import ExpressionError


@pytest.mark.parametrize("text, names, expected", [
    ('kind == "承诺件"', {"kind": "承诺件"}, True),
    ("${kind == '承诺件'}", {"kind": "即办件"}, False),
    ("${ present >= members * 2 / 3 }", {"present": 20, "members": 30}, True),
    ("not return_to_leader", {"return_to_leader": False}, True),
    ("rating in ['满意', '基本满意']", {"rating": "满意"}, True),
    ("'x' if publish else None", {"publish": False}, None),
    ("P3D", {}, "P3D"),
    ("${PT2H}", {}, "PT2H"),
    ("2026-12-01", {}, "2026-12-01"),
    ("add_days('2026-01-30', 3)", {}, "2026-02-02"),
    ("at_least(20, 30, '2/3')", {}, True),
    ("more_than(10, 20, '1/2')", {}, False),
    ("len(title) > 2", {"title": "路灯不亮"}, True),
])
def test_designer_expressions_evaluate(text, names, expected):
    assert expressions.evaluate(text, names) == expected


@pytest.mark.parametrize("attack, says", [
    ("__import__('os').system('id')", "不允许访问属性"),
    ("__import__('os')", "下划线"),
    ("().__class__.__base__.__subclasses__()", "不允许访问属性"),
    ("open('/etc/passwd')", "未知函数 “open”"),
    ("eval('1')", "未知函数 “eval”"),
    ("[c for c in ().__class__.__bases__]", "不允许访问属性"),
    ("[x for x in 'abc']", "ListComp"),
    ("lambda: 1", "Lambda"),
    ("title.upper()", "不允许访问属性"),
    ("9 ** 999999999", "乘方过大"),
    ("10 ** 10 ** 10", "乘方过大"),
    ("'a' * 10 ** 9", "重复(*)的结果超过"),
    ("x := 1", "语法错误"),
    ("f'{title}'", "JoinedStr"),
])
def test_unsafe_expressions_are_refused_with_a_clear_error(attack, says):
    with pytest.raises(ExpressionError) as err:
        expressions.evaluate(attack, {"title": "t"})
    assert says in err.value.message


def test_unknown_field_is_named():
    with pytest.raises(ExpressionError, match="不存在的字段 “kind”"):
        expressions.evaluate("kind == '即办件'", {})


def test_an_evaluation_sees_only_its_own_names():
    """The evaluator is reused; no value of one case may be seen by the next evaluation, in this
    thread or another, nor after an evaluation that failed."""
    import threading

    assert expressions.evaluate("kind", {"kind": "即办件"}) == "即办件"
    with pytest.raises(ExpressionError, match="不存在的字段 “kind”"):
        expressions.evaluate("kind", {})
    with pytest.raises(ExpressionError):
        expressions.evaluate("count / 0", {"count": 1, "kind": "承诺件"})
    with pytest.raises(ExpressionError, match="不存在的字段 “kind”"):
        expressions.evaluate("kind", {"count": 1})
    seen: dict[int, object] = {}

    def evaluate_in_thread(n: int) -> None:
        seen[n] = [expressions.evaluate("n * 2", {"n": n}) for _ in range(200)]

    threads = [threading.Thread(target=evaluate_in_thread, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {n: [n * 2] * 200 for n in range(4)}


def test_true_false_and_none_are_constants_not_case_fields():
    """They are `ast.Constant`s (Python ≥ 3.8): evaluated without names, never listed as fields read, and
    an expression of them alone is a constant validation can compute."""
    assert [expressions.evaluate(t, {}) for t in ("${True}", "${False}", "${None}")] == [True, False, None]
    assert expressions.names_used("${x if True else None}") == {"x"}
    assert expressions.names_used("${not False}") == frozenset()
    assert expressions.constant_value("${True and not None}") == (True, True)
    assert expressions.constant_value("${x or False}") == (False, None)
