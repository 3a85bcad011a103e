"""Forms drawn in the diagram (Camunda 7 ``camunda:formData``), and their validation.

A designer adds, removes or changes fields in the modeler; the task list renders
and validates them from here, so no code changes with the form.

What a form is, read from the diagram, lives in `formfields`; what a user enters into it, in
`formvalues`; the field and option themselves in `formtypes`; the rules Minyi adds beyond Camunda's
(people of a role, options depending on another field, date limits) in `formrules`, and fields that
choose units in `formunits`. Other packages import them through this module.
"""
from __future__ import annotations

from .formfields import CAMUNDA, CONSTRAINTS, TYPES, parse_form
from .formrules import (date_limit_errors, date_limit_problem, dependency_errors, dependency_problems,
                        limit_fields, resolve_dates, with_limit_labels, with_people)
from .formtypes import Choice, FormField
from .formunits import with_units
from .formvalues import LONG_RANGE, appended, default_values, validate

__all__ = ["CAMUNDA", "CONSTRAINTS", "LONG_RANGE", "TYPES", "Choice", "FormField", "appended",
           "date_limit_errors", "date_limit_problem", "default_values", "dependency_errors",
           "dependency_problems", "limit_fields", "parse_form", "resolve_dates", "validate",
           "with_limit_labels", "with_people", "with_units"]
