"""``decompose_disparity``: split an observed disparity into ctf-DE, ctf-IE and ctf-SE."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.decompose._dr import CLIP, LEARNERS, design, dr_scores
from causaltrust.decompose._estimate import bootstrap_draws, bootstrap_terms, median_over_splits, rng_for
from causaltrust.decompose._plugin import outcome_mean, plugin_scores
from causaltrust.decompose._refit import refit_intervals
from causaltrust.decompose._result import TERMS, DisparityDecomposition, Estimate, LevelDecomposition
from causaltrust.decompose._saturated import plugin_mechanisms, refit_modes
from causaltrust.decompose._structure import contrasts, structure
from causaltrust.exceptions import DataError
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["decompose_disparity"]

METHODS = ("dr", "plugin")


def decompose_disparity(
    spec_or_scm: SCM | TrustSpec | Mapping[str, Any] | str | os.PathLike[str],
    *,
    data: pd.DataFrame,
    outcome: str,
    value: Any = None,
    method: str = "dr",
    folds: int = 5,
    random_state: int | None = 0,
    outcome_parents: Sequence[str] | None = None,
    learner: str = "boosting",
    n_boot: int = 200,
    repeats: int = 1,
) -> DisparityDecomposition:
    """Decompose the observed disparity of ``outcome`` by the protected attribute (Plečko–Bareinboim).

    ``TV = E[Y | x1] - E[Y | x0] = ctf-DE - ctf-IE - ctf-SE`` with x0 = ``fairness.baseline`` and x1 =
    ``value``, all terms x-specific (conditioned on the observed protected value):
    ``ctf-DE = E[Y_{x1, W_{x0}} | x0] - E[Y | x0]`` (direct), ``ctf-IE = E[Y_{x1, W_{x0}} | x0] - E[Y_{x1} |
    x0]`` (indirect, through the mediators W), ``ctf-SE = E[Y_{x1} | x0] - E[Y | x1]`` (spurious, through
    the confounders Z). W and Z are read off the spec's graph: the outcome's observed covariates that are
    descendants of the protected attribute, and those that are not.

    Parameters
    ----------
    spec_or_scm : TrustSpec, dict, path or SCM
        The causal graph (and, for ``method="plugin"``, the SCM to use; a spec is fitted with
        :meth:`SCM.fit` on ``data``).
    data : DataFrame
        Observed rows: the protected attribute, the outcome and the outcome's covariates.
    outcome : str
        The column to decompose: a spec variable, or a column outside the spec (a decision, a score, a
        thresholded score you add yourself: ``df["high_risk"] = (df["decile_score"] > 4).astype(int)``).
        An outside outcome is a child of every observed variable but the spec's target, unless
        ``outcome_parents`` says otherwise. Binary (0/1) outcomes are decomposed on P(Y = 1).
    value : object, optional
        x1. Default: every level of the protected attribute other than the baseline, one decomposition
        each (rows at other levels are left out of each contrast).
    method : {"dr", "plugin"}, default "dr"
        ``"dr"``: cross-fitted doubly robust estimator (nuisance regressions and propensities fitted on
        ``folds - 1`` folds, evaluated on the held-out fold), intervals from a bootstrap of the per-unit
        scores. ``"plugin"``: each x0 unit's counterfactuals under the given or fitted SCM. A fitted SCM
        is saturated (cell frequencies) at every node whose parents are all discrete, and elsewhere
        chooses between a linear model and gradient boosting (interactions) by cross-validation; its
        intervals refit the SCM in every bootstrap resample. A given SCM's intervals hold it fixed
        (conditional on it).
    folds : int, default 5
        Cross-fitting folds (``"dr"``).
    random_state : int, optional
        Seeds the folds, the learners, the abduction draws and the bootstrap.
    outcome_parents : list of str, optional
        Parents of an outcome outside the spec.
    learner : {"boosting", "linear"}, default "boosting"
        Nuisance models for ``"dr"``: histogram gradient boosting with early stopping, or logistic /
        linear regression.
    n_boot : int, default 200
        Bootstrap resamples per interval.
    repeats : int, default 1
        ``"dr"``: cross-fit this many times with different fold splits and learner seeds. With more than
        one, each term is the median over the repeats and its interval ``median +- 1.96 sd`` with the
        variance ``median_s(se_s**2 + (theta_s - median)**2)`` (Chernozhukov et al. 2018), which includes
        the variation due to the split; with one, intervals are bootstrap percentiles.

    Terms the graph fixes are reported as exactly 0 with the reason (``LevelDecomposition.exact``): when
    the outcome does not read the protected attribute and reads only observed covariates (a model's
    prediction with ``outcome_parents`` its inputs), ``Y_{x1, W_{x0}} = Y`` for every unit, so ctf-DE is
    0; when it also reads no descendant of the protected attribute, ctf-IE is 0 as well. With ``"dr"``,
    the share of clipped propensities is reported (``clipped``) and, when any are clipped, the terms are
    also estimated on the units with propensities in [0.1, 0.9] (``trimmed``).

    Returns
    -------
    DisparityDecomposition

    Raises
    ------
    DataError
        Unknown outcome, outcome equal to the protected attribute, a ``value`` with no rows, missing
        columns or values, a non-numeric outcome.
    SpecError
        A spec without a fairness section; ``outcome_parents`` that are not observed variables.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(4_000, random_state=0).drop(columns="L")
    >>> dec = ct.decompose_disparity(scm, data=df, outcome="Y", method="plugin")
    >>> observed = df.Y[df.A == 1].mean() - df.Y[df.A == 0].mean()
    >>> bool(abs(dec.tv.value - observed) < 1e-12)
    True
    """
    if method not in METHODS:
        raise DataError(f"method must be one of {METHODS}, got {method!r}")
    if learner not in LEARNERS:
        raise DataError(f"learner must be one of {LEARNERS}, got {learner!r}")
    if not isinstance(folds, int | np.integer) or folds < 2:
        raise DataError(f"folds must be an integer of at least 2, got {folds!r}")
    if not isinstance(n_boot, int | np.integer) or n_boot < 10:
        raise DataError(f"n_boot must be an integer of at least 10, got {n_boot!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int | np.integer) or repeats < 1:
        raise DataError(f"repeats must be a positive integer, got {repeats!r}")
    if isinstance(spec_or_scm, SCM):
        scm: SCM | None = spec_or_scm
        spec = spec_or_scm.spec
    else:
        scm = None
        spec = load_spec(spec_or_scm)
    st = structure(spec, data, outcome, outcome_parents)
    x0, at_x0, levels = contrasts(st, data, value)
    notes = list(st.notes)
    refit: dict[str, Any] | None = None
    if method == "plugin":
        if scm is None:
            scm = SCM.fit(spec, data, mechanisms=plugin_mechanisms(spec), random_state=random_state)
            refit = refit_modes(spec, scm)
            saturated = sorted(plugin_mechanisms(spec))
            notes.append(
                "plug-in SCM fitted to these rows with ct.SCM.fit"
                + (
                    f" (saturated: cell frequencies for {saturated}, whose parents are all discrete)"
                    if saturated
                    else ""
                )
                + "; the intervals refit it in every bootstrap resample"
            )
        else:
            notes.append("plug-in uses the given SCM; the intervals are conditional on it")
        g, how = outcome_mean(st, scm, data, random_state)
        if how:
            notes.append(how)
        if not scm.parents.get(st.protected):
            notes.append(
                f"{st.protected!r} is a root of the graph, so the SCM implies ctf-SE = 0 up to sampling "
                "noise; the doubly robust estimate checks that assumption against the data"
            )
        interval = (
            "bootstrap of units with the SCM held fixed (conditional on the SCM)"
            if refit is None
            else "bootstrap of units, the SCM refitted in every resample"
        )
    elif repeats > 1:
        interval = (
            f"median over {repeats} repeated {folds}-fold cross-fittings +- 1.96 sd, the variance including "
            "the split (Chernozhukov et al. 2018); each split's sd from a bootstrap of its per-unit scores"
        )
    else:
        interval = f"bootstrap of the {folds}-fold cross-fitted doubly robust per-unit scores"
    if method == "dr":
        notes.append(
            "doubly robust identification assumes the graph's clusters: no unobserved confounding of the "
            "protected attribute, the mediators W and the outcome given the confounders Z; it uses no "
            "equation of the spec"
        )
    exact = _exact_zeros(st) if method == "dr" else {}
    for term, why in exact.items():
        notes.append(f"ctf-{term.upper()} is exactly 0 by the graph: {why}")
    out = []
    for i, (lv, at_x1) in enumerate(levels):
        rows = at_x0 | at_x1
        sub = data.loc[rows]
        x1 = at_x1[rows]
        y = sub[outcome].to_numpy(dtype=np.float64)
        seed = int(rng_for(random_state, f"decompose:{i}").integers(0, 2**31 - 1))
        boot_rng = rng_for(random_state, f"decompose-bootstrap:{i}")
        if method == "dr":
            lvl = _dr_level(
                st, sub, y, x1, learner, int(folds), seed, int(n_boot), int(repeats), exact, boot_rng
            )
            notes.extend(f"{st.protected} = {lv!r}: {e}" for e in lvl.pop("notes"))
            tv, de, ie, se = lvl.pop("terms")
            s_de, s_se = lvl.pop("s_de"), lvl.pop("s_se")
        else:
            assert scm is not None
            s_de, s_se = plugin_scores(st, scm, g, sub, x1, x0, lv, seed)
            tv, de, ie, se = bootstrap_terms(s_de, s_se, y, x1, n_boot=int(n_boot), rng=boot_rng)
            lvl = {}
        scores = pd.DataFrame({"x1": x1, "y": y, "s_de": s_de, "s_se": s_se}, index=sub.index)
        out.append(
            LevelDecomposition(_label(st, lv), int((~x1).sum()), int(x1.sum()), tv, de, ie, se, scores, **lvl)
        )
    if refit is not None:
        points = [np.array([lv.tv.value, lv.de.value, lv.ie.value, lv.se.value]) for lv in out]
        redone = refit_intervals(
            st, data, refit, at_x0, levels, x0, points, n_boot=int(n_boot),
            rng=rng_for(random_state, "decompose-refit"),
            fit_columns=[v for v in spec.observed if v in data.columns],
        )  # fmt: skip
        out = [
            dataclasses.replace(lv, tv=tv, de=de, ie=ie, se=se)
            for lv, (tv, de, ie, se) in zip(out, redone, strict=True)
        ]
    return DisparityDecomposition(
        outcome, st.protected, st.baseline, method, tuple(out), st.confounders, st.mediators, interval,
        tuple(notes),
    )  # fmt: skip


def _label(st: Any, level: Any) -> Any:
    """The level as the spec writes it (binary levels as ints), for display and indexing."""
    if st.spec.variables[st.protected].type == "binary":
        try:
            return int(float(level))
        except (TypeError, ValueError):
            return level
    return level.item() if isinstance(level, np.generic) else level


# Propensities outside this band mark poor overlap; the trimmed estimate keeps the units inside it (the
# rule of thumb of Crump, Hotz, Imbens & Mitnik 2009).
TRIM = 0.1


def _exact_zeros(st: Any) -> dict[str, str]:
    """Terms the graph fixes at 0 for this outcome, with the reason (empty when none)."""
    a, pas = st.protected, (st.outcome_parents if st.outside else st.spec.graph_parents[st.outcome])
    covariates = set(st.confounders) | set(st.mediators)
    if a in pas or not set(pas) <= covariates:
        return {}  # reads the protected attribute, or a latent / unobserved input: nothing is fixed
    read = ", ".join(pas) or "nothing"
    why = f"{st.outcome!r} does not read {a!r} (it reads {read}), so Y_{{x1, W_{{x0}}}} = Y for every unit"
    out = {"de": why}
    if not set(pas) & set(st.mediators):
        out["ie"] = f"{st.outcome!r} reads no descendant of {a!r} either, so Y_{{x1}} = Y for every x0 unit"
    return out


def _dr_level(
    st: Any, sub: pd.DataFrame, y: np.ndarray, x1: np.ndarray, learner: str, folds: int, seed: int,
    n_boot: int, repeats: int, exact: Mapping[str, str], boot_rng: np.random.Generator,
) -> dict[str, Any]:  # fmt: skip
    """The ``"dr"`` decomposition of one contrast: scores over ``repeats`` cross-fittings, combined."""
    Z = design(st, sub, st.confounders)
    W = design(st, sub, st.mediators)
    own = np.where(x1, 0.0, y)  # sums to n0 * E[Y | x0]: the score of a counterfactual equal to Y
    points, ses, notes = [], [], []
    s_de_all, s_se_all, e_all = np.zeros(len(y)), np.zeros(len(y)), np.zeros((len(y), 2))
    for r in range(repeats):
        s_de, s_se, extra, e = dr_scores(
            Z, W, y, x1, binary=st.binary_outcome, learner=learner, folds=folds, seed=seed + 104_729 * r
        )
        if "de" in exact:
            s_de = own.copy()
        if "ie" in exact:
            s_se = s_de.copy()
        if r == 0:
            notes.extend(extra)
        point, draws = bootstrap_draws(s_de, s_se, y, x1, n_boot=n_boot, rng=boot_rng)
        for term in exact:  # 0 up to summation order (1e-16) by construction: report it as the exact 0
            point[TERMS.index(term)] = 0.0
            draws[:, TERMS.index(term)] = 0.0
        points.append(point)
        ses.append(draws.std(axis=0, ddof=1))
        s_de_all += s_de / repeats
        s_se_all += s_se / repeats
        e_all += e / repeats
        if r == 0 and repeats == 1:
            lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
            terms_ = tuple(Estimate(float(point[k]), float(lo[k]), float(hi[k])) for k in range(4))
    if repeats > 1:
        terms_ = median_over_splits(np.array(points), np.array(ses))
    clipped = ((e_all < CLIP) | (e_all > 1 - CLIP)).any(axis=1)
    out: dict[str, Any] = {
        "terms": terms_, "s_de": s_de_all, "s_se": s_se_all, "notes": notes, "exact": dict(exact),
        "clipped": float(clipped.mean()),
    }  # fmt: skip
    if clipped.any():
        # Poor overlap somewhere: the same scores on the units whose propensities are inside [TRIM, 1-TRIM].
        keep: np.ndarray = np.asarray(((e_all >= TRIM) & (e_all <= 1 - TRIM)).all(axis=1))
        if keep[x1].sum() >= 2 and keep[~x1].sum() >= 2:
            out["trimmed"] = bootstrap_terms(
                s_de_all[keep], s_se_all[keep], y[keep], x1[keep], n_boot=n_boot, rng=boot_rng
            )
            out["n_trimmed"] = int(keep.sum())
            t = out["trimmed"]
            notes.append(
                f"{100 * out['clipped']:.1f}% of propensities clipped; on the {int(keep.sum())} of {len(y)} "
                f"units with propensities in [{TRIM}, {1 - TRIM}]: DE {t[1].value:+.4f}, "
                f"IE {t[2].value:+.4f}, SE {t[3].value:+.4f} (vs {terms_[1].value:+.4f}, "
                f"{terms_[2].value:+.4f}, {terms_[3].value:+.4f} on all units)"
            )
    return out
