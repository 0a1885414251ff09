"""Time ``ct.audit`` on the readmission scenario, its parts against fairlearn, dowhy.gcm and NumPy floors.

    .venv-peers/bin/python benchmarks/audit.py [--rows 100000] [--repeats 3] [--shadow-rows 10000] \
        [--shadows 16] [--profile-top 12] [--out benchmarks/RESULTS.md] [--no-write]

One run measures, on ``--rows`` test units of the readmission scenario and a logistic-regression pipeline
(one-hot E) trained on 20,000 rows:

1. the audit itself: each objective alone (``objectives=[name]``) and all five together, ``n_shadow=0`` so
   the shadow-model attack is skipped (privacy still computes ε, the loss-threshold attack and attribute
   inference), default ``n_bootstrap=200``;
2. the observational group metrics (demographic parity and equalized odds differences by A): causaltrust's
   bincount functions against fairlearn (its two functions and one ``MetricFrame``) and a NumPy floor;
3. the counterfactual effect of A on the prediction (features under do(A=1) and do(A=0) for the test units,
   scored by the model): the audit's own computation against ``dowhy.gcm.counterfactual_samples`` and a
   NumPy floor, each followed by the same two ``predict_proba`` calls;
4. the LiRA-style shadow attack (``--shadows`` shadows, ``--shadow-rows`` members and as many non-members)
   against its floor, the bare clone/fit/predict_proba calls any shadow attack pays.

Each cell is the best of --repeats runs (time.perf_counter, garbage collected before each run; calls under
0.2 s are looped and the mean per call kept). Model training, sampling and dtype conversions stay outside
the timers; every timed operation runs once before it is timed. A cProfile of the full audit (one extra run,
not timed) lists its top costs. The table is printed and written as the ``## Audit`` section of --out.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import _readmission_peers as peers
import _results
from scm_engine import command, load_average, machine

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "benchmarks" / "RESULTS.md"
SECTION = "## Audit"
OBJECTIVES = ("accuracy", "fairness", "robustness", "privacy", "explainability")
TRAIN_ROWS = 20_000
TRAIN_SEED, TEST_SEED = 1, 2  # as tests/audit: scm.sample(..., random_state=1 / 2)
SHADOW_TRAIN_SEED, SHADOW_TEST_SEED = 11, 12
SEED = 0  # random_state of every audit call, dowhy's set_random_seed, the floor's default_rng
MIN_TIMED = 0.2  # seconds: faster calls are looped so one timing is at least this long
TARGETS = {"audit": 30.0, "shadow": 60.0, "group": 10.0}  # from the issue


# ------------------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Best seconds per call of one measured operation, and the process CPU seconds of that run."""

    label: str
    seconds: float
    cpu: float
    runs: int
    loops: int = 1
    result: Any = None


def best_of(
    label: str,
    fn: Callable[[], Any],
    repeats: int,
    setup: Callable[[], None] | None = None,
    warmup: bool = True,
) -> Timing:
    """Best of ``repeats`` timings of ``fn()`` (``setup`` runs before each, outside the timer).

    With ``warmup`` one untimed call comes first, and calls under MIN_TIMED seconds are looped (the mean
    per call of a loop counts). Long calls skip it (``warmup=False``): main() warms every path up once on a
    small sample, and a second untimed multi-second call would only lengthen the run.
    """
    loops = 1
    if warmup:
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        first = time.perf_counter() - start
        loops = 1 if first >= MIN_TIMED or setup else max(1, int(MIN_TIMED / max(first, 1e-7)))
    best, best_cpu, result = float("inf"), float("nan"), None
    for _ in range(repeats):
        if setup:
            setup()
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        for _ in range(loops):
            result = fn()
        elapsed = (time.perf_counter() - start) / loops
        cpu = (time.process_time() - cpu) / loops
        if elapsed < best:
            best, best_cpu = elapsed, cpu
    print(f"  {label:<66} {best:10.4g} s  (CPU {best_cpu:.4g} s)", flush=True)
    return Timing(label, best, best_cpu, repeats, loops, result)


# ------------------------------------------------------------------------------------------------------------
# The scenario
# ------------------------------------------------------------------------------------------------------------


