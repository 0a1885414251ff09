"""Disparity decomposition (issue 12): plug-in vs cross-fitted doubly robust, on simulated and real data.

    PYTHONPATH=src .venv/bin/python benchmarks/decompose.py [--seeds 3] [--sizes 2000 20000] \
        [--truth-rows 2000000] [--skip simulated compas adult] [--out benchmarks/RESULTS.md] [--no-write]

1. Simulated SCMs with known terms (truth by an independent NumPy Monte Carlo over the true mechanisms,
   ``--truth-rows`` units, common noise across the worlds): a linear-logistic standard fairness model and a
   nonlinear one (interactions, saturation, a skewed exp-shaped mediator) where linear nuisances are misspecified.
   For each size and seed: ``decompose_disparity`` with ``method="dr"`` (boosting and linear nuisances) and
   ``method="plugin"`` (SCM fitted with ``ct.SCM.fit``, default ``"auto"`` mechanisms); absolute error of
   DE / IE / SE against the truth and whether the 95% interval covers it.
2. COMPAS (``ct.datasets.load("compas")``, African-American vs Caucasian, the shipped SFM spec): outcomes
   ``two_year_recid`` and ``high_risk = decile_score > 4``, both methods, wall and CPU seconds.
   Also the faircause setting (all races, Majority = Caucasian vs Minority = everyone else) for comparison
   with Plečko & Bareinboim's published decomposition.
3. Adult (``ct.datasets.load("adult")``, income by sex), both methods, seconds; the plug-in SCM there is
   fitted with ``mechanisms="linear"`` (``"auto"`` cross-validates calibrated boosting for every node,
   41-class native_country included, and did not finish in minutes of CPU on the shared machine).

Each part writes its own ``## Disparity decomposition (issue 12): ...`` section of --out.

Timings: the machine is shared (load average printed); seconds are wall and process CPU of one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

import causaltrust as ct
from causaltrust import datasets

sys.path.insert(0, str(Path(__file__).parent))
from _results import RESULTS, write_section

# -- simulated SCMs -------------------------------------------------------------------------------------
LINEAR = {
    "name": "sfm-linear",
    "target": "Y",
    "variables": {
        "Z": {"type": "continuous", "equation": "normal(0, 1)"},
        "X": {"type": "binary", "equation": "bernoulli(sigmoid(-0.3 + 0.8*Z))"},
        "W": {"type": "continuous", "equation": "0.5 + 1.0*X + 0.6*Z + normal(0, 1)"},
        "Y": {"type": "binary", "equation": "bernoulli(sigmoid(-0.5 + 0.7*X + 0.5*Z + 0.8*W))"},
    },
    "fairness": {"protected": "X", "baseline": 0},
}
NONLINEAR = {
    "name": "sfm-nonlinear",
    "target": "Y",
    "variables": {
        "Z1": {"type": "continuous", "equation": "normal(0, 1)"},
        "Z2": {"type": "binary", "equation": "bernoulli(0.4)"},
        "X": {"type": "binary", "equation": "bernoulli(sigmoid(-0.2 + 0.9*Z1 - 0.8*Z2 + 0.5*Z1*Z2))"},
        "W1": {"type": "continuous", "equation": "exp(0.3 + 0.5*X + 0.3*tanh(Z1)) + normal(0, 0.5)"},
        "W2": {"type": "continuous", "equation": "0.8*X*Z2 + 0.5*Z1*Z1 + normal(0, 1)"},
        "Y": {
            "type": "binary",
            "equation": "bernoulli(sigmoid(-1.2 + 0.6*X + 1.5*tanh(W1 - 1.5) + 0.4*W2 - 0.5*X*W2 + 0.6*Z1*Z2))",
        },
    },
    "fairness": {"protected": "X", "baseline": 0},
}


def truth_linear(n: int, seed: int) -> dict[str, float]:
    """Independent Monte Carlo of the x-specific terms of LINEAR (no causaltrust code)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = rng.random(n) < expit(-0.3 + 0.8 * z)
    e = rng.normal(size=n)

    def w(xx: Any) -> Any:
        return 0.5 + 1.0 * xx + 0.6 * z + e

    def p(xx: Any, ww: Any) -> Any:
        return expit(-0.5 + 0.7 * xx + 0.5 * z + 0.8 * ww)

    return _terms(x, p(1, w(0)), p(1, w(1)), p(0, w(0)), p(1, w(1)))


def truth_nonlinear(n: int, seed: int) -> dict[str, float]:
    """Independent Monte Carlo of the x-specific terms of NONLINEAR."""
    rng = np.random.default_rng(seed)
    z1 = rng.normal(size=n)
    z2 = (rng.random(n) < 0.4).astype(float)
    x = rng.random(n) < expit(-0.2 + 0.9 * z1 - 0.8 * z2 + 0.5 * z1 * z2)
    e1 = rng.normal(0, 0.5, n)
    e2 = rng.normal(size=n)

    def w1(xx: Any) -> Any:
        return np.exp(0.3 + 0.5 * xx + 0.3 * np.tanh(z1)) + e1

    def w2(xx: Any) -> Any:
        return 0.8 * xx * z2 + 0.5 * z1 * z1 + e2

    def p(xx: Any, a: Any, b: Any) -> Any:
        return expit(-1.2 + 0.6 * xx + 1.5 * np.tanh(a - 1.5) + 0.4 * b - 0.5 * xx * b + 0.6 * z1 * z2)

    return _terms(x, p(1, w1(0), w2(0)), p(1, w1(1), w2(1)), p(0, w1(0), w2(0)), p(1, w1(1), w2(1)))


