"""The 考核 figures each case keeps on its own row, so that a ranking reads one row per case of the period
instead of every step and event of it (docs/performance.md, 考核 rankings; migration 0015):

- `due_steps`, `on_time_steps`, `late_steps`: its completed human steps that had a due time, those
  completed by it, and those completed after it (按期办结率, 逾期件);
- `returns`: its steps completed with “退回负责人(退单)” (the form field return_to_leader) ticked (退单);
- `escalations`: its `escalated` events (督办);
- `handling_seconds`: start → 办结 once it is completed, else NULL (统计's handling time: average and p90 per
  kind read ix_cases_handling instead of computing and sorting every completed case's time; migration 0017).

They are recomputed from the case's own rows, never incremented, in the transaction that changes them:
every completion and every escalation appends an audit event, and `audit_chain` hands the cases of a
transaction's events to `refreshing` before writing them (`pending`: those events, not in the table yet).
Rows written behind the engine's back (a bulk load, a test's fixture) are brought in step with
`refresh_all`; `drift` lists the cases whose kept figures differ from their rows.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from . import driver

COLUMNS = ("due_steps", "on_time_steps", "late_steps", "returns", "escalations", "handling_seconds")
RETURNED = {"postgresql": "(audit_events.data -> 'values' ->> 'return_to_leader') = 'true'",
            "sqlite": "json_extract(audit_events.data, '$.values.return_to_leader') = 1"}
SECONDS = {"postgresql": "CAST(EXTRACT(EPOCH FROM cases.completed_at - cases.started_at) AS DOUBLE PRECISION)",
           "sqlite": "(julianday(cases.completed_at) - julianday(cases.started_at)) * 86400.0"}
DIFFERS = {"postgresql": "IS DISTINCT FROM", "sqlite": "IS NOT"}  # NULL-safe: a NULL is not "different" from NULL


def _steps(condition: str) -> str:
    return ("(SELECT count(*) FROM human_tasks WHERE human_tasks.case_id = cases.id"  # noqa: S608 — fixed text
            f" AND human_tasks.status = 'COMPLETED' AND {condition})")


def expressions(dialect: str) -> dict[str, str]:
    """Each kept figure as an SQL expression over the case's rows (correlated to `cases`)."""
    events = "(SELECT count(*) FROM audit_events WHERE audit_events.case_id = cases.id AND {})"
    return {"due_steps": _steps("human_tasks.due_at IS NOT NULL"),
            "on_time_steps": _steps("human_tasks.completed_at <= human_tasks.due_at"),
            "late_steps": _steps("human_tasks.completed_at > human_tasks.due_at"),
            "returns": events.format(f"audit_events.kind = 'task_completed' AND {RETURNED[dialect]}"),
            "escalations": events.format("audit_events.kind = 'escalated'"),
            "handling_seconds": f"(CASE WHEN cases.status = 'completed' AND cases.completed_at IS NOT NULL "
                                f"THEN {SECONDS[dialect]} END)"}


def _assignments(dialect: str, pending: bool) -> str:
    found = expressions(dialect)
    return ", ".join(f"{c} = {found[c]}" + (f" + :new_{c}" if pending and c in ("returns", "escalations") else "")
                     for c in COLUMNS)


_REFRESH = {d: driver.Statement(f"UPDATE cases SET {_assignments(d, True)} WHERE id = :case_id")  # noqa: S608
            for d in RETURNED}
_REFRESH_ALL = {d: f"UPDATE cases SET {_assignments(d, False)}" for d in RETURNED}  # noqa: S608 — fixed text


def returned(data: Mapping[str, Any]) -> bool:
    """An event's data says 退单: the completed form had return_to_leader ticked."""
    values = data.get("values")
    return isinstance(values, Mapping) and values.get("return_to_leader") is True


def refreshing(dialect: str, pending: Iterable[Mapping[str, Any]]) -> driver.Step | None:
    """The statement recomputing the figures of the cases these events (not written yet) are about, counting the
    events too, to run with the chain head's lock (`driver.run_all`); None when there is no event."""
    new: dict[int, dict[str, Any]] = {}
    for event in pending:
        row = new.setdefault(event["case_id"], {"case_id": event["case_id"], "new_returns": 0, "new_escalations": 0})
        row["new_returns"] += event["kind"] == "task_completed" and returned(event["data"])
        row["new_escalations"] += event["kind"] == "escalated"
    return (_REFRESH[dialect], [new[c] for c in sorted(new)]) if new else None


def refresh_all(conn: Connection) -> None:
    """Recompute every case's figures (after rows were loaded without the engine; migration 0015 does the same)."""
    conn.exec_driver_sql(_REFRESH_ALL[conn.dialect.name])


def drift(conn: Connection) -> list[tuple[str, str, float | None, float | None]]:
    """(case number, figure, kept, actual) for every kept figure that differs from the case's rows."""
    found = expressions(conn.dialect.name)
    differs = " OR ".join(f"{c} {DIFFERS[conn.dialect.name]} {found[c]}" for c in COLUMNS)
    rows = conn.exec_driver_sql(
        f"SELECT number, {', '.join(COLUMNS)}, {', '.join(found[c] for c in COLUMNS)} "  # noqa: S608 — fixed text
        f"FROM cases WHERE {differs} ORDER BY id").all()
    n = len(COLUMNS)
    return [(row[0], c, row[1 + i], row[1 + n + i]) for row in rows for i, c in enumerate(COLUMNS)
            if row[1 + i] != row[1 + n + i]]
