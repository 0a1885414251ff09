"""Public subpackages import by every form, while ``ct.audit(...)`` and ``ct.sensitivity(...)`` stay calls."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import numpy as np

import causaltrust as ct
from causaltrust.audit import audit as audit_function
from causaltrust.sensitivity import sensitivity as sensitivity_function


def test_every_import_form_of_the_audit_subpackages_works_in_a_fresh_interpreter() -> None:
    # A fresh interpreter: what was imported before in this test session must not hide a failure.
    code = textwrap.dedent(
        """
        import causaltrust as ct
        import causaltrust.audit.privacy as privacy
        import causaltrust.audit._worlds
        import causaltrust.audit.explain
        import causaltrust.sensitivity._edits as edits
        assert causaltrust.audit._worlds.UnitWorlds.__name__ == "UnitWorlds"
        assert causaltrust.audit.privacy is privacy
        assert causaltrust.audit.explain.__name__ == "causaltrust.audit.explain"
        assert ct.audit is causaltrust.audit and callable(ct.audit)
        assert ct.sensitivity.default_edits is edits.default_edits
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_calling_the_package_calls_the_function_with_its_signature() -> None:
    assert inspect.signature(ct.audit) == inspect.signature(audit_function)
    assert inspect.signature(ct.sensitivity) == inspect.signature(sensitivity_function)
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(400, random_state=0)
    from causaltrust.learners import ERMClassifier

    model = ERMClassifier(spec).fit(df[spec.features], df[spec.target])
    kw = {
        "spec": spec,
        "scm": scm,
        "data": df,
        "objectives": ["accuracy"],
        "n_bootstrap": 5,
        "random_state": 0,
    }
    by_package, by_function = ct.audit(model, **kw), audit_function(model, **kw)
    np.testing.assert_array_equal(
        [m.value for m in by_package.metrics], [m.value for m in by_function.metrics]
    )  # NaN where a metric is undefined, in both