def _terms(x: Any, p_de: Any, p_tot: Any, p_00: Any, p_11: Any) -> dict[str, float]:
    """ψ001 = E[p(x1, W_x0) | x0], ψ011 = E[p(x1, W_x1) | x0], E[Y | x0], E[Y | x1] (on P(Y=1))."""
    x0 = ~x
    psi001, psi011 = p_de[x0].mean(), p_tot[x0].mean()
    psi000, psi111 = p_00[x0].mean(), p_11[x].mean()
    return {"de": psi001 - psi000, "ie": psi001 - psi011, "se": psi011 - psi111}


def _run(fn: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def simulated(sizes: list[int], seeds: int, truth_rows: int) -> list[dict[str, Any]]:
    rows = []
    for spec, truth_fn in ((LINEAR, truth_linear), (NONLINEAR, truth_nonlinear)):
        truth = truth_fn(truth_rows, 12345)
        scm = ct.SCM.from_spec(spec)
        for n in sizes:
            for seed in range(seeds):
                df = scm.sample(n, random_state=1000 + seed)
                configs: dict[str, Any] = {
                    "dr (boosting)": lambda df=df, seed=seed, spec=spec: ct.decompose_disparity(
                        spec, data=df, outcome="Y", method="dr", random_state=seed
                    ),
                    "dr (linear)": lambda df=df, seed=seed, spec=spec: ct.decompose_disparity(
                        spec, data=df, outcome="Y", method="dr", learner="linear", random_state=seed
                    ),
                    "plugin (SCM.fit auto)": lambda df=df, seed=seed, spec=spec: ct.decompose_disparity(
                        spec, data=df, outcome="Y", method="plugin", random_state=seed
                    ),
                }
                for name, fn in configs.items():
                    dec, _, cpu = _run(fn)
                    for term in ("de", "ie", "se"):
                        est = getattr(dec, term)
                        rows.append(
                            {
                                "scm": spec["name"], "n": n, "seed": seed, "method": name, "term": term,
                                "truth": truth[term], "estimate": est.value,
                                "abs_error": abs(est.value - truth[term]),
                                "covered": est.low <= truth[term] <= est.high,
                                "width": est.high - est.low, "cpu_s": cpu,
                            }
                        )  # fmt: skip
                print(f"  {spec['name']} n={n} seed={seed} done", flush=True)
    return rows


# -- real data ------------------------------------------------------------------------------------------
def _decompose_all(
    spec: Any, df: pd.DataFrame, outcome: str, plugin_mechanisms: str = "auto"
) -> list[dict[str, Any]]:
    """Both methods on one outcome; the plug-in SCM is fitted inside the timed call (``SCM.fit``)."""

    def plugin() -> ct.DisparityDecomposition:
        scm = ct.SCM.fit(spec, df, mechanisms=plugin_mechanisms, random_state=0)
        return ct.decompose_disparity(scm, data=df, outcome=outcome, method="plugin")

    out = []
    for name, fn in (
        ("dr (boosting)", lambda: ct.decompose_disparity(spec, data=df, outcome=outcome)),
        ("dr (linear)", lambda: ct.decompose_disparity(spec, data=df, outcome=outcome, learner="linear")),
        (f"plugin (SCM.fit {plugin_mechanisms})", plugin),
    ):
        dec, wall, cpu = _run(fn)
        for lv in dec.levels:
            row: dict[str, Any] = {
                "outcome": outcome,
                "method": name,
                "x1": lv.value,
                "n0": lv.n0,
                "n1": lv.n1,
            }
            for term in ("tv", "de", "ie", "se"):
                e = getattr(lv, term)
                row[term] = f"{e.value:+.3f} [{e.low:+.3f}, {e.high:+.3f}]"
            row["wall_s"] = round(wall, 1)
            row["cpu_s"] = round(cpu, 1)
            out.append(row)
        print(f"  {outcome} {name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return out


def compas() -> list[dict[str, Any]]:
    spec = datasets.spec("compas")
    df = datasets.load("compas")
    df = df.assign(high_risk=(df["decile_score"] > 4).astype(int))
    return _decompose_all(spec, df, "two_year_recid") + _decompose_all(spec, df, "high_risk")


def compas_faircause_setting() -> list[dict[str, Any]]:
    """All races, Majority (Caucasian) vs Minority (every other race), as in faircause's COMPAS vignette."""
    raw = datasets.load_compas()
    df = raw.assign(
        race=np.where(raw["race"] == "Caucasian", "Majority", "Minority"),
        high_risk=(raw["decile_score"] > 4).astype(int),
    )
    d = datasets.spec("compas").to_dict()
    d["variables"]["race"]["categories"] = ["Majority", "Minority"]
    d["fairness"]["baseline"] = "Majority"
    spec = ct.load_spec(d)
    out = []
    for outcome in ("two_year_recid", "high_risk"):
        dec, wall, _ = _run(lambda outcome=outcome: ct.decompose_disparity(spec, data=df, outcome=outcome))
        row: dict[str, Any] = {"outcome": outcome, "n0": dec.levels[0].n0, "n1": dec.levels[0].n1}
        for term in ("tv", "de", "ie", "se"):
            e = getattr(dec, term)
            row[term] = f"{e.value:+.3f} [{e.low:+.3f}, {e.high:+.3f}]"
        row["wall_s"] = round(wall, 1)
        out.append(row)
    return out


def adult() -> list[dict[str, Any]]:
    # SCM.fit "auto" cross-validates calibrated boosting for every node, 41-class native_country included:
    # far too slow here, so the Adult plug-in fits linear / (multinomial) logistic mechanisms.
    return _decompose_all(
        datasets.spec("adult"), datasets.load("adult"), "income", plugin_mechanisms="linear"
    )


# -- output ---------------------------------------------------------------------------------------------
def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in r) + " |")
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:.4f}"
    return str(v)


