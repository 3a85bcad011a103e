"""XML parsing with entity expansion, DTDs and network access switched off."""
from __future__ import annotations

import re

from lxml import etree

from engine.errors import DiagramInvalid, Problem

from . import messages

MAX_BYTES = 5 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse(data: bytes, filename: str) -> etree._ElementTree:
    """Parse untrusted XML; any DOCTYPE (the carrier of XXE and billion-laughs) is refused."""
    if len(data) > MAX_BYTES:
        raise DiagramInvalid([Problem(filename, "", "", None, f"文件过大(超过 {MAX_BYTES // 1024 // 1024} MB)")])
    if _DOCTYPE.search(data[:4096]):
        raise DiagramInvalid([_doctype_problem(filename, data)])
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        where = f"(第 {line} 行第 {column} 列)" if line and column else ""
        raise DiagramInvalid([Problem(filename, "", "", line,
                                      f"XML 格式错误{where}: {messages.xml_syntax(exc.msg)}")]) from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DiagramInvalid([_doctype_problem(filename, data)])
    return tree


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)


def _doctype_problem(filename: str, data: bytes) -> Problem:
    match = _DOCTYPE.search(data)
    line = data[: match.start()].count(b"\n") + 1 if match else 1
    return Problem(filename, "", "", line,
                   "文件含有 DOCTYPE/实体声明;出于安全原因(XXE、实体膨胀)不接受,请删除 <!DOCTYPE …>")
