"""Sensitivity of audit conclusions to the causal graph: refit the SCM under graph edits, re-run the audit.

Sits above ``audit`` and ``scm`` (it uses both) and below ``report`` and ``cli``; ``discovery`` stays low
(it needs only ``spec``).

>>> import causaltrust as ct
>>> from causaltrust.sensitivity import default_edits
>>> spec, _ = ct.scenarios.load("readmission")
>>> default_edits(spec)[0]
{'op': 'drop_edge', 'edge': ['A', 'Z']}

The package is callable: ``ct.sensitivity(...)`` calls :func:`sensitivity`.
"""

from causaltrust._callable import make_callable
from causaltrust.sensitivity._edits import apply_edit, default_edits, describe_edit
from causaltrust.sensitivity._sensitivity import SENSITIVITY_COLUMNS, sensitivity

__all__ = ["SENSITIVITY_COLUMNS", "apply_edit", "default_edits", "describe_edit", "sensitivity"]

make_callable(__name__, "sensitivity")
