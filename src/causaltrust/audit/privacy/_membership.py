"""Membership inference: loss threshold (Yeom et al. 2018), shadow attacks (RMIA, LiRA) and their power."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.audit._context import AuditContext
from causaltrust.audit._model import ModelAdapter
from causaltrust.audit._report import Metric
from causaltrust.audit.privacy._losses import Outputs, model_outputs, target_values

__all__ = [
    "ADVANTAGE_POWER_NAME",
    "POWER_NAME",
    "advantage_power_metric",
    "lira_scores",
    "loss_threshold_metric",
    "memorising_forest",
    "rmia_scores",
    "shadow_metrics",
    "tpr_at_fpr",
    "yeom_advantage",
]

Array = np.ndarray

MIN_SHADOWS = 4  # at least two IN and two OUT shadows per point, so a pooled variance can be estimated
PER_EXAMPLE_VARIANCE_SHADOWS = 64  # LiRA: per-example variances pay off only with many shadows
VAR_FLOOR = 1e-8  # memorising shadows give identical φ on their training rows (zero variance)
FPRS = {"privacy.mia_tpr_at_1pct_fpr": 0.01, "privacy.mia_tpr_at_0.1pct_fpr": 0.001}
POWER_NAME = "privacy.mia_power[mia_tpr_at_1pct_fpr]"
ADVANTAGE_POWER_NAME = "privacy.mia_power[mia_advantage]"
CANARY_TREES = 25  # RMIA at 8 shadows: TPR at 1% FPR 0.17-0.31 (benchmarks/mia_power_cpu.py), 0.4 CPU s


# -- loss threshold (Yeom et al. 2018) -------------------------------------------------------------------


def yeom_advantage(loss_in: Array, loss_out: Array) -> Array:
    """TPR - FPR of "member iff loss <= mean member loss", row by row of 2-D loss arrays.

    Each row is one resample of members (``loss_in``) and non-members (``loss_out``); the threshold is
    the row's mean member loss, as the adversary of Yeom et al. knows the average training loss.
    """
    tau = loss_in.mean(axis=1, keepdims=True)
    # A memorising model gives every member the same (clipped) loss; their mean can round just below it,
    # which would turn a perfect attack into TPR = 0. A relative slack of 1e-9 absorbs that rounding.
    tau = tau + 1e-9 * np.abs(tau)
    return (loss_in <= tau).mean(axis=1) - (loss_out <= tau).mean(axis=1)


def loss_threshold_metric(
    ctx: AuditContext, members: Outputs, non_members: Outputs, name: str = "privacy.mia_advantage"
) -> Metric:
    """``privacy.mia_advantage`` on a balanced sample of training (member) and test (non-member) rows.

    ``name`` is the metric's name: the attack's power (:func:`advantage_power_metric`) runs it under its own.
    """
    rng = ctx.rng(name)
    n = min(len(members.loss), len(non_members.loss))
    # Balanced classes make TPR - FPR the advantage of an adversary with a 50% prior on membership.
    loss_in = members.loss[_subsample(len(members.loss), n, rng)]
    loss_out = non_members.loss[_subsample(len(non_members.loss), n, rng)]
    value = float(yeom_advantage(loss_in[None, :], loss_out[None, :])[0])
    o = ctx.options
    interval = _two_sample_bootstrap(loss_in, loss_out, rng, o.n_bootstrap, o.confidence)
    kind = "squared error" if ctx.model.task == "regression" else "log-loss of the true label"
    method = (
        f"Yeom et al. 2018 loss threshold ({kind}; threshold = mean loss of the sampled members) on {n} "
        f"training and {n} test rows; bootstrap over members and non-members"
    )
    if members.hard:
        method += "; the model has no probabilities: its 0/1 labels were used (a 0-1 loss)"
    return ctx.metric(name, value, interval, method=method)


def _two_sample_bootstrap(
    loss_in: Array, loss_out: Array, rng: np.random.Generator, n_boot: int, confidence: float
) -> tuple[float, float]:
    n = len(loss_in)
    if n < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
    vals = []
    # (block, n) index matrices: no Python loop per resample, and bounded memory.
    block = max(1, min(n_boot, 2_000_000 // n))
    done = 0
    while done < n_boot:
        k = min(block, n_boot - done)
        vals.append(yeom_advantage(loss_in[rng.integers(0, n, (k, n))], loss_out[rng.integers(0, n, (k, n))]))
        done += k
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(np.concatenate(vals), [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _subsample(n_total: int, n: int, rng: np.random.Generator) -> Array:
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(rng.choice(n_total, n, replace=False))


# The canary's result depends only on the rows, the spec, the audit's seed and its interval settings, not on
# the audited model: cells of one sweep that share them (every method at one seed) share it (per process).
_POWER_CACHE: OrderedDict[str, tuple[float, tuple[float, float] | None]] = OrderedDict()
_POWER_CACHE_SIZE = 16


def _rows_digest(*frames: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for df in frames:
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        h.update(repr(list(df.columns)).encode())
    return h.hexdigest()


def advantage_power_metric(ctx: AuditContext, train: pd.DataFrame, test: pd.DataFrame) -> Metric | None:
    """``privacy.mia_power[mia_advantage]``: the loss-threshold attack against a memorising forest.

    The forest (:func:`memorising_forest`) is trained on the audit's member rows and attacked on the same
    members and non-members as the model, so the advantage it reaches is what this attack can detect at
    these settings. Classifiers only (None for a regressor). The result does not depend on the audited
    model: audits of other models on the same rows, spec, seed and interval settings reuse it (a cache of
    the last 16 in this process).
    """
    if ctx.model.task == "regression":
        return None
    name = ADVANTAGE_POWER_NAME
    spec, meta = ctx.spec, ctx.scm.meta
    features = list(spec.features)
    cols = [*features, spec.target]
    key = "|".join(
        map(
            str,
            (spec.hash, ctx.random_state, ctx.options.n_bootstrap, ctx.options.confidence,
             _rows_digest(train[cols], test[cols])),
        )
    )  # fmt: skip
    how = (
        f"the attack's power: the same loss-threshold attack on the same rows against a memorising random "
        f"forest ({CANARY_TREES} trees, min_samples_leaf=1) trained on the training rows"
    )
    if key in _POWER_CACHE:
        _POWER_CACHE.move_to_end(key)
        value, interval = _POWER_CACHE[key]
        return ctx.metric(name, value, interval, method=how)
    seed = int(ctx.rng(name).integers(0, 2**31 - 1))
    try:
        canary = memorising_forest(features, seed).fit(train[features], train[spec.target])
    except (ValueError, TypeError) as exc:
        ctx.notes.append(f"{name}: skipped, the memorising forest could not be fitted ({exc}).")
        return None
    adapter = ModelAdapter(canary, features, "binary")
    ins = model_outputs(adapter, train[features], target_values(train, meta, spec.target, "audit train_data"))
    outs = model_outputs(adapter, test[features], target_values(test, meta, spec.target, "audit data"))
    m = loss_threshold_metric(ctx, ins, outs, name)
    _POWER_CACHE[key] = (m.value, m.interval)
    if len(_POWER_CACHE) > _POWER_CACHE_SIZE:
        _POWER_CACHE.popitem(last=False)
    return ctx.metric(name, m.value, m.interval, method=how)


# -- shadow models (RMIA, Zarifzadeh et al. 2024; LiRA, Carlini et al. 2022) ----------------------------


def balanced_assignment(n_shadow: int, n_points: int, rng: np.random.Generator) -> Array:
    """A (n_shadow, n_points) boolean IN matrix: every point IN for half the shadows, every shadow on half
    the points.

    Shadows come in pairs trained on complementary random halves, so each pair gives every point exactly
    one IN and one OUT model; an odd last shadow takes a random half on its own.
    """
    keep = np.zeros((n_shadow, n_points), dtype=bool)
    half = n_points // 2
    for k in range(0, n_shadow, 2):
        perm = rng.permutation(n_points)
        keep[k, perm[:half]] = True
        if k + 1 < n_shadow:
            keep[k + 1, perm[half:]] = True
    return keep


def lira_scores(phi: Array, keep: Array, phi_target: Array, *, per_example_variance: bool = False) -> Array:
    """Log-likelihood ratio of IN vs OUT for each point.

    Parameters
    ----------
    phi : ndarray of shape (n_shadow, n_points)
        Confidence of every shadow model on every point.
    keep : ndarray of bool, same shape
        Whether the point was in the shadow's training set.
    phi_target : ndarray of shape (n_points,)
        Confidence of the audited model on each point.
    per_example_variance : bool
        Fit one variance per point and side; otherwise LiRA's global variant (per-example means, one pooled
        variance per side), which is far more stable with few shadows.

    Returns
    -------
    ndarray of shape (n_points,)
        log N(φ; μ_in, σ_in²) - log N(φ; μ_out, σ_out²); larger means "more likely a member".

    Examples
    --------
    >>> import numpy as np
    >>> keep = np.array([[True, False], [False, True], [True, False], [False, True]])
    >>> phi = np.array([[3.0, 0.0], [0.0, 3.0], [3.2, 0.2], [0.2, 3.2]])
    >>> s = lira_scores(phi, keep, np.array([3.1, 0.1]))
    >>> bool(s[0] > 0 > s[1])
    True
    """
    mu_in, var_in = _gaussian(phi, keep, per_example_variance)
    mu_out, var_out = _gaussian(phi, ~keep, per_example_variance)
    return 0.5 * (
        np.log(var_out) - np.log(var_in)
        + (phi_target - mu_out) ** 2 / var_out - (phi_target - mu_in) ** 2 / var_in
    )  # fmt: skip


def _gaussian(phi: Array, mask: Array, per_example: bool) -> tuple[Array, Array]:
    count = mask.sum(axis=0)
    mu = np.where(mask, phi, 0.0).sum(axis=0) / count
    sq = np.where(mask, phi - mu, 0.0) ** 2
    # Unbiased: each per-example mean uses one degree of freedom.
    var = sq.sum(axis=0) / (count - 1) if per_example else np.full(phi.shape[1], sq.sum() / (count - 1).sum())
    return mu, np.maximum(var, VAR_FLOOR)


def tpr_at_fpr(fpr: Array, tpr: Array, at: float) -> float:
    """TPR of a ROC curve at false-positive rate ``at``, linearly interpolated between operating points.

    ``fpr``/``tpr`` are sklearn's ``roc_curve`` output (non-decreasing). Where several points share an FPR
    (a vertical step), the highest TPR reached at that FPR counts.
    """
    j = int(np.searchsorted(fpr, at, side="right")) - 1
    if j >= len(fpr) - 1 or fpr[j] == at:
        return float(tpr[j])
    w = (at - fpr[j]) / (fpr[j + 1] - fpr[j])
    return float(tpr[j] + w * (tpr[j + 1] - tpr[j]))


def _roc_stats(member: Array, score: Array) -> tuple[float, float, float]:
    from sklearn.metrics import auc, roc_curve

    fpr, tpr, _ = roc_curve(member, score, drop_intermediate=False)
    at1, at01 = (tpr_at_fpr(fpr, tpr, a) for a in FPRS.values())
    return float(auc(fpr, tpr)), at1, at01


def shadow_metrics(ctx: AuditContext, members: Outputs, non_members: Outputs) -> list[Metric]:
    """``privacy.mia_auc`` and the TPRs at 1% and 0.1% FPR of a shadow-model attack, and its power.

    Classifiers are scored by RMIA (Zarifzadeh et al. 2024, :func:`rmia_scores`), regressors by LiRA
    (Carlini et al. 2022, :func:`lira_scores`). The same shadows' row assignment is then used to attack a
    memorising random forest trained on the same member rows (:func:`memorising_forest`):
    ``privacy.mia_power[mia_tpr_at_1pct_fpr]`` is that attack's TPR at 1% FPR, i.e. what these settings
    can detect (classifiers only). Returns no metric (and adds a note) when the model cannot be cloned and
    refitted.
    """
    from sklearn.base import clone

    names = ["privacy.mia_auc", *FPRS]
    train, test = ctx.train_data, ctx.data
    if train is None:
        return []
    n_shadow = ctx.options.n_shadow
    if n_shadow < MIN_SHADOWS:
        ctx.notes.append(
            f"{', '.join(names)}: skipped, n_shadow={n_shadow}; the shadow attack needs at least "
            f"{MIN_SHADOWS} shadow models (two IN and two OUT per point)."
        )
        return []
    try:
        prototype = clone(ctx.model.model)
    except (TypeError, RuntimeError, AttributeError) as exc:
        ctx.notes.append(
            f"{', '.join(names)}: skipped, the model ({ctx.model.name}) cannot be cloned with "
            f"sklearn.base.clone ({exc}); the shadow attack retrains copies of a scikit-learn estimator."
        )
        return []

    rng = ctx.rng("privacy.mia_auc")
    n_each = min(len(train), len(test))
    if ctx.options.shadow_rows is not None:
        # shadow_rows = rows per shadow training set; a shadow trains on half of the pooled points.
        n_each = max(1, min(n_each, int(ctx.options.shadow_rows)))
    i_in = _subsample(len(train), n_each, rng)
    i_out = _subsample(len(test), n_each, rng)
    spec = ctx.spec
    cols = [*spec.features, spec.target]
    pooled = pd.concat([train.iloc[i_in][cols], test.iloc[i_out][cols]], ignore_index=True)
    member = np.r_[np.ones(n_each), np.zeros(n_each)]
    target = Outputs(
        loss=np.r_[members.loss[i_in], non_members.loss[i_out]],
        phi=np.r_[members.phi[i_in], non_members.phi[i_out]],
        hard=members.hard,
    )
    y = target_values(pooled, ctx.scm.meta, spec.target, "audit shadow data")
    keep = balanced_assignment(n_shadow, len(pooled), rng)
    seeds = rng.integers(0, 2**31 - 1, n_shadow)
    task = ctx.model.task
    try:
        shadows = _shadow_outputs(prototype, pooled, y, keep, seeds, spec.features, spec.target, task)
    except _ShadowError as exc:
        ctx.notes.append(f"{', '.join(names)}: skipped, {exc}")
        return []
    score = _attack_scores(shadows, keep, target, task)
    values = _roc_stats(member, score)
    intervals = _roc_bootstrap(member, score, rng, ctx.options.n_bootstrap, ctx.options.confidence)
    if task == "regression":
        variance = "per-example" if n_shadow >= PER_EXAMPLE_VARIANCE_SHADOWS else "one global"
        how = f"LiRA (Carlini et al. 2022): Gaussian IN/OUT fits of φ = -squared error, {variance} variance"
    else:
        how = (
            "RMIA (Zarifzadeh et al. 2024, online): log p(true label | target) - log of its mean over all "
            "shadows; ranking by it is ranking by RMIA's pairwise score against any fixed population"
        )
    method = (
        f"{how}; {n_shadow} shadows (sklearn.base.clone), each on half of {n_each} training + {n_each} test "
        "rows; bootstrap over target points (shadows fixed)"
    )
    if members.hard:
        method += "; the model has no probabilities: its labels were used"
    for name, at in FPRS.items():
        # A TPR at FPR `at` rests on the n_each * at non-members that score highest; below ~10 of them it
        # is a coarse reading of the ROC curve's first steps.
        if n_each * at < 10:
            ctx.notes.append(
                f"{name}: {n_each} non-members put only {n_each * at:.3g} false positives at {at:.1%} FPR "
                f"(resolution {1 / n_each:.3%}); the interpolated value is coarse. About {int(10 / at)} test "
                "and training rows give a stable estimate."
            )
    out = [ctx.metric(nm, v, iv, method=method) for nm, v, iv in zip(names, values, intervals, strict=True)]
    if task != "regression":
        power = _power_metric(ctx, pooled, y, keep, seeds, member, n_each, rng, method)
        if power is not None:
            out.append(power)
    return out


def memorising_forest(features: list[str], random_state: int) -> Any:
    """The canary of the attack's power: a random forest that memorises its training rows.

    25 trees with ``min_samples_leaf=1`` (scikit-learn's default, the issue's memorising forest), on the
    features as they are with non-numeric columns ordinal-coded (an unseen category codes as -1).

    Parameters
    ----------
    features : list of str
        The columns it reads, in order.
    random_state : int
        Seeds the forest's bootstrap and feature sampling.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": ["x", "y", "x", "y"], "y": [0, 1, 0, 1]})
    >>> m = memorising_forest(["a", "b"], 0).fit(df[["a", "b"]], df["y"])
    >>> m.predict(df[["a", "b"]]).tolist()
    [0, 1, 0, 1]
    """
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    codes = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            make_column_selector(dtype_exclude="number"),
        ),
        remainder="passthrough",
    )
    forest = RandomForestClassifier(CANARY_TREES, min_samples_leaf=1, random_state=random_state)
    return make_pipeline(codes, forest)


def _power_metric(
    ctx: AuditContext,
    pooled: pd.DataFrame,
    y: Array,
    keep: Array,
    seeds: Array,
    member: Array,
    n_each: int,
    rng: np.random.Generator,
    method: str,
) -> Metric | None:
    # The canary is trained on the same member rows and attacked with the same shadows' row assignment and
    # scorer: the TPR it reaches is what this attack can see at these settings on these data.
    features = list(ctx.spec.features)
    X = pooled[features]
    try:
        y_members = pooled[ctx.spec.target].iloc[:n_each]
        canary = memorising_forest(features, int(seeds[0])).fit(X.iloc[:n_each], y_members)
        target = model_outputs(ModelAdapter(canary, features, "binary"), X, y)
        forest = memorising_forest(features, 0)
        shadows = _shadow_outputs(forest, pooled, y, keep, seeds, features, ctx.spec.target, "binary")
    except (_ShadowError, ValueError, TypeError) as exc:
        ctx.notes.append(f"{POWER_NAME}: skipped, the memorising forest could not be fitted ({exc}).")
        return None
    score = _attack_scores(shadows, keep, target, "binary")
    value = _roc_stats(member, score)[1]
    interval = _roc_bootstrap(member, score, rng, ctx.options.n_bootstrap, ctx.options.confidence)[1]
    how = (
        f"the attack's power: TPR at 1% FPR of the same attack ({method.split(';')[0]}) with the same shadow "
        f"row assignment against a memorising random forest ({CANARY_TREES} trees, min_samples_leaf=1) "
        "trained on the same member rows"
    )
    return ctx.metric(POWER_NAME, value, interval, method=how)


class _ShadowError(Exception):
    """A shadow model failed to fit or predict (the message says which and why)."""


def _shadow_outputs(
    prototype: Any,
    pooled: pd.DataFrame,
    y: Array,
    keep: Array,
    seeds: Array,
    features: list[str],
    target_name: str,
    task: Any,
) -> list[Outputs]:
    from sklearn.base import clone

    X, y_raw = pooled[features], pooled[target_name]
    out = []
    for k in range(len(keep)):
        est = clone(prototype)
        _seed_estimator(est, int(seeds[k]))
        try:
            est.fit(X[keep[k]], y_raw[keep[k]])
            out.append(model_outputs(ModelAdapter(est, features, task), X, y))
        except Exception as exc:  # any estimator's failure: report it rather than abort the whole audit
            raise _ShadowError(
                f"shadow model {k} ({type(est).__name__}) failed to fit or predict on {int(keep[k].sum())} "
                f"rows: {type(exc).__name__}: {exc}"
            ) from exc
    return out


def _attack_scores(shadows: list[Outputs], keep: Array, target: Outputs, task: str) -> Array:
    if task == "regression":
        phi = np.stack([s.phi for s in shadows])
        per_example = len(keep) >= PER_EXAMPLE_VARIANCE_SHADOWS
        return lira_scores(phi, keep, target.phi, per_example_variance=per_example)
    # loss = -log p(true label), clipped (_losses.CLIP), so exp(-loss) is the clipped probability.
    return rmia_scores(np.exp(-np.stack([s.loss for s in shadows])), np.exp(-target.loss))


def rmia_scores(p_shadow: Array, p_target: Array) -> Array:
    """RMIA's likelihood ratio of each point (Zarifzadeh et al. 2024, online, all reference models).

    Parameters
    ----------
    p_shadow : ndarray of shape (n_shadow, n_points)
        Probability each shadow (reference) model gives each point's true label; the shadows are trained
        on balanced random halves, so half of them hold each point.
    p_target : ndarray of shape (n_points,)
        Probability the audited model gives each point's true label.

    Returns
    -------
    ndarray of shape (n_points,)
        log p_target - log mean_k p_shadow[k]: larger means "more likely a member". RMIA's score of x is
        the share of population points z with ratio(x) / ratio(z) >= γ; against a fixed population that is
        increasing in ratio(x), so the ROC curve of this ratio is RMIA's.

    Examples
    --------
    >>> import numpy as np
    >>> p_shadow = np.array([[0.9, 0.9], [0.5, 0.9], [0.9, 0.9], [0.5, 0.9]])
    >>> s = rmia_scores(p_shadow, np.array([0.95, 0.9]))
    >>> bool(s[0] > s[1])
    True
    """
    mean = np.maximum(p_shadow.mean(axis=0), 1e-300)
    out: Array = np.log(p_target) - np.log(mean)
    return out


def _roc_bootstrap(
    member: Array, score: Array, rng: np.random.Generator, n_boot: int, confidence: float
) -> list[tuple[float, float]]:
    # Members and non-members are resampled separately, so every resample keeps both classes.
    pos, neg = np.flatnonzero(member == 1), np.flatnonzero(member == 0)
    if n_boot < 1 or len(pos) < 2 or len(neg) < 2:
        return [(float("nan"), float("nan"))] * 3
    from sklearn.metrics import auc

    # A resample only re-weights the units, so the scores are sorted once (as roc_curve sorts them:
    # descending, ties grouped into one threshold) and each resample's ROC curve is a cumulative sum of
    # its counts per threshold. Thresholds no resampled unit reaches are dropped, as roc_curve drops
    # them, so every curve (and statistic) is the one roc_curve gives on the resample, bit for bit.
    n = len(score)
    order = np.argsort(score, kind="mergesort")[::-1]
    ranked = score[order]
    group = np.cumsum(np.r_[True, ranked[1:] != ranked[:-1]]) - 1
    n_groups = int(group[-1]) + 1
    stats = np.empty((n_boot, 3))
    for b in range(n_boot):
        w_pos = np.bincount(rng.choice(pos, len(pos)), minlength=n)[order]
        w_neg = np.bincount(rng.choice(neg, len(neg)), minlength=n)[order]
        g_pos = np.bincount(group, weights=w_pos, minlength=n_groups)
        g_neg = np.bincount(group, weights=w_neg, minlength=n_groups)
        keep = (g_pos + g_neg) > 0
        tps = np.r_[0.0, np.cumsum(g_pos[keep])]
        fps = np.r_[0.0, np.cumsum(g_neg[keep])]
        fpr, tpr = fps / fps[-1], tps / tps[-1]
        at1, at01 = (tpr_at_fpr(fpr, tpr, a) for a in FPRS.values())
        stats[b] = float(auc(fpr, tpr)), at1, at01
    alpha = (1.0 - confidence) / 2.0
    q = np.quantile(stats, [alpha, 1.0 - alpha], axis=0)
    return [(float(q[0, j]), float(q[1, j])) for j in range(3)]


def _seed_estimator(est: Any, seed: int) -> None:
    # Shadows must be reproducible even when the estimator (or a pipeline step) has random_state=None;
    # each shadow gets its own seed, as independent training runs of the target's procedure would.
    params = est.get_params(deep=True)
    seeded = {k: seed for k in params if k == "random_state" or k.endswith("__random_state")}
    if seeded:
        est.set_params(**seeded)
