"""Free text as it is kept: a maximum length for each kind, and no character the databases treat apart.

PostgreSQL's text cannot hold a NUL and SQLite keeps one; the other control characters (all but tab and
line breaks) are never typed, only pasted, and hide what a text says. The web refuses NUL at the door
(web/inputs.py); the engine checks again here, for every caller, with a message for the field.
"""
from __future__ import annotations

import re

from engine.errors import InvalidInput

NAME = 64  # a username, a display name, a role
LINE = 200  # one line: a title, an address, a form's text field
TEXT = 2000  # a comment, a finding, a reason, a note
LONG = 5000  # a multi-line form field: a description, a result, minutes

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def problem(text: str, limit: int) -> str | None:
    """What is wrong with `text` as free text of at most `limit` characters, said for its field; None if nothing."""
    if _CONTROL.search(text):
        return "含有不可见的控制字符(如 NUL),请删除后再提交"
    if len(text) > limit:
        return f"不能超过 {limit} 个字(现有 {len(text)} 个)"
    return None


def clean(text: str | None, field: str, label: str, limit: int) -> str:
    """`text` without surrounding blanks, or InvalidInput naming `label` and, for the form, `field`."""
    value = (text or "").strip()
    found = problem(value, limit)
    if found:
        raise InvalidInput(f"{label}{found}", {field: found})
    return value
