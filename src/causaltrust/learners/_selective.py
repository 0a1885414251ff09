"""Selective invariance: enforce every trust objective of a spec at once, path by path.

The estimator maps each unit into the world the spec asks for, then trains a standard estimator there:

* **fairness**: the protected attribute is held at ``fairness.baseline`` along the unfair paths only (its
  direct input, and proxies such as insurance type, are replaced by their path counterfactuals); the
  legitimate A→L→... variation is kept;
* **robustness**: the environment is held at a reference level along the spurious paths only (the
  hospital's device artifact is removed from the measured lab) while the environment itself stays an input,
  so the contextual mechanism (hospital policy) is still learned;
* **labels**: training labels are the fair-world labels, path counterfactuals of the target with the unfair
  paths blocked (noise abducted, as FairAdapt adapts the outcome). For a binary target the exact
  posterior probability of the fair-world label is used as a soft label (duplicated rows with weights).

The same mapping applies at prediction time from the fitted SCM, so a user hands in ordinary feature rows.
:meth:`SelectiveInvarianceClassifier.adapt` re-estimates only the spurious mechanisms from unlabeled data of
a new environment (sparse mechanism shift) and returns a new estimator.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils.validation import check_is_fitted

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.graph import PREDICTION, CausalGraph
from causaltrust.learners._base import (
    Design,
    RowStream,
    check_binary_target,
    check_frame,
    columns_with_unseen,
    resolve_spec,
    row_keys,
)
from causaltrust.learners._bounded import (
    augment_spurious,
    check_shift_strength,
    shift_scales,
    spurious_inputs,
)
from causaltrust.scm import SCM, MultiPathWorld, Noise, fair_world_labels
from causaltrust.scm._data import value_to_internal

__all__ = ["SelectiveInvarianceClassifier", "SelectiveInvarianceRegressor"]

Array = np.ndarray
Path = tuple[str, ...]


class _SelectiveBase(BaseEstimator):
    """Shared fit/transform logic of the selective-invariance classifier and regressor."""

    _task = "binary"

    def __init__(
        self,
        spec: Any = None,
        estimator: Any = None,
        scm: SCM | None = None,
        *,
        fairness: bool | None = None,
        robustness: bool | str | None = None,
        shift_strength: float = 1.0,
        shift_center: str = "training",
        fair_labels: bool = True,
        environment_reference: Any = None,
        n_draws: int = 4,
        sensitive_noise: float = 0.0,
        scm_mechanisms: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.estimator = estimator
        self.scm = scm
        self.fairness = fairness
        self.robustness = robustness
        self.shift_strength = shift_strength
        self.shift_center = shift_center
        self.fair_labels = fair_labels
        self.environment_reference = environment_reference
        self.n_draws = n_draws
        self.sensitive_noise = sensitive_noise
        self.scm_mechanisms = scm_mechanisms
        self.random_state = random_state

    # -- fitting --------------------------------------------------------------------------------------
    def _default_estimator(self) -> Any:
        return LogisticRegression(max_iter=1000) if self._task == "binary" else LinearRegression()

    def fit(self, X: pd.DataFrame, y: Any, *, scm_data: pd.DataFrame | None = None) -> _SelectiveBase:
        """Learn the mapping's SCM (unless given), map the units, fit the estimator on the mapped world.

        Parameters
        ----------
        X : DataFrame
            The spec's features (per-row protected attribute and environment are read from its columns).
        y : array-like
            The observed target.
        scm_data : DataFrame, optional
            Separate rows (every observed variable) to fit the SCM on, e.g. so that a DP estimator's ε also
            covers everything fitted on the training rows.
        """
        spec = resolve_spec(self.spec, type(self).__name__)
        name = type(self).__name__
        X = check_frame(X, spec.features, name, spec=spec)
        y_arr = np.asarray(y)
        if y_arr.ndim != 1 or len(y_arr) != len(X):
            raise DataError(
                f"{name}.fit: y must be 1-D with one value per row of X ({len(X)}), got {y_arr.shape}"
            )
        if not isinstance(self.n_draws, int) or self.n_draws < 1:
            raise ValueError(f"n_draws must be a positive integer, got {self.n_draws!r}")
        if self._task == "binary":
            check_binary_target(y_arr, len(X), name)
        if self.fairness and spec.fairness is None:
            raise SpecError(
                f"{name}(fairness=True) needs a 'fairness' section in the spec (or fairness=None)"
            )
        if self.robustness not in (None, True, False, "map", "drop", "bounded"):
            raise ValueError(
                f"{name}: robustness must be 'map', 'bounded', 'drop', False or None (True means 'map'), got "
                f"{self.robustness!r}"
            )
        gamma = check_shift_strength(self.shift_strength, name)
        if self.shift_center not in ("training", "reference"):
            raise ValueError(
                f"{name}: shift_center must be 'training' (offsets move around their training values) or "
                "'reference' (a new device re-drawn around the reference level's offsets), got "
                f"{self.shift_center!r}"
            )
        if self.robustness and spec.robustness is None:
            raise SpecError(f"{name}(robustness={self.robustness!r}) needs a 'robustness' section (or None)")
        seed = 0 if self.random_state is None else int(self.random_state)
        if self.scm is not None:
            if not isinstance(self.scm, SCM):
                raise DataError(f"scm must be a causaltrust SCM, got {type(self.scm).__name__}")
            scm = self.scm
            self.scm_source_ = "given"
        else:
            frame = scm_data if scm_data is not None else X.assign(**{spec.target: y_arr})
            missing = [v for v in spec.observed if v not in frame.columns]
            if missing:
                raise DataError(
                    f"{name}: fitting the SCM needs every observed variable; missing {missing}. "
                    "Pass scm=..., "
                    "or scm_data= with those columns"
                )
            scm = SCM.fit(spec, frame, random_state=seed, mechanisms=self.scm_mechanisms)
            self.scm_source_ = "scm_data" if scm_data is not None else "training rows"
        self.spec_ = spec
        self.scm_ = scm
        self.graph_ = CausalGraph.from_spec(spec).with_prediction(spec.features)
        self._plan()
        cols = self._columns(X, name)
        self.design_ = Design(scm.meta, self.inputs_).fit(cols)
        self.estimator_ = clone(self.estimator) if self.estimator is not None else self._default_estimator()
        # A differentially private estimator accounts per training row: each person must be exactly one row
        # (one abduction draw, one sampled label), or its ε would protect a row, not a person.
        self._train_draws = 1 if _is_private(self.estimator_) else self.n_draws
        mapped, keys = self._mapped(X, cols, seed, draws=self._train_draws)
        target = self._training_target(X, y_arr, cols, seed)
        self._copies = 1
        if self.robustness_mode_ == "bounded":
            mapped, target = self._bounded(cols, mapped, target, gamma, seed)
        if self._task == "binary" and not hasattr(self.estimator_, "predict_proba"):
            raise DataError(
                f"{name}: the estimator {type(self.estimator_).__name__} has no predict_proba; the selective "
                "classifier trains on soft fair-world labels and predicts probabilities. Use a probabilistic "
                "classifier (e.g. LogisticRegression, or CalibratedClassifierCV around this one)"
            )
        Z = self.design_.transform(mapped)
        if self.sensitive_noise:
            Z = self._obfuscate(Z, seed)
        self._fit_estimator(Z, target)
        self.n_features_in_ = len(spec.features)
        self.feature_names_in_ = np.asarray(spec.features, dtype=object)
        del keys
        return self

    def _plan(self) -> None:
        """Which source is switched along which paths into Ŷ (decided once per fit)."""
        spec, g = self.spec_, self.graph_
        self.switches_: dict[str, Any] = {}
        self.active_: list[list[Path]] = []
        if self.fairness is not False and spec.fairness is not None:
            a = spec.fairness.protected
            unfair = [p for p in g.paths(a) if g.path_role(p) == "unfair"]
            self.switches_[a] = spec.fairness.baseline
            self.active_.append(unfair)
        mode = self.robustness_mode_
        dropped = set(spec.features) & {e[1] for e in spec.spurious_paths()} if mode == "drop" else set()
        # "drop": the inputs whose mechanisms the spec declares spurious are not inputs at all.
        self.inputs_ = [f for f in spec.features if f not in dropped]
        if mode in ("map", "bounded"):
            assert spec.robustness is not None
            e = spec.robustness.environment
            meta = self.scm_.meta[e]
            ref = self.environment_reference
            if ref is None:
                ref = meta.categories[0] if meta.vtype == "categorical" else 0
            spurious = [p for p in g.paths(e) if g.path_role(p) == "spurious"]
            self.switches_[e] = ref
            self.active_.append(spurious)
        self.needed_ = _dag.ancestral_closure(self.scm_.parents, spec.features)

    @property
    def robustness_mode_(self) -> str | None:
        """``"map"``, ``"bounded"``, ``"drop"`` or None (off, or no robustness section in the spec)."""
        spec = self.spec_
        if self.robustness is False or spec.robustness is None:
            return None
        return self.robustness if self.robustness in ("drop", "bounded") else "map"

    @property
    def supports_adapt_(self) -> bool:
        """Whether :meth:`adapt` can use unlabeled rows: robustness ``"map"`` or ``"bounded"`` with spurious
        paths."""
        check_is_fitted(self, "estimator_")
        return self.robustness_mode_ in ("map", "bounded") and bool(self.spec_.spurious_paths())

    @property
    def target_world_(self) -> str:
        """``"fair"`` when trained on fair-world labels (judge calibration there), else ``"observed"``."""
        check_is_fitted(self, "estimator_")
        fair = self.fair_labels and self.fairness is not False and self.spec_.fairness is not None
        return "fair" if fair and self.spec_.unfair_paths() else "observed"

    def _columns(self, X: pd.DataFrame, owner: str) -> dict[str, Array]:
        return columns_with_unseen(X, self.scm_.meta, self.spec_.features, owner)

    def _mapped(
        self, X: pd.DataFrame, cols: dict[str, Array], seed: int, *, draws: int
    ) -> tuple[dict[str, Array], Array]:
        """Features of each unit (``draws`` copies) in the selectively invariant world."""
        scm = self.scm_
        n = len(X)
        keys = row_keys(X, self.inputs_, seed)  # a dropped input seeds nothing
        if draws > 1:
            cols = {k: np.repeat(v, draws) for k, v in cols.items()}
            keys = _draw_keys(keys, draws)
        if not self.switches_:
            return cols, keys
        full = scm.recover_latents(cols, self.needed_)
        desc = set().union(*(_dag.descendants(scm.parents, [s]) for s in self.switches_)) & self.needed_
        stream = cast(np.random.Generator, RowStream(keys))
        noises = scm.abduct(full, desc, random_state=stream, n_draws=draws).noise
        switches = {
            s: (value_to_internal(v, scm.meta[s], n * draws, f"reference of {s}"), None)
            for s, v in self.switches_.items()
        }
        parents = {**scm.parents, PREDICTION: tuple(self.spec_.features)}
        # After adapt(), units are recovered with the re-estimated artifact but mapped to the reference
        # level as *training* measured it: the world the estimator was trained in.
        overrides = getattr(self, "world_mechanisms_", {})
        mechanisms = {**scm.mechanisms, **overrides}
        for v in overrides:
            # No factual anchor: a unit already at the reference level was measured by the *new* artifact,
            # so its observed value is not what training measured there.
            if v in noises:
                noises[v] = Noise(noises[v].eps)
        world = MultiPathWorld(parents, mechanisms, noises, full, switches, n * draws)
        mapped = world.into(PREDICTION, self.active_)
        return {f: mapped[f] for f in self.spec_.features}, keys

    def _bounded(
        self, cols: dict[str, Array], mapped: dict[str, Array], target: Array, gamma: float, seed: int
    ) -> tuple[dict[str, Array], Array]:
        """Bounded robustness: the mapped units, copied with the spurious offsets moved (``_bounded``)."""
        name = type(self).__name__
        nodes = spurious_inputs(self.spec_, self.scm_.parents, name)
        full = self.scm_.recover_latents(cols, self.needed_)
        self.shift_scales_ = shift_scales(self.scm_, self.spec_, full, nodes)
        draws = self._train_draws
        if self.shift_center == "reference" and nodes:
            # Centre the moves on the reference level's offsets: a unit of environment e measured by such a
            # device and then mapped reads 2·x̃ - x (for additive offsets), x its factual value.
            mapped = {**mapped, **{v: 2.0 * mapped[v] - np.repeat(cols[v], draws) for v in nodes}}
        elif gamma == 0.0 or not nodes:
            return mapped, target  # nothing moves: exactly robustness="map"
        # A DP estimator accounts per row: one shifted copy per person; else an antithetic pair.
        self._copies = 1 if _is_private(self.estimator_) or gamma == 0.0 else 2
        units = len(target) // draws
        return augment_spurious(
            mapped,
            target,
            self.shift_scales_,
            gamma,
            units=units,
            draws=draws,
            copies=self._copies,
            seed=seed,
        )

    def _training_target(self, X: pd.DataFrame, y: Array, cols: dict[str, Array], seed: int) -> Array:
        """Per unit and draw: the fair-world label (soft probability for a binary target)."""
        spec, scm = self.spec_, self.scm_
        draws = self._train_draws
        y_rep = np.repeat(y.astype(np.float64), draws)
        if not (self.fair_labels and self.fairness is not False and spec.fairness is not None):
            return y_rep
        full = {k: np.repeat(v, draws) for k, v in cols.items()}
        full[spec.target] = y_rep
        keys = _draw_keys(row_keys(X, self.inputs_, seed ^ 0x5EED), draws)
        stream = cast(np.random.Generator, RowStream(keys))
        return fair_world_labels(scm, full, n_draws=draws, random_state=stream, expected=True)

    def sensitive_columns(self) -> list[str]:
        """Features that still carry the ``privacy.sensitive`` variables' effect after the mapping.

        A feature carries it when some path from a sensitive variable through it into Ŷ is left open by the
        mapping (paths the mapping blocks, such as unfair ones, carry nothing).
        """
        check_is_fitted(self, "estimator_")
        spec = self.spec_
        sensitive = list(spec.privacy.sensitive) if spec.privacy is not None else []
        blocked: set[Path] = set()
        for source, active in zip(self.switches_, self.active_, strict=True):
            blocked |= {p for p in active if p[0] == source}
        out: dict[str, None] = {}
        for s in sensitive:
            for p in self.graph_.paths(s):
                if p not in blocked:
                    out[p[-2]] = None
        return [f for f in spec.features if f in out]

    def _obfuscate(self, Z: Array, seed: int) -> Array:
        """Targeted privacy: Gaussian noise only on the columns carrying sensitive information.

        The uniform baseline adds noise to every input; here the columns that carry no sensitive effect
        keep their signal, which is the point of doing it path by path.
        """
        if self.sensitive_noise < 0:
            raise ValueError(f"sensitive_noise must be >= 0, got {self.sensitive_noise}")
        cols = set(self.sensitive_columns())
        mask = np.array([name.split("=", 1)[0] in cols for name in self.design_.names])
        if not mask.any():
            return Z
        rng = np.random.default_rng([seed, 0x0BF5])
        sd = Z[:, mask].std(axis=0)
        out = Z.copy()
        out[:, mask] += rng.standard_normal((len(Z), int(mask.sum()))) * (self.sensitive_noise * sd)
        return out

    def _fit_estimator(self, Z: Array, target: Array) -> None:
        # Each person weighs 1 in total, over its draws and (bounded robustness) its shifted copies.
        weights = np.full(len(target), 1.0 / (self._train_draws * getattr(self, "_copies", 1)))
        takes_weight = "sample_weight" in inspect.signature(self.estimator_.fit).parameters
        if _is_private(self.estimator_):
            takes_weight = False  # one row per person, hard labels: the accountant's unit is a person
        if takes_weight:
            Z, target, weights = _collapse_draws(Z, target, weights, self._train_draws)
        if self._task == "binary":
            soft = (target > 0) & (target < 1)
            if takes_weight and soft.any():
                Zs = np.vstack([Z, Z])
                ys = np.concatenate([np.ones(len(target)), np.zeros(len(target))])
                ws = np.concatenate([target * weights, (1.0 - target) * weights])
                keep = ws > 0
                self.estimator_.fit(Zs[keep], ys[keep], sample_weight=ws[keep])
            else:
                rng = np.random.default_rng(0 if self.random_state is None else self.random_state)
                hard = (rng.random(len(target)) < target).astype(np.float64)
                # Shifted copies (bounded robustness) share their person's weight of 1.
                copies = getattr(self, "_copies", 1) > 1 and takes_weight
                self.estimator_.fit(Z, hard, **({"sample_weight": weights} if copies else {}))
            self.classes_ = np.array([0, 1])
        elif takes_weight:
            self.estimator_.fit(Z, target, sample_weight=weights)
        else:
            self.estimator_.fit(Z, target)

    # -- prediction -----------------------------------------------------------------------------------
    def selective_features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The features of ``X`` as the estimator sees them: mapped into the selectively invariant world.

        One abduction draw per unit (predictions average ``n_draws``). Useful to inspect what the mapping
        does: e.g. the measured lab with the device artifact removed, the proxy at its fair-world value.
        """
        check_is_fitted(self, "estimator_")
        name = type(self).__name__
        X = check_frame(X, self.spec_.features, name, spec=self.spec_, fit=False)
        cols = self._columns(X, name)
        unseen = {f: v for f, v in cols.items() if self.scm_.meta[f].vtype == "categorical" and (v < 0).any()}
        if unseen:
            raise DataError(
                f"{name}.selective_features: unseen categories in {sorted(unseen)}; adapt() first"
            )
        mapped, _ = self._mapped(X, cols, self._seed, draws=1)
        from causaltrust.scm._data import columns_to_frame

        return columns_to_frame(mapped, self.scm_.meta, self.spec_.features, X.index)

    @property
    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    def _predict_scores(self, X: pd.DataFrame) -> Array:
        check_is_fitted(self, "estimator_")
        name = type(self).__name__
        X = check_frame(X, self.spec_.features, name, spec=self.spec_, fit=False)
        cols = self._columns(X, name)
        return self._scores_with_pooling(X, cols)

    def _scores_with_pooling(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        """Scores; rows with an unseen category average over the known ones (weighted by training
        frequency): the pooled effect, never a crash."""
        meta = self.scm_.meta
        for f in self.spec_.features:
            m = meta[f]
            if m.vtype == "categorical" and (cols[f] < 0).any():
                bad = cols[f] < 0
                out = np.empty(len(X))
                if (~bad).any():
                    out[~bad] = self._scores_with_pooling(X[~bad], {k: v[~bad] for k, v in cols.items()})
                acc = np.zeros(int(bad.sum()))
                Xb = X[bad]
                if f not in self.design_.freq:  # a dropped input: its value is never read
                    sub_cols = {k: np.where(v < 0, 0, v) if k == f else v for k, v in cols.items()}
                    return self._scores_with_pooling(X, sub_cols)
                for code, w in enumerate(self.design_.freq[f]):
                    if w == 0:
                        continue
                    sub = {k: v[bad] for k, v in cols.items()}
                    sub[f] = np.full(int(bad.sum()), code, dtype=np.int64)
                    Xc = Xb.assign(**{f: m.categories[code]})
                    acc += w * self._scores_with_pooling(Xc, sub)
                out[bad] = acc
                return out
        mapped, _ = self._mapped(X, cols, self._seed, draws=self.n_draws)
        Z = self.design_.transform(mapped)
        if self._task == "binary":
            s = self.estimator_.predict_proba(Z)[:, list(self.estimator_.classes_).index(1)]
        else:
            s = self.estimator_.predict(Z)
        return np.asarray(s, dtype=np.float64).reshape(len(X), self.n_draws).mean(axis=1)

    # -- adaptation -----------------------------------------------------------------------------------
    def adapt(self, X_unlabeled: pd.DataFrame) -> _SelectiveBase:
        """A new fitted estimator whose spurious mechanisms are re-estimated from unlabeled data.

        Only the mechanisms that carry spurious environment paths change (sparse mechanism shift); the
        trained estimator, the fairness mapping and every other mechanism stay as they are. Categories of
        the environment that are new in ``X_unlabeled`` are added. The original estimator is untouched.
        """
        check_is_fitted(self, "estimator_")
        from causaltrust.learners._adapt import adapt_spurious

        if not self.supports_adapt_:
            raise DataError(
                f"{type(self).__name__}.adapt: robustness={self.robustness!r} does not map the spurious "
                "mechanisms, so unlabeled rows have nothing to re-estimate (supports_adapt_ is False); "
                "use robustness='map'"
            )
        X = check_frame(
            X_unlabeled, self.spec_.features, f"{type(self).__name__}.adapt", spec=self.spec_, fit=False
        )
        new = copy.deepcopy(self)
        new.scm_ = adapt_spurious(self.scm_, self.spec_, X)
        nodes = {e[1] for e in self.spec_.spurious_paths()}
        kept = getattr(self, "world_mechanisms_", {})
        new.world_mechanisms_ = {v: kept.get(v, self.scm_.mechanisms[v]) for v in nodes}
        new._plan()
        return new

    @property
    def privacy_epsilon_(self) -> float:
        """The final estimator's accountant ε (inf when it is not trained with differential privacy)."""
        check_is_fitted(self, "estimator_")
        eps = getattr(self.estimator_, "privacy_epsilon_", None)
        return float("inf") if eps is None else float(eps)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def _collapse_draws(Z: Array, target: Array, weights: Array, draws: int) -> tuple[Array, Array, Array]:
    """Identical mapped rows of the same unit become one row (weighted mean target, summed weight).

    Draws only differ where a discrete mediator on a switched path differs (a binary proxy takes 2 values),
    so most of a unit's ``draws`` rows repeat. Same weighted loss, a fraction of the rows.
    """
    if draws == 1:
        return Z, target, weights
    n = len(Z) // draws
    Zr = Z.reshape(n, draws, -1)
    # Rows compare through one random projection: distinct real rows collide with probability ~0, and the
    # grouped rows below are verified exactly.
    pr = (Z @ np.random.default_rng(0).standard_normal(Z.shape[1])).reshape(n, draws)
    same = (pr == pr[:, :1]).all(axis=1)
    tr, wr = target.reshape(n, draws), weights.reshape(n, draws)
    w_same = wr[same].sum(axis=1)
    out_z = [Zr[same, 0, :]]
    out_t = [(wr[same] * tr[same]).sum(axis=1) / w_same]
    out_w = [w_same]
    if (~same).any():
        # Units whose draws differ: group their rows by value (sort on a random projection, verified).
        zv, tv, wv = Zr[~same].reshape(-1, Z.shape[1]), tr[~same].reshape(-1), wr[~same].reshape(-1)
        unit = np.repeat(np.arange(int((~same).sum())), draws)
        proj = zv @ np.random.default_rng(0).standard_normal(Z.shape[1])
        order = np.lexsort((proj, unit))
        zs, us, ps = zv[order], unit[order], proj[order]
        new = np.empty(len(zs), dtype=bool)
        new[0] = True
        new[1:] = (us[1:] != us[:-1]) | (ps[1:] != ps[:-1])
        starts = np.flatnonzero(new)
        if np.array_equal(zs, zs[starts][np.cumsum(new) - 1]):
            ws = wv[order]
            w_sum = np.add.reduceat(ws, starts)
            out_z.append(zs[starts])
            out_t.append(np.add.reduceat(ws * tv[order], starts) / w_sum)
            out_w.append(w_sum)
        else:  # a projection collision: keep those rows as they are
            out_z.append(zv)
            out_t.append(tv)
            out_w.append(wv)
    return np.concatenate(out_z), np.concatenate(out_t), np.concatenate(out_w)


def _is_private(estimator: Any) -> bool:
    """Whether the estimator trains with a differential-privacy accountant (ε per training row)."""
    try:
        params = estimator.get_params(deep=False)
    except AttributeError:
        return False
    return "target_epsilon" in params or hasattr(type(estimator), "privacy_epsilon_")


def _draw_keys(keys: Array, draws: int) -> Array:
    with np.errstate(over="ignore"):
        return (
            np.repeat(keys, draws)
            + np.tile(np.arange(draws, dtype=np.uint64), len(keys)) * np.uint64(0xD1B54A32D192ED03)
        ).astype(np.uint64)


class SelectiveInvarianceClassifier(ClassifierMixin, _SelectiveBase):
    """Enforce the spec's fairness and robustness invariances at once, path by path (binary target).

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec: unfair paths, spurious / contextual environment paths.
    estimator : classifier, default LogisticRegression
        Trained on the mapped features (any scikit-learn classifier; a DP one composes privacy).
    scm : SCM, optional
        The causal model used for the mapping. When None it is learned with ``SCM.fit`` from the training
        rows (or ``scm_data`` passed to :meth:`fit`).
    fairness : bool or None
        Switch the fairness mapping on or off (to measure what it buys); None (default) enforces it when the
        spec has the section.
    robustness : {"map", "bounded", "drop", False} or None
        ``"map"`` (None and True mean it when the spec has the section): map each unit to the reference
        environment along the spurious paths; :meth:`adapt` can re-estimate the artifact from unlabeled rows
        of a new environment. ``"drop"``: train without the inputs whose mechanisms the spec declares
        spurious (invariant to any artifact shift without target data, at the cost of their signal).
        ``"bounded"``: map as ``"map"`` does, and train to hold up under shifts of the spurious mechanisms of
        size up to ``shift_strength`` (each environment's offset may move from its training value by that
        many noise standard deviations): the mapped units are augmented along the spurious paths only,
        labels and every other column untouched (``causaltrust.learners._bounded``).
        False: no robustness invariance.
    shift_center : {"training", "reference"}, default "training"
        Where bounded shifts are centred. ``"training"``: each environment's offset moves by up to γ noise sd
        from its training value (γ = 0 is ``"map"``). ``"reference"``: a new device is re-drawn within γ noise
        sd of the *reference* level's offset in every environment (an assumption that the training offsets say
        nothing about the new ones; γ = 0 is then not ``"map"``). Exact for additive offsets.
    shift_strength : float, default 1.0
        γ >= 0 of ``robustness="bounded"``, in units of the shifted variable's noise sd (for a measurement
        node: its latent's). 0 is exactly ``"map"``; large values approach ``"drop"`` while keeping what the
        rest of the graph says about the latent. Ignored by the other modes.
    fair_labels : bool
        Train on fair-world labels (True) or on the observed labels.
    environment_reference : optional
        The environment level the spurious paths are held at (default: its first category).
    n_draws : int
        Abduction draws per unit for discrete mediators (predictions average them).
        With a differentially private final estimator (one with ``target_epsilon``), training uses one
        draw and one sampled fair-world label per unit, so each person is exactly one row of the
        accountant.
    sensitive_noise : float
        Targeted privacy: at training, Gaussian noise of this many standard deviations is added only to the
        inputs that carry the ``privacy.sensitive`` variables' effect (see :meth:`sensitive_columns`).
    scm_mechanisms : {"auto", "linear"} or dict
        Mechanism classes when the SCM is learned.
    random_state : int, optional
        Seed; predictions are deterministic and batch-invariant (per-row keyed noise).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(3000, random_state=1)
    >>> clf = ct.learners.SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0)
    >>> clf = clf.fit(train[spec.features], train[spec.target])
    >>> clf.predict_proba(train[spec.features].head(2)).shape
    (2, 2)
    """

    _task = "binary"

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1 from the mapped features."""
        p = self._predict_scores(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class (1 when P(1) >= 0.5)."""
        return (self._predict_scores(X) >= 0.5).astype(np.int64)


class SelectiveInvarianceRegressor(RegressorMixin, _SelectiveBase):
    """The regression version of :class:`SelectiveInvarianceClassifier` (continuous target).

    Fair-world targets are exact for additive-noise targets: ``y + h(parents') - h(parents)``.
    """

    _task = "regression"

    def predict(self, X: pd.DataFrame) -> Array:
        """Predictions from the mapped features."""
        return self._predict_scores(X)
