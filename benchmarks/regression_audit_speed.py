"""Audit cost of a regressor against a classifier on the same rows (issue 26: at most 1.2x).

Usage::

    python benchmarks/regression_audit_speed.py [--n 5000] [--repeats 3] [--write]

The rows come from the ``credit_limit`` scenario. The classifier's spec is the same graph with the target
thresholded (``Y: bernoulli(sigmoid(4·(limit − 8)))``, the same linear index), so both audits walk the same
features, paths and recourse lever; each model is least squares / logistic regression on the same columns.
Timings alternate regressor and classifier and take the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import causaltrust as ct
from _results import write_section


def _binary_spec() -> ct.TrustSpec:
    d = copy.deepcopy(ct.scenarios.load("credit_limit")[0].to_dict())
    d["name"] = "credit_limit_binary"
    d["variables"]["Y"]["type"] = "binary"
    d["variables"]["Y"]["equation"] = "bernoulli(sigmoid(4*(2 + 1.5*I + 0.2*H - 1.0*Z - 0.6*A - 8)))"
    d["recourse"].pop("favorable_threshold")
    d["recourse"]["favorable"] = 1
    return ct.load_spec(d)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    cases = {}
    for name, spec in (("regressor", ct.scenarios.load("credit_limit")[0]), ("classifier", _binary_spec())):
        scm = ct.SCM.from_spec(spec)
        train, test = scm.sample(args.n, random_state=1), scm.sample(args.n, random_state=2)
        cls = ct.learners.ERMRegressor if name == "regressor" else ct.learners.ERMClassifier
        model = cls(spec=spec).fit(train[spec.features], train[spec.target])
        cases[name] = (spec, scm, model, train, test)
    times: dict[str, list[float]] = {"regressor": [], "classifier": []}
    for _ in range(args.repeats):
        for name, (spec, scm, model, train, test) in cases.items():
            t0 = time.perf_counter()
            ct.audit(model, spec=spec, scm=scm, data=test, train_data=train, n_shadow=2, random_state=0)
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["regressor"] / med["classifier"]
    text = (
        "## Audit of a regressor vs a classifier on the same rows (issue 26)\n\n"
        f"`python benchmarks/regression_audit_speed.py --n {args.n} --repeats {args.repeats} --write`: "
        f"credit_limit, {args.n:,} train and {args.n:,} test rows, every objective, 2 shadow models; median of "
        f"{args.repeats} alternating runs on a machine shared with other jobs.\n\n"
        "| model | audit seconds (median) |\n|---|---|\n"
        f"| ERMRegressor (continuous limit) | {med['regressor']:.2f} |\n"
        f"| ERMClassifier (limit thresholded) | {med['classifier']:.2f} |\n"
        f"| ratio regressor / classifier | {ratio:.2f} (target: at most 1.2) |\n"
    )
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
