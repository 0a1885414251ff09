"""Bickel et al.'s (1975) Berkeley admissions: ``ct.decompose_disparity`` against the hand computation.

Usage::

    python benchmarks/berkeley.py [--write]

The hand computation standardises over departments from the 24 counts (gender is a root): with x0 = Male,
x1 = Female, ``S = Σ_d P(d | male) P(admit | female, d)``, ctf-DE = S - P(admit | male), ctf-IE = S -
P(admit | female), ctf-SE = 0. Then the plug-in estimator (saturated SCM, intervals refitting it in each
of 200 resamples), the cross-fitted doubly robust one, and for contrast the plug-in with an additive
logistic SCM held fixed (the old default).
"""

from __future__ import annotations

import argparse
import time

import causaltrust as ct
from _results import write_section

TERMS = ("tv", "de", "ie", "se")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = parser.parse_args()
    spec, df = ct.datasets.spec("berkeley"), ct.datasets.load("berkeley")
    men, women = df[df["gender"] == "Male"], df[df["gender"] == "Female"]
    rate_f = women.groupby("dept")["admitted"].mean()
    s = float((men["dept"].value_counts(normalize=True) * rate_f).sum())
    pm, pf = float(men["admitted"].mean()), float(women["admitted"].mean())
    hand = {"tv": pf - pm, "de": s - pm, "ie": s - pf, "se": 0.0}
    rows = {"hand (standardisation over departments)": {t: f"{hand[t]:+.4f}" for t in TERMS}}
    runs = {
        "plug-in, saturated SCM refitted per resample": (spec, "plugin"),
        "doubly robust, 5-fold cross-fitted": (spec, "dr"),
        "plug-in, additive logistic SCM held fixed": (
            ct.SCM.fit(spec, df, mechanisms="linear", random_state=0),
            "plugin",
        ),
    }
    seconds = {}
    for name, (model, method) in runs.items():
        t0 = time.perf_counter()
        dec = ct.decompose_disparity(model, data=df, outcome="admitted", method=method, random_state=0)
        seconds[name] = time.perf_counter() - t0
        rows[name] = {}
        for t in TERMS:
            e = getattr(dec, t)
            mark = "" if e.low <= hand[t] <= e.high else " ✗"
            rows[name][t] = f"{e.value:+.4f} [{e.low:+.4f}, {e.high:+.4f}]{mark}"
    lines = [
        "## Berkeley admissions: the disparity decomposed (issue 26)",
        "",
        '`python benchmarks/berkeley.py --write`: `ct.decompose_disparity(ct.datasets.spec("berkeley"), '
        'data=ct.datasets.load("berkeley"), outcome="admitted")`, x0 = Male, x1 = Female, 4,526 '
        "applicants; 95% intervals from 200 resamples; ✗ marks an interval that misses the hand value.",
        "",
        "| estimator | TV | ctf-DE | ctf-IE | ctf-SE | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        sec = f"{seconds[name]:.1f}" if name in seconds else ""
        lines.append(f"| {name} | {r['tv']} | {r['de']} | {r['ie']} | {r['se']} | {sec} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
