"""The code stays readable by a newcomer: no function in engine/ or web/ is as tangled as radon's
grade D (cyclomatic complexity above 20: more than twenty ways through one function). A function
that grows past that is split into named pieces, each with a docstring saying what it does.

`radon cc -s -n C engine web` lists the functions close to the limit (grade C) and over it.
"""
from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path

from radon.complexity import cc_rank, cc_visit
from radon.visitors import Class, Function

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("engine", "web")
MOST = 20  # the highest complexity of grade C; 21 is grade D


def functions(source: str) -> list[Function]:
    """Every function of `source`, by line: the module's functions and classes as radon finds them, with
    the methods of classes (also of classes inside classes) and the functions defined inside other
    functions (radon counts a nested function apart from the one around it)."""
    top = [b for b in cc_visit(source) if isinstance(b, Class) or not b.is_method]  # methods come with their class
    return sorted(_within(top), key=lambda f: f.lineno)


def _within(blocks: Iterable[Function | Class]) -> Iterator[Function]:
    for block in blocks:
        if isinstance(block, Class):
            yield from _within(block.methods)
            yield from _within(block.inner_classes)
        else:
            yield block
            yield from _within(block.closures)


def too_complex(source: str, where: str) -> list[str]:
    """Each function of `source` above grade C, as "where:line name grade (complexity)"."""
    return [f"{where}:{f.lineno} {f.fullname} {cc_rank(f.complexity)} ({f.complexity})"
            for f in functions(source) if f.complexity > MOST]


def python_files() -> list[Path]:
    return sorted(path for folder in CHECKED for path in (ROOT / folder).rglob("*.py"))


def test_no_function_in_engine_or_web_is_grade_d_or_worse():
    files = python_files()
    assert len(files) > 50, f"expected the modules of {CHECKED} under {ROOT}"
    found = [problem for path in files
             for problem in too_complex(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert found == [], "split these into named pieces (radon grade D or worse):\n" + "\n".join(found)


# --- the check itself catches what it is for -------------------------------------------

def branches(count: int, indent: str = "    ") -> str:
    """The body of a function with `count` decisions: `count` + 1 ways through it."""
    return "".join(f"{indent}if x == {n}:\n{indent}    return {n}\n" for n in range(count)) + f"{indent}return -1\n"


def test_a_function_of_twenty_ways_is_grade_c_and_allowed():
    assert too_complex("def f(x):\n" + branches(19), "m.py") == []


def test_one_way_more_is_grade_d_and_named_with_its_line():
    assert too_complex("import os\n\n\ndef f(x):\n" + branches(20), "m.py") == ["m.py:4 f D (21)"]


def test_a_tangled_method_or_nested_function_is_found_too():
    source = textwrap.dedent("""\
        class Case:
            class Step:
                def method(self, x):
        """) + branches(21, " " * 12) + textwrap.dedent("""\


        def outer(x):
            def inner(x):
        """) + branches(21, " " * 8) + "    return inner(x)\n"
    assert too_complex(source, "m.py") == ["m.py:3 Step.method D (22)", "m.py:50 inner D (22)"]


def test_every_function_is_looked_at_once():
    source = "class A:\n    def m(self):\n        def n():\n            pass\n\n\ndef f():\n    pass\n"
    assert [f.name for f in functions(source)] == ["m", "n", "f"]
