"""Provenance of a logistic mechanism gives its coefficients on the raw columns (fitted standardised)."""

from __future__ import annotations

import re

import causaltrust as ct


def test_logistic_equation_text_is_on_the_raw_scale() -> None:
    spec, scm = ct.scenarios.load("readmission")
    observed = [v for v in spec.variables if spec.variables[v].observed]
    df = scm.sample(5_000, random_state=0)[observed]
    fitted = ct.SCM.fit(spec, df, mechanisms="linear", random_state=0)
    text = fitted.provenance["nodes"]["Z"]["equation"]  # truth: bernoulli(sigmoid(-0.5 + 1.5*A))
    m = re.fullmatch(r"bernoulli\(sigmoid\(([-+ .\d]+) \+ ([.\d]+)\*A\)\)", text)
    assert m is not None, text
    # Logistic MLE standard errors at n = 5,000 with P(A) = 0.4 are about 0.05 (intercept) and 0.06 (slope);
    # 5 standard errors each. A standardised-scale slope would be 1.5 * sd(A) ~ 0.73, far outside.
    assert abs(float(m.group(1).replace(" ", "")) + 0.5) < 0.25
    assert abs(float(m.group(2)) - 1.5) < 0.3
