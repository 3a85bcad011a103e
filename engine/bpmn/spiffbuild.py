"""A diagram version made runnable by SpiffWorkflow: its specs parsed by the library, with the
script engine (`spiffscript`) that evaluates its expressions. What the library cannot parse becomes
a problem in Chinese at the element it names.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import SpiffWorkflow.bpmn.parser as _spiff_parser
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import messages
from .spiffscript import SafeScriptEngine

log = logging.getLogger(__name__)
SCHEMA_PATH = Path(_spiff_parser.__file__).parent / "schema" / "BPMN20.xsd"


@dataclass(frozen=True)
class Runnable:
    """The parsed specs of one diagram version plus its script engine."""

    spec: Any
    subprocess_specs: dict
    script_engine: SafeScriptEngine


def build(tree: etree._ElementTree, filename: str, process_id: str, properties: dict[str, str],
          checker) -> Runnable | None:
    """Parse with SpiffWorkflow; its complaints become problems on `checker`, in Chinese, at their element."""
    parser = BpmnParser(validator=None)
    try:
        parser.add_bpmn_xml(tree, filename)
        spec = parser.get_spec(process_id)
        subprocesses = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as exc:
        el_id = getattr(exc, "id", "") or ""
        checker.problems.append(_located(tree, filename, el_id, messages.library(str(exc))))
        return None
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        log.warning("SpiffWorkflow could not parse %s: %r", filename, exc)
        key = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else ""
        checker.problems.append(_located(tree, filename, key, "流程引擎无法解析该文件:"
                                         + (f"找不到 id 为 “{key}” 的元素(引用写错了,或引用了其他文件中的元素)"
                                            if key else "文件中的引用或属性有误(详情已记入系统日志)")))
        return None
    return Runnable(spec, subprocesses, SafeScriptEngine(properties))


def _located(tree: etree._ElementTree, filename: str, el_id: str, message: str):
    """A problem at the element the library named (by id), or at the first element whose id the
    message mentions; SpiffWorkflow itself gives no line."""
    from engine.errors import Problem

    by_id = {el.get("id"): el for el in tree.getroot().iter() if isinstance(el.tag, str) and el.get("id")}
    element = by_id.get(el_id)
    if element is None:
        element = next((by_id[word] for word in re.findall(r"[^\s“”\"'()(),,::]+", message) if word in by_id), None)
    if element is None:
        return Problem(filename, el_id, "", None, message)
    return Problem(filename, element.get("id"), element.get("name") or "", element.sourceline, message)
