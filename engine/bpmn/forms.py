"""Forms drawn in the diagram (Camunda 7 ``camunda:formData``), and their validation.

A designer adds, removes or changes fields in the modeler; the task list renders
and validates them from here, so no code changes with the form.

What a form is, read from the diagram, lives in `formfields`; what a user enters into it, in
`formvalues`. Other packages import both through this module.
"""
from __future__ import annotations

from .formfields import CAMUNDA, CONSTRAINTS, TYPES, Choice, FormField, parse_form
from .formvalues import LONG_RANGE, appended, default_values, validate

__all__ = ["CAMUNDA", "CONSTRAINTS", "LONG_RANGE", "TYPES", "Choice", "FormField", "appended",
           "default_values", "parse_form", "validate"]
