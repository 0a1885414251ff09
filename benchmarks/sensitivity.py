"""Sensitivity benchmark (issue 13): which audit conclusions on readmission rest on which edge of the graph.

A fixed model is audited against an SCM fitted on held-out rows from the spec as written, then against SCMs
refitted under each default edit (every single-edge drop and add around the protected attribute A and the
environment E). Writes its section of benchmarks/RESULTS.md.

    PYTHONPATH=src .venv/bin/python benchmarks/sensitivity.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import datetime, timezone

from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(__file__))
import causaltrust as ct
from _results import write_section

METRICS = ["fairness.unfair_path_effect", "fairness.counterfactual_effect", "robustness.spurious_path_effect"]


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:+.3f}"  # NaN: the metric does not exist under the edit


def main() -> None:
    started = datetime.now(timezone.utc)
    load = os.getloadavg()[0]
    spec, scm = ct.scenarios.load("readmission")
    observed = [v for v in spec.variables if spec.variables[v].observed]
    train = scm.sample(5_000, random_state=0)[observed]
    test = scm.sample(5_000, random_state=1)[observed]
    feats = spec.features
    models = {
        "ERM (logistic, all features)": LogisticRegression(max_iter=1000).fit(
            train[feats], train[spec.target]
        ),
        "selective invariance (SCM fitted on the training rows)": ct.learners.SelectiveInvarianceClassifier(
            spec=spec, estimator=LogisticRegression(max_iter=1000), random_state=0
        ).fit(train[feats], train[spec.target]),
    }
    out = [
        "## Sensitivity of audit conclusions to graph edits (issue 13)\n",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; machine shared with other jobs (nproc {os.cpu_count()}, load "
        f"average {load:.2f} at the start); Python {platform.python_version()}",
        "- Command: `PYTHONPATH=src .venv/bin/python benchmarks/sensitivity.py`",
        "- Readmission: each model trained on 5,000 rows (the selective learner with the spec as written); SCMs (base and edited) fitted with `SCM.fit` (auto) on 5,000 "
        "held-out rows, which are also the audited units; default edits (every drop and add of an edge at A or "
        "E that keeps the graph acyclic); threshold from the spec: |unfair-path effect| ≤ 0.02.\n",
    ]
    for label, model in models.items():
        t0 = time.perf_counter()
        frame = ct.sensitivity(model, spec=spec, data=test, n_bootstrap=20, random_state=0)
        sec = time.perf_counter() - t0
        n_edits = frame["edit"].nunique()
        out.append(f"### {label}: {n_edits} edits in {sec:.0f} s ({sec / (n_edits + 1):.1f} s per audit)\n")
        shown = [m for m in METRICS if m in set(frame["metric"])]
        head = "| edit | " + " | ".join(f"{m} (base → edited)" for m in shown) + " | flips |"
        out.append(head)
        out.append("|" + "---|" * (len(shown) + 2))
        for edit, rows in frame.groupby("edit", sort=False):
            if (rows["metric"] == "").all():
                reason = str(rows["reason"].iloc[0]).replace("|", "/")
                out.append(f"| {edit} | not identified: {reason[:160]} |" + " |" * len(shown))
                continue
            cells = []
            for m in shown:
                r = rows[rows["metric"] == m].iloc[0]
                cells.append(f"{_fmt(r.base)} → {_fmt(r.edited)}")
            flips = ", ".join(rows.loc[rows["flipped"].astype(bool), "metric"]) or "—"
            out.append(f"| {edit} | " + " | ".join(cells) + f" | {flips} |")
        moved = frame[frame["metric"] == "fairness.unfair_path_effect"].assign(a=lambda f: f["change"].abs())
        top = moved.sort_values("a", ascending=False).head(3)
        out.append(
            "\nLargest moves of the unfair-path effect: "
            + "; ".join(f"{r.edit} ({r.change:+.3f})" for r in top.itertuples())
            + f". Edits not identified from the data: {int((frame.groupby('edit')['metric'].first() == '').sum())}. "
            + "Thresholded conclusions that flip: "
            + (
                "; ".join(f"{r.edit} ({r.metric})" for r in frame[frame["flipped"].astype(bool)].itertuples())
                or "none"
            )
            + ".\n"
        )
    text = "\n".join(out)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
