"""The values a form is made of: a field (`FormField`) and an option (`Choice`), as `formfields` reads
them from the diagram and `formvalues` and `formrules` check what people enter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


@dataclass(frozen=True)
class FormField:
    """One field: what the task list renders and what `validate` enforces."""

    id: str
    label: str
    type: str
    default: str | None = None
    required: bool = False
    required_if: str | None = None
    readonly: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    multiline: bool = False
    public: bool = False
    valid_if: str | None = None
    valid_if_message: str | None = None
    lines: bool = False
    append_to: str | None = None
    line: int | None = None
    properties: tuple[tuple[str, str], ...] = field(default=())
    date_min: str | None = None
    date_max: str | None = None
    limit_labels: tuple[tuple[str, str], ...] = ()
    depends_on: str | None = None
    option_parents: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def offered_for(self, choice: str) -> tuple[str, ...]:
        """The values of `depends_on` under which the option `choice` is offered (empty: no dependency)."""
        return dict(self.option_parents).get(choice, ())

    @property
    def html_min(self) -> str | None:
        """The earliest date as a browser's date input takes it, once `resolve_dates` made it concrete."""
        return self.date_min if ISO_DATE.match(self.date_min or "") else None

    @property
    def html_max(self) -> str | None:
        return self.date_max if ISO_DATE.match(self.date_max or "") else None

    @property
    def widget(self) -> str:
        if self.type == "unit":
            return "checkboxes" if self.multiple else "select"
        if self.type == "string":
            return "textarea" if self.multiline or self.lines else "text"
        return {"long": "number", "double": "number", "boolean": "checkbox", "date": "date",
                "enum": "select", "user": "select"}[self.type]

    @property
    def role(self) -> str | None:
        """A `user` field's role: its choices are the people who hold it now (`with_people`)."""
        return dict(self.properties).get("role", "").strip() or None

    @property
    def multiple(self) -> bool:
        """A `unit` field with `multiple = true` takes several units (吹哨 to several 职能部门)."""
        return self.type == "unit" and dict(self.properties).get("multiple", "").strip().lower() == "true"

    @property
    def unit_level(self) -> str | None:
        """A `unit` field's `level` (职能部门): its choices are the open units of that level."""
        if self.type != "unit":
            return None
        return dict(self.properties).get("level", "").strip() or None

    def picked(self, value: object) -> frozenset[str]:
        """The option ids a value (one, or a list of several) chooses, as a page compares them."""
        if value is None or value == "":
            return frozenset()
        return frozenset(map(str, value)) if isinstance(value, (list, tuple)) else frozenset({str(value)})

    def named(self, value: object) -> object:
        """A value as people read it: the names of the options it chooses (a unit's name, never its id)."""
        if not self.choices or self.type not in ("unit", "user", "enum"):
            return value
        chosen = self.picked(value)
        names = [c.name for c in self.choices if c.id in chosen]
        return "、".join(names) if names else value