def _header(title: str, load0: tuple[float, ...], started: dt.datetime) -> str:
    import sklearn

    load1 = os.getloadavg()
    return (
        f"## {title}\n\n"
        f"- Date: {started:%Y-%m-%d %H:%M} UTC\n"
        f"- Machine: nproc {os.cpu_count()}, shared with other jobs; load average {load0[0]:.1f}, {load0[1]:.1f}, "
        f"{load0[2]:.1f} at the start and {load1[0]:.1f}, {load1[1]:.1f}, {load1[2]:.1f} at the end; Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, scikit-learn "
        f"{sklearn.__version__}\n"
        f"- Command: `PYTHONPATH=src .venv/bin/python benchmarks/decompose.py {' '.join(sys.argv[1:])}`\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--truth-rows", type=int, default=2_000_000)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--skip", nargs="*", default=[], choices=["simulated", "compas", "adult"])
    args = ap.parse_args()
    if "simulated" not in args.skip:
        load0, started = os.getloadavg(), dt.datetime.now(dt.UTC)
        print("simulated SCMs", flush=True)
        sim = pd.DataFrame(simulated(args.sizes, args.seeds, args.truth_rows))
        summary = (
            sim.groupby(["scm", "n", "method", "term"], sort=False)
            .agg(truth=("truth", "first"), mean_estimate=("estimate", "mean"), mean_abs_error=("abs_error", "mean"),
                 coverage=("covered", "mean"), mean_width=("width", "mean"), cpu_s=("cpu_s", "mean"))
            .reset_index()
        )  # fmt: skip
        text = (
            _header("Disparity decomposition (issue 12): against the truth on simulated SCMs", load0, started)
            + "\nTruth: independent NumPy Monte Carlo over the true mechanisms "
            f"({args.truth_rows:,} units, common noise across worlds). {args.seeds} seeds per size; mean "
            "|error|, share of 95% intervals covering the truth, mean interval width, mean CPU seconds per "
            "call (all three terms come from one call).\n\n" + _md(summary) + "\n"
        )
        print(text, flush=True)
        if not args.no_write:
            write_section(text, args.out)
    if "compas" not in args.skip:
        load0, started = os.getloadavg(), dt.datetime.now(dt.UTC)
        print("COMPAS", flush=True)
        c = pd.DataFrame(compas())
        print(c.to_string(), flush=True)
        f = pd.DataFrame(compas_faircause_setting())
        print(f.to_string(), flush=True)
        text = (
            _header("Disparity decomposition (issue 12): COMPAS", load0, started)
            + "\n### African-American vs Caucasian, shipped SFM spec\n\n"
            "x0 = Caucasian, x1 = African-American; `high_risk` = decile_score > 4 (a column outside the spec, "
            "a child of every observed non-target variable). Terms with their 95% intervals; seconds of one "
            "call, cross-fitting (dr) or SCM.fit (plugin) included.\n\n"
            + _md(c)
            + "\n\n### faircause's setting (Majority = Caucasian vs Minority = every other race; dr, boosting)"
            "\n\n" + _md(f) + "\n"
        )
        print(text, flush=True)
        if not args.no_write:
            write_section(text, args.out)
    if "adult" not in args.skip:
        load0, started = os.getloadavg(), dt.datetime.now(dt.UTC)
        print("Adult", flush=True)
        a = pd.DataFrame(adult())
        print(a.to_string(), flush=True)
        text = (
            _header("Disparity decomposition (issue 12): Adult", load0, started)
            + "\nIncome > 50K by sex, x0 = Male, x1 = Female; seconds of one call, cross-fitting (dr) or SCM.fit "
            "(plugin) included.\n\n" + _md(a) + "\n"
        )
        print(text, flush=True)
        if not args.no_write:
            write_section(text, args.out)


if __name__ == "__main__":
    main()
