"""SCM.fit from structure alone (issue 8): path effects, offsets, and the flagship trained on the fitted SCM.

Run: ``.venv/bin/python benchmarks/fit_structure.py [--rows 30000] [--no-write]``.
For each built-in scenario: sample ``rows`` training rows from the true SCM, drop the latent, fit
``spec.structure()`` (no equation reaches the fit), and compare the fitted SCM's unfair and fair path effects
on the target and the measurement offsets with the truth. Then train the selective learner on the same rows
with that SCM and audit it against the true SCM on ``rows`` fresh test rows, beside the same learner given
the true SCM (the peer in this run). Writes the "## SCM.fit from structure (issue 8)" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

import numpy as np

import _results
import causaltrust as ct


def scenario(name: str, rows: int) -> list[str]:
    spec, true = ct.scenarios.load(name)
    lat = spec.latent[0]
    meas = spec.measurement(lat)
    assert meas is not None
    train = true.sample(rows, random_state=1)
    test = true.sample(rows, random_state=2)
    t0 = time.perf_counter()
    fitted = ct.SCM.fit(spec.structure(), train.drop(columns=lat), random_state=0)
    fit_s = time.perf_counter() - t0
    a, base = spec.protected, spec.fairness.baseline  # type: ignore[union-attr]
    values = [c for c in (spec.variables[a].categories or (0, 1)) if c != base]
    out = [
        f"### {name} ({rows:,} rows; fit {fit_s:.1f} s)",
        "",
        "| quantity | truth | fitted | error |",
        "|---|---|---|---|",
    ]
    for v in values:
        for label, paths in (("unfair", spec.unfair_paths()), ("fair", spec.fair_paths())):
            kw = {"source": a, "paths": paths, "value": v, "baseline": base, "n": 200_000, "random_state": 0}
            t, f = ct.path_effect(true, **kw), ct.path_effect(fitted, **kw)
            out.append(f"| {label} path effect, {a} {base}→{v} | {t:.4f} | {f:.4f} | {f - t:+.4f} |")
    env = spec.environment
    offsets = fitted.mechanisms[meas].offsets[env]  # type: ignore[attr-defined]
    cats = spec.variables[env].categories or ()
    # The truth: the measurement equation's offset at each level (L held at 0).
    n = len(cats)
    cols = {lat: np.zeros(n), env: np.arange(n)}
    truth = np.asarray(true.mechanisms[meas].mean(cols, n, meas))
    for c, t, f in zip(cats, truth, offsets, strict=True):
        out.append(f"| offset δ({env} = {c}) | {t:.4f} | {f:.4f} | {f - t:+.4f} |")
    X, y = train[spec.features], train[spec.target]
    objectives = ["accuracy", "fairness", "robustness"]
    rows_out = []
    for label, scm in (("true SCM (peer)", true), ("SCM fitted from structure", fitted)):
        clf = ct.learners.SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0).fit(X, y)
        rep = ct.audit(clf, spec=spec, scm=true, data=test, objectives=objectives, n_bootstrap=50)
        m = {k: rep.metric(k).value for k in (
            "accuracy.observational", "accuracy.fair_world", "fairness.unfair_path_effect",
            "fairness.fair_path_effect", "robustness.spurious_path_effect")}  # fmt: skip
        rows_out.append(f"| selective, {label} | " + " | ".join(f"{x:.3f}" for x in m.values()) + " |")
    out += [
        "",
        "Selective learner trained on the same rows, audited against the true SCM:",
        "",
        "| model | obs acc | fair-world acc | unfair path | fair path | spurious |",
        "|---|---|---|---|---|---|",
        *rows_out,
        "",
        "Provenance: " + " · ".join(fitted.provenance_notes()),
        "",
    ]
    print("\n".join(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--scenarios", nargs="*", default=["readmission", "hiring", "lending"])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    body = [line for name in args.scenarios for line in scenario(name, args.rows)]
    load = os.getloadavg()
    section = [
        "## SCM.fit from structure (issue 8)",
        "",
        "Each scenario's spec with its equations stripped (`spec.structure()`: types, parents, roles, "
        "`measures:`); `SCM.fit(..., mechanisms='auto')` on training rows without the latent. Path effects on "
        "P(target = 1), 200k Monte-Carlo units with common random numbers.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}, load average {load[0]:.2f} "
        "(shared machine: fit times are indicative only)",
        f"- Command: `.venv/bin/python benchmarks/fit_structure.py {' '.join(sys.argv[1:])}`".rstrip(),
        "",
        *body,
    ]
    if not args.no_write:
        _results.write_section("\n".join(section))


if __name__ == "__main__":
    main()