def make_model(spec: Any, train: pd.DataFrame) -> Any:
    """Logistic regression on the spec's features with E one-hot encoded (as tests/audit train it)."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["E"]), remainder="passthrough")
    return make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(train[spec.features], train[spec.target])


@dataclass
class Scenario:
    spec: Any
    scm: Any
    train: pd.DataFrame
    test: pd.DataFrame  # observed columns only, as real test data: the latent L is not in it
    full: pd.DataFrame  # the same units with L (for dowhy, which has no latent variables)
    model: Any


def scenario(rows: int) -> Scenario:
    import causaltrust as ct

    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(TRAIN_ROWS, random_state=TRAIN_SEED).drop(columns=list(scm.latent))
    full = scm.sample(rows, random_state=TEST_SEED)
    test = full.drop(columns=list(scm.latent))
    return Scenario(spec, scm, train, test, full, make_model(spec, train))


# ------------------------------------------------------------------------------------------------------------
# 1. The audit
# ------------------------------------------------------------------------------------------------------------


def audit_call(s: Scenario, objectives: list[str]) -> Callable[[], Any]:
    import causaltrust as ct

    return lambda: ct.audit(
        s.model,
        spec=s.spec,
        scm=s.scm,
        data=s.test,
        train_data=s.train,
        objectives=objectives,
        n_shadow=0,
        random_state=SEED,
    )


def bench_audit(s: Scenario, repeats: int) -> tuple[list[Timing], Timing, Any]:
    """Shared set-up (build_context), each objective alone, then all five in one call."""
    from causaltrust.audit import AuditOptions, build_context

    context = best_of(
        "audit: build_context (validation, latent completion)",
        lambda: build_context(
            s.model,
            spec=s.spec,
            scm=s.scm,
            data=s.test,
            train_data=s.train,
            random_state=SEED,
            options=AuditOptions(n_shadow=0),
        ),
        repeats,
    )
    context.label = "build_context"
    rows = [context]
    for objective in OBJECTIVES:
        t = best_of(f"audit: objectives=[{objective!r}]", audit_call(s, [objective]), repeats, warmup=False)
        t.label = objective
        rows.append(t)
    total = best_of("audit: all five objectives", audit_call(s, list(OBJECTIVES)), repeats, warmup=False)
    return rows, total, total.result


Profile = list[tuple[str, int, float, float]]


def warm_up(s: Scenario) -> None:
    """One small audit through every objective, the shadow attack included: lazy imports and first-call
    caches stay out of the timings of the long calls, which are not warmed up one by one."""
    import causaltrust as ct

    ct.audit(
        s.model,
        spec=s.spec,
        scm=s.scm,
        data=s.test.iloc[:2000],
        train_data=s.train.iloc[:2000],
        n_shadow=4,
        n_bootstrap=10,
        random_state=SEED,
    )


def profile_audit(s: Scenario, top: int) -> tuple[Profile, Profile]:
    """cProfile of one full audit: the ``top`` functions by own time, and the ``top`` causaltrust functions
    by cumulative time, as (function, calls, tottime, cumtime)."""
    call = audit_call(s, list(OBJECTIVES))
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    call()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    out = []
    for (path, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        out.append((_where(path, line, func), ncalls, tottime, cumtime))
    by_own = sorted(out, key=lambda r: r[2], reverse=True)[:top]
    ours = [r for r in out if r[0].startswith("causaltrust/") and not r[0].endswith(" <module>")]
    by_cum = sorted(ours, key=lambda r: r[3], reverse=True)[:top]
    return by_own, by_cum


def _where(path: str, line: int, func: str) -> str:
    """'causaltrust/audit/_context.py:52 bootstrap_interval' (site-packages and the repo stripped)."""
    for marker in ("site-packages/", "src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line} {func}" if line else func


# ------------------------------------------------------------------------------------------------------------
# 2. Group metrics: causaltrust vs fairlearn vs a NumPy floor
# ------------------------------------------------------------------------------------------------------------


def floor_group(y: np.ndarray, y_pred: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    """Both differences for a binary attribute with boolean masks: the least work there is."""
    g1, pos = a == 1, y == 1
    g0, neg = ~g1, ~pos
    dp = abs(y_pred[g1].mean() - y_pred[g0].mean())
    tpr = abs(y_pred[g1 & pos].mean() - y_pred[g0 & pos].mean())
    fpr = abs(y_pred[g1 & neg].mean() - y_pred[g0 & neg].mean())
    return float(dp), float(max(tpr, fpr))


def bench_group(s: Scenario, repeats: int) -> tuple[list[Timing], list[str]]:
    from fairlearn import metrics as flm

    from causaltrust.audit._fairness import demographic_parity_difference, equalized_odds_difference

    X = s.test[s.spec.features]
    # The arrays the audit holds (float labels, int64 codes); fairlearn gets the same NumPy arrays.
    y = s.test[s.spec.target].to_numpy(dtype=np.float64)
    y_pred = s.model.predict(X).astype(np.float64)
    a = s.test["A"].to_numpy().astype(np.int64)

    def ours() -> tuple[float, float]:
        return (demographic_parity_difference(y_pred, a, 2), equalized_odds_difference(y, y_pred, a, 2))

    def fairlearn_functions() -> tuple[float, float]:
        return (
            float(flm.demographic_parity_difference(y, y_pred, sensitive_features=a)),
            float(flm.equalized_odds_difference(y, y_pred, sensitive_features=a)),
        )

    def fairlearn_frame() -> tuple[float, float]:
        frame = flm.MetricFrame(
            metrics={
                "sel": flm.selection_rate,
                "tpr": flm.true_positive_rate,
                "fpr": flm.false_positive_rate,
            },
            y_true=y,
            y_pred=y_pred,
            sensitive_features=a,
        )
        diff = frame.difference()
        return float(diff["sel"]), float(max(diff["tpr"], diff["fpr"]))

    rows = [
        best_of("group metrics: NumPy floor (boolean masks)", lambda: floor_group(y, y_pred, a), repeats),
        best_of("group metrics: causaltrust (bincount)", ours, repeats),
        best_of("group metrics: fairlearn MetricFrame (3 metrics)", fairlearn_frame, repeats),
        best_of("group metrics: fairlearn dp + eo functions", fairlearn_functions, repeats),
    ]
    labels = ("floor", "causaltrust", "fairlearn MetricFrame", "fairlearn functions")
    for t, label in zip(rows, labels, strict=True):
        t.label = label
    ref = rows[1].result
    checks = []
    for t in (rows[0], rows[2], rows[3]):
        gap = max(abs(p - q) for p, q in zip(t.result, ref, strict=True))
        ok = "equal" if gap <= 1e-9 else "DIFFERENT"
        checks.append(f"{t.label} vs causaltrust: max |difference| {gap:.1e} ({ok} to 1e-9)")
    checks.insert(
        0, f"values: demographic parity difference {ref[0]:.6f}, equalized odds difference {ref[1]:.6f}"
    )
    return rows, checks


# ------------------------------------------------------------------------------------------------------------
# 3. Counterfactual effect of A on the prediction: causaltrust vs dowhy.gcm vs a NumPy floor
# ------------------------------------------------------------------------------------------------------------


def bench_counterfactual(s: Scenario, repeats: int, report: Any) -> tuple[list[Timing], list[str]]:
    from dowhy import gcm
    from dowhy.gcm.util.general import set_random_seed

    from causaltrust.audit import ModelAdapter, UnitWorlds

    gcm.config.disable_progress_bars()
    scm, test, features = s.scm, s.test, s.spec.features
    adapter = ModelAdapter(s.model, features, "binary")
    observed = test
    cf_scm = peers.dowhy_true_scm(binary_as_anm=True)
    with_l = s.full[peers.COLUMNS].copy()  # dowhy has no latent variables: it is handed L

    def score(df: pd.DataFrame) -> np.ndarray:
        return adapter.scores(df)

    def ours() -> np.ndarray:
        # fairness.counterfactual_effect as fairness_metrics computes it: the unit worlds (abduction), the
        # world switching A 0 -> 1 along every path, the features under do(A=1) and do(A=0), two scorings.
        worlds = UnitWorlds(scm, observed, features, 1, SEED)
        world = worlds.path_world("A", 1, 0)
        everything = worlds.full_paths("A", None)
        return score(worlds.features_along(world, everything)) - score(worlds.features_along(world, []))

    def ours_public() -> np.ndarray:
        # The same through the public SCM API: two counterfactuals, each with its own abduction.
        on = scm.counterfactual(observed, do={"A": 1}, random_state=SEED)
        off = scm.counterfactual(observed, do={"A": 0}, random_state=SEED)
        return score(on) - score(off)

    def dowhy_cf() -> np.ndarray:
        on = gcm.counterfactual_samples(cf_scm, {"A": lambda a: 1}, observed_data=with_l)
        off = gcm.counterfactual_samples(cf_scm, {"A": lambda a: 0}, observed_data=with_l)
        return score(on) - score(off)

    def floor() -> np.ndarray:
        on = peers.floor_counterfactual(observed, do_a=1, seed=SEED)
        off = peers.floor_counterfactual(observed, do_a=0, seed=SEED)
        return score(on) - score(off)

    factual = observed[features]
    rows = [
        best_of("counterfactual effect: NumPy floor + scoring", floor, repeats),
        best_of("counterfactual effect: causaltrust audit (UnitWorlds) + scoring", ours, repeats),
        best_of("counterfactual effect: causaltrust scm.counterfactual x2 + scoring", ours_public, repeats),
        best_of(
            "counterfactual effect: dowhy counterfactual_samples x2 + scoring",
            dowhy_cf,
            repeats,
            setup=lambda: set_random_seed(SEED),
        ),
        best_of(
            "counterfactual effect: scoring alone (2 x predict_proba)",
            lambda: (score(factual), score(factual)),
            repeats,
        ),
    ]
    labels = ("floor", "causaltrust audit", "causaltrust scm.counterfactual", "dowhy", "scoring alone")
    for t, label in zip(rows, labels, strict=True):
        t.label = label
    checks = [
        "mean effect of A (0 -> 1) on P(Y = 1): "
        + ", ".join(f"{t.label} {float(np.mean(t.result)):.4f}" for t in rows[:4])
    ]
    # The timed computation must be the audit's: same seed, same abduction stream, same value.
    audited = report.metric("fairness.counterfactual_effect").value
    gap = abs(audited - float(np.mean(rows[1].result)))
    checks.append(
        f"the audit's fairness.counterfactual_effect {audited:.6f}; the timed UnitWorlds computation differs "
        f"by {gap:.1e} ({'equal' if gap <= 1e-12 else 'DIFFERENT'} to 1e-12)"
    )
    # X' is deterministic given the abducted L, so every implementation must agree on it to rounding.
    x_ours = UnitWorlds(scm, observed, features, 1, SEED)
    x_ct = x_ours.features_along(x_ours.path_world("A", 1, 0), x_ours.full_paths("A", None))["X"].to_numpy()
    set_random_seed(SEED)
    x_dowhy = gcm.counterfactual_samples(cf_scm, {"A": lambda a: 1}, observed_data=with_l)["X"].to_numpy()
    x_floor = peers.floor_counterfactual(observed, do_a=1, seed=SEED)["X"].to_numpy()
    checks.append(
        f"X under do(A=1): max |causaltrust - dowhy| {np.max(np.abs(x_ct - x_dowhy)):.1e}, "
        f"max |causaltrust - floor| {np.max(np.abs(x_ct - x_floor)):.1e}"
    )
    return rows, checks


# ------------------------------------------------------------------------------------------------------------
# 4. Shadow-model attack
# ------------------------------------------------------------------------------------------------------------


def bench_shadow(s: Scenario, rows: int, shadows: int, repeats: int) -> tuple[list[Timing], list[str]]:
    from sklearn.base import clone

    from causaltrust.audit import AuditOptions, build_context
    from causaltrust.audit.privacy._losses import model_outputs, target_values
    from causaltrust.audit.privacy._membership import shadow_metrics

    spec, scm = s.spec, s.scm
    train = scm.sample(rows, random_state=SHADOW_TRAIN_SEED)
    test = scm.sample(rows, random_state=SHADOW_TEST_SEED)
    model = make_model(spec, train)
    ctx_holder: list[Any] = []

    def fresh(n_bootstrap: int) -> Callable[[], None]:
        def setup() -> None:  # a context collects notes, so each run gets its own (outside the timer)
            options = AuditOptions(n_shadow=shadows, n_bootstrap=n_bootstrap)
            ctx_holder[:] = [
                build_context(
                    model, spec=spec, scm=scm, data=test, train_data=train, random_state=SEED, options=options
                )
            ]

        return setup

    fresh(0)()
    adapter, meta = ctx_holder[0].model, scm.meta
    members = model_outputs(adapter, train[spec.features], target_values(train, meta, spec.target, "train"))
    non_members = model_outputs(adapter, test[spec.features], target_values(test, meta, spec.target, "test"))
    pooled = pd.concat([train, test], ignore_index=True)
    X, y = pooled[spec.features], pooled[spec.target]
    rng = np.random.default_rng(SEED)

    def floor() -> None:
        for _ in range(shadows):
            half = np.zeros(len(X), dtype=bool)
            half[rng.permutation(len(X))[: len(X) // 2]] = True
            clone(model).fit(X[half], y[half]).predict_proba(X)

    timings = [
        best_of(f"shadow attack: floor ({shadows} x clone/fit/predict_proba)", floor, repeats, warmup=False),
        best_of(
            "shadow attack: causaltrust shadow_metrics, n_bootstrap=0",
            lambda: shadow_metrics(ctx_holder[0], members, non_members),
            repeats,
            setup=fresh(0),
            warmup=False,
        ),
        best_of(
            "shadow attack: causaltrust shadow_metrics, n_bootstrap=200",
            lambda: shadow_metrics(ctx_holder[0], members, non_members),
            repeats,
            setup=fresh(200),
            warmup=False,
        ),
    ]
    labels = ("floor", "causaltrust, no bootstrap", "causaltrust, 200 bootstrap")
    for t, label in zip(timings, labels, strict=True):
        t.label = label
    got = {m.name: m.value for m in timings[2].result}
    checks = ["attack: " + ", ".join(f"{k} {v:.4f}" for k, v in got.items())]
    return timings, checks


# ------------------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------------------


def x(num: Timing, den: Timing) -> str:
    """num / den of the wall-clock seconds, as '12.3x'."""
    return f"{num.seconds / den.seconds:.1f}x" if den.seconds > 0 else "-"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


NOTES = [
    "Audit rows: `ct.audit(model, spec=, scm=, data=test, train_data=train, objectives=[...], n_shadow=0)` "
    "with the default `n_bootstrap=200`; each objective row is a whole audit call of that objective alone, "
    "so it includes `build_context` (shown on its own first row). With `n_shadow=0` privacy still computes "
    "ε, the loss-threshold attack (Yeom) and attribute inference; the shadow attack is skipped with a note "
    "(it needs at least 4 shadows). No peer library audits a model through an SCM, so these rows have no "
    "ratio; the target is the issue's 30 s.",
    "Group metrics: demographic parity and equalized odds differences by the binary A on the model's "
    "labels. causaltrust's `demographic_parity_difference` + `equalized_odds_difference` (NumPy bincount) "
    "against fairlearn's two functions (each builds MetricFrames) and one `MetricFrame` with "
    "`selection_rate`, `true_positive_rate`, `false_positive_rate` and `.difference()`; the floor is "
    "boolean-mask means. All get the same NumPy arrays (labels float64, A int64). Values are checked to "
    "1e-9.",
    "Counterfactual effect: per-unit P(Y=1 | features under do(A=1)) - P(Y=1 | features under do(A=0)) on "
    "the test units, both scored by the model's `predict_proba` (the scoring row is that part alone). "
    "causaltrust audit = what `fairness.counterfactual_effect` runs (UnitWorlds abduction, a path world, "
    "`features_along` every path and none); scm.counterfactual = the public API twice. dowhy = "
    "`gcm.counterfactual_samples` twice on `InvertibleStructuralCausalModel` with the true mechanisms "
    "(benchmarks/_readmission_peers.py `dowhy_true_scm(binary_as_anm=True)`), handed L because dowhy has no "
    "latent variables. dowhy cannot abduct classifiers (ClassifierFCM has no `estimate_noise`), so Z is an "
    "additive noise model `Z = P(Z=1 | A) + N` and its counterfactual Z is not 0/1: the model scores "
    "Z + P(Z=1|A') - P(Z=1|A), so dowhy's mean effect differs from causaltrust's and the floor's, which keep "
    "Z binary (uniform noise abducted from the interval the observed Z allows). The floor is "
    "`_readmission_peers.floor_counterfactual` (which also computes Y') twice.",
    "Shadow attack: `shadow_metrics` (LiRA-style, global variance) with the audit model retrained by "
    "`sklearn.base.clone` on half of the pooled members + non-members, then Gaussian IN/OUT fits, ROC and "
    "(second row) a 200-resample bootstrap of AUC and the TPRs. No LiRA implementation is pinned in "
    "constraints-peers.txt, so the reference is the floor: the same number of bare clone/fit/predict_proba "
    "calls on the same pooled points, which any shadow attack pays. Context building and the target "
    "model's outputs stay outside the timer.",
    "Calls under 0.2 s are looped; their seconds are the mean per call of the best loop.",
]


def section(
    args: argparse.Namespace,
    audit_rows: list[Timing],
    total: Timing,
    group: list[Timing],
    group_checks: list[str],
    cf: list[Timing],
    cf_checks: list[str],
    shadow: list[Timing],
    shadow_checks: list[str],
    profile: tuple[Profile, Profile],
    versions: str,
    load_at_start: str,
) -> str:
    g = {t.label: t for t in group}
    c = {t.label: t for t in cf}
    sh = {t.label: t for t in shadow}
    n, pair = f"{args.rows:,}", f"{args.shadow_rows:,} + {args.shadow_rows:,}"

    def row(what: str, rows: str, t: Timing, ratio: str = "", target: str = "", bold: bool = False) -> str:
        sec = f"**{t.seconds:.3g}**" if bold else f"{t.seconds:.3g}"
        what = f"**{what}**" if bold else what
        return f"| {what} | {rows} | {sec} | {t.cpu:.3g} | {ratio} | {target} |"

    def faster(peer: Timing) -> str:
        ok = peer.seconds / g["causaltrust"].seconds >= TARGETS["group"]
        return f"causaltrust >= {TARGETS['group']:.0f}x faster: {verdict(ok)}"

    lines = [
        SECTION,
        "",
        f"Readmission scenario, a LogisticRegression pipeline (one-hot E) trained on {TRAIN_ROWS:,} rows, "
        f"audited on {args.rows:,} test rows. Seconds are wall-clock, the best of {args.repeats} runs; CPU "
        "is the process CPU time of that run (all threads), which a busy machine distorts less. A ratio "
        "a / b > 1 means a is slower.",
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine(load_at_start)}; {versions}",
        f"- Command: `{command()}`",
        "",
        "| measurement | rows | seconds | CPU s | ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    for t in audit_rows:
        what = "audit: build_context only" if t.label == "build_context" else f"audit: objectives=[{t.label}]"
        lines.append(row(what, n, t, f"{t.seconds / total.seconds:.0%} of the full audit"))
    ok = total.seconds < TARGETS["audit"]
    lines += [
        row(
            "audit: all five objectives (n_shadow=0)",
            n,
            total,
            "-",
            f"< {TARGETS['audit']:.0f} s: {verdict(ok)}",
            bold=True,
        ),
        row("group metrics: NumPy floor", n, g["floor"], "1.0x"),
        row(
            "group metrics: causaltrust",
            n,
            g["causaltrust"],
            f"{x(g['causaltrust'], g['floor'])} of the floor",
        ),
    ]
    for label in ("fairlearn MetricFrame", "fairlearn functions"):
        ratio = f"{x(g[label], g['causaltrust'])} of causaltrust, {x(g[label], g['floor'])} of the floor"
        lines.append(row(f"group metrics: {label}", n, g[label], ratio, faster(g[label])))
    audit_cf = c["causaltrust audit"]
    shadow_ok = sh["causaltrust, 200 bootstrap"].seconds < TARGETS["shadow"]
    lines += [
        row("counterfactual effect: NumPy floor + scoring", n, c["floor"], "1.0x"),
        row(
            "counterfactual effect: causaltrust audit + scoring",
            n,
            audit_cf,
            f"{x(audit_cf, c['floor'])} of the floor",
        ),
        row(
            "counterfactual effect: causaltrust scm.counterfactual x2 + scoring",
            n,
            c["causaltrust scm.counterfactual"],
            f"{x(c['causaltrust scm.counterfactual'], c['floor'])} of the floor",
        ),
        row(
            "counterfactual effect: dowhy counterfactual_samples x2 + scoring",
            n,
            c["dowhy"],
            f"{x(c['dowhy'], audit_cf)} of causaltrust audit, {x(c['dowhy'], c['floor'])} of the floor",
        ),
        row(
            "counterfactual effect: scoring alone (2 x predict_proba)",
            n,
            c["scoring alone"],
            f"{c['scoring alone'].seconds / audit_cf.seconds:.0%} of causaltrust audit",
        ),
        row(f"shadow attack floor: {args.shadows} x clone/fit/predict_proba", pair, sh["floor"], "1.0x"),
        row(
            "shadow attack: causaltrust, no bootstrap",
            pair,
            sh["causaltrust, no bootstrap"],
            f"{x(sh['causaltrust, no bootstrap'], sh['floor'])} of the floor",
        ),
        row(
            f"shadow attack: causaltrust, {args.shadows} shadows, 200 bootstrap",
            pair,
            sh["causaltrust, 200 bootstrap"],
            f"{x(sh['causaltrust, 200 bootstrap'], sh['floor'])} of the floor",
            f"< {TARGETS['shadow']:.0f} s: {verdict(shadow_ok)}",
            bold=True,
        ),
        "",
        "Checks (outside the timers):",
        "",
        *[f"- group metrics: {line}" for line in group_checks],
        *[f"- counterfactual: {line}" for line in cf_checks],
        *[f"- shadow: {line}" for line in shadow_checks],
        "",
    ]
    by_own, by_cum = profile
    for rows, what in (
        (by_own, "functions by own time"),
        (by_cum, "causaltrust functions by cumulative time"),
    ):
        if not rows:
            continue
        lines += [
            f"Top {len(rows)} {what} in a cProfile of one full audit at {args.rows:,} rows (all five "
            "objectives, n_shadow=0; profiling overhead included, so read the ranking, not the seconds):",
            "",
            "| function | calls | own s | cumulative s |",
            "|---|---|---|---|",
            *[f"| `{name}` | {calls} | {tot:.3g} | {cum:.3g} |" for name, calls, tot, cum in rows],
            "",
        ]
    lines += ["Notes:", "", *[f"- {note}" for note in NOTES], ""]
    return "\n".join(lines)


def versions() -> str:
    import dowhy
    import fairlearn

    import causaltrust

    return (
        f"causaltrust {causaltrust.__version__}, fairlearn {fairlearn.__version__}, dowhy {dowhy.__version__}"
    )


def write_section(path: Path, text: str) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md (see _results.write_section)."""
    _results.write_section(text, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="test rows of the audit")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per cell (the best is kept)")
    parser.add_argument(
        "--shadow-rows", type=int, default=10_000, help="members (and non-members) of the attack"
    )
    parser.add_argument("--shadows", type=int, default=16, help="shadow models")
    parser.add_argument("--profile-top", type=int, default=12, help="functions listed from cProfile; 0 skips")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write the section to")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)
    load_at_start = load_average()

    s = scenario(args.rows)
    warm_up(s)
    audit_rows, total, report = bench_audit(s, repeats)
    group, group_checks = bench_group(s, repeats)
    cf, cf_checks = bench_counterfactual(s, repeats, report)
    shadow, shadow_checks = bench_shadow(s, args.shadow_rows, args.shadows, repeats)
    profile = profile_audit(s, args.profile_top) if args.profile_top > 0 else ([], [])

    text = section(
        args,
        audit_rows,
        total,
        group,
        group_checks,
        cf,
        cf_checks,
        shadow,
        shadow_checks,
        profile,
        versions(),
        load_at_start,
    )
    print()
    print(text)
    if not args.no_write:
        write_section(args.out, text)
        print(f"wrote the '{SECTION}' section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
