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
import math
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.graph import PREDICTION, CausalGraph
from causaltrust.learners._base import (
    BinaryClassifierMixin,
    Design,
    RegressorMixin,
    RowStream,
    SpecEstimator,
    columns_with_unseen,
    fit_context,
    pooled,
    row_keys,
)
from causaltrust.learners._blocking import block_features, block_plan, block_references
from causaltrust.learners._bounded import (
    augment_spurious,
    shift_scales,
    spurious_inputs,
)
from causaltrust.scm import SCM, DPLinearFit, MultiPathWorld, Noise, composed_epsilon, fair_world_labels
from causaltrust.scm._data import columns_to_frame, value_to_internal
from causaltrust.spec import TrustSpec

__all__ = ["SelectiveInvarianceClassifier", "SelectiveInvarianceRegressor"]

Array = np.ndarray
Path = tuple[str, ...]


@dataclass(eq=False, repr=False)
class _SelectiveBase(SpecEstimator):
    """Shared fit/transform logic of the selective-invariance classifier and regressor (its fields are
    their scikit-learn parameters, declared once: see SpecEstimator)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "estimator": [HasMethods(["fit"]), None],
        "scm": [SCM, DPLinearFit, None],
        "fairness": [StrOptions({"block", "map"}), "boolean", None],
        "robustness": [StrOptions({"map", "drop", "bounded"}), "boolean", None],
        "shift_strength": [Interval(Real, 0, None, closed="left")],
        "shift_center": [StrOptions({"training", "reference"})],
        "fair_labels": ["boolean"],
        "environment_reference": "no_validation",
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "sensitive_input_noise": [Interval(Real, 0, None, closed="left")],
        "scm_mechanisms": [StrOptions({"auto", "linear"}), dict],
    }
    _target = "binary"

    spec: Any = None
    estimator: Any = None
    scm: SCM | None = None
    _: KW_ONLY
    fairness: bool | str | None = None
    robustness: bool | str | None = None
    shift_strength: float = 1.0
    shift_center: str = "training"
    fair_labels: bool = True
    environment_reference: Any = None
    n_draws: int = 4
    sensitive_input_noise: float = 0.0
    scm_mechanisms: str = "auto"
    random_state: int | None = None

    # -- fitting --------------------------------------------------------------------------------------
    def _default_estimator(self) -> Any:
        return LogisticRegression(max_iter=1000) if self._target == "binary" else LinearRegression()

    @fit_context(nested=True)
    def fit(self, X: pd.DataFrame, y: Any, *, scm_data: pd.DataFrame | None = None) -> _SelectiveBase:
        """Learn the mapping's SCM (unless given), map the units, fit the estimator on the mapped world.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The spec's features (per-row protected attribute and environment are read from its columns; an
            array: in the spec's feature order).
        y : array-like
            The observed target.
        scm_data : DataFrame, optional
            Separate rows (every observed variable) to fit the SCM on, e.g. so that a DP estimator's ε also
            covers everything fitted on the training rows.
        """
        X, y_arr = self._prepare(X, y)
        scm = self._fit_scm(X, y_arr, scm_data=scm_data, mechanisms=self.scm_mechanisms)
        self.scm_ = scm
        self.graph_ = CausalGraph.from_spec(self.spec_).with_prediction(self.spec_.features)
        self._plan()
        cols = self._columns(X)
        held = self.blocking_.get("dropped", [])
        fairness = self.spec_.fairness
        self.block_references_ = block_references(scm, cols, held, fairness.protected) if fairness else {}
        self.design_ = Design(scm.meta, self.inputs_).fit(cols)
        self.estimator_ = self._clone(self.estimator, self._default_estimator)
        if self._target == "binary" and not hasattr(self.estimator_, "predict_proba"):
            raise DataError(
                f"{type(self).__name__}: the estimator {type(self.estimator_).__name__} has no "
                "predict_proba; the selective classifier trains on soft fair-world labels and predicts "
                "probabilities. Use a probabilistic classifier (e.g. LogisticRegression, or "
                "CalibratedClassifierCV around this one)"
            )
        # A differentially private estimator accounts per training row: each person must be exactly
        # one row (one abduction draw, one sampled label), or its ε would protect a row, not a person.
        self._train_draws = 1 if _is_private(self.estimator_) else self.n_draws
        mapped, _ = self._mapped(X, cols, self.seed_, draws=self._train_draws)
        target = self._training_target(X, y_arr, cols, self.seed_)
        self._copies = 1
        if self.robustness_mode_ == "bounded":
            mapped, target = self._bounded(cols, mapped, target, float(self.shift_strength), self.seed_)
        Z = self.design_.transform(mapped)
        keys = None
        if _is_private(self.estimator_):
            # Nothing outside the accountant may be learned from the rows: the weights of an unseen
            # category's pooled encoding are uniform over the declared categories, not training
            # frequencies; and each row's sampled label is keyed by the row itself (a per-row function, so
            # neighbouring data sets stay neighbours), not by its position in a shared stream.
            self.design_.freq = {f: np.full(len(w), 1.0 / len(w)) for f, w in self.design_.freq.items()}
            keys = row_keys(X, self.inputs_, self.seed_ ^ 0x1ABE1)
        if self.sensitive_input_noise:
            Z = self._obfuscate(Z, self.seed_)
        self._fit_estimator(Z, target, keys)
        return self

    def _check_spec(self, spec: TrustSpec) -> None:
        name = type(self).__name__
        if self.fairness and spec.fairness is None:
            raise SpecError(
                f"{name}(fairness=True) needs a 'fairness' section in the spec (or fairness=None)"
            )
        if self.robustness and spec.robustness is None:
            raise SpecError(f"{name}(robustness={self.robustness!r}) needs a 'robustness' section (or None)")

    def _plan(self) -> None:
        """Which source is switched along which paths into Ŷ (decided once per fit)."""
        spec, g = self.spec_, self.graph_
        self.switches_: dict[str, Any] = {}
        self.active_: list[list[Path]] = []
        # fairness="block": {"dropped": features that are not inputs, "replaced": features re-evaluated in
        # the blocked world} (``_blocking``); empty for "map" and without fairness.
        self.blocking_: dict[str, list[str]] = {}
        fairness = self.fairness_mode_
        mode = self.robustness_mode_
        if fairness == "map":
            assert spec.fairness is not None
            a = spec.fairness.protected
            unfair = [p for p in g.paths(a) if g.path_role(p) == "unfair"]
            self.switches_[a] = spec.fairness.baseline
            self.active_.append(unfair)
        elif fairness == "block":
            # A feature another mapping moves (the spurious paths' nodes) is dropped rather than replaced.
            moving = (
                {v for p in g.paths(spec.robustness.environment) if g.path_role(p) == "spurious" for v in p}
                if mode in ("map", "bounded") and spec.robustness is not None
                else set()
            )
            self.blocking_ = block_plan(g, self.scm_, spec.features, keep_as_is=moving)
        dropped = set(spec.features) & {e[1] for e in spec.spurious_paths()} if mode == "drop" else set()
        # "drop": the inputs whose mechanisms the spec declares spurious are not inputs at all.
        dropped |= set(self.blocking_.get("dropped", []))
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
    def fairness_mode_(self) -> str | None:
        """``"block"`` (each unfair path blocked on its own), ``"map"`` (the unfair paths' sum held at the
        baseline) or None (off, or no fairness section in the spec)."""
        if self.fairness is False or self.spec_.fairness is None:
            return None
        return "map" if self.fairness == "map" else "block"

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
        fair = self.fair_labels and self.fairness_mode_ is not None
        return "fair" if fair and self.spec_.unfair_paths() else "observed"

    def _columns(self, X: pd.DataFrame, names: Sequence[str] | None = None) -> dict[str, Array]:
        # The SCM's metadata: after adapt() it holds the new environment's categories.
        names = self.spec_.features if names is None else names
        return columns_with_unseen(X, self.scm_.meta, names, type(self).__name__)

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
            return self._blocked(cols, cols, keys), keys
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
        return self._blocked(cols, {f: mapped[f] for f in self.spec_.features}, keys), keys

    def _blocked(self, cols: dict[str, Array], base: dict[str, Array], keys: Array) -> dict[str, Array]:
        """``base`` with the features that per-path blocking replaces re-evaluated (``_blocking``)."""
        if not self.blocking_.get("replaced"):
            return base
        fairness = self.spec_.fairness
        assert fairness is not None
        a = fairness.protected
        n = len(keys)
        code = value_to_internal(fairness.baseline, self.scm_.meta[a], n, f"baseline of {a}")
        baseline = np.full(n, code, dtype=cols[a].dtype if a in cols else np.float64)
        stream = cast(np.random.Generator, RowStream(keys ^ np.uint64(0xB10C)))
        return block_features(
            self.scm_, cols, base, self.blocking_, self.block_references_, a, baseline, stream
        )

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
        if not (self.fair_labels and self.fairness_mode_ is not None):
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
        if self.blocking_ and spec.fairness is not None:
            blocked |= {
                p for p in self.graph_.paths(spec.fairness.protected) if self.graph_.path_role(p) == "unfair"
            }
        for s in sensitive:
            for p in self.graph_.paths(s):
                if p not in blocked:
                    out[p[-2]] = None
        # A feature that is not an input carries nothing into the estimator.
        return [f for f in spec.features if f in out and f in self.inputs_]

    def _obfuscate(self, Z: Array, seed: int) -> Array:
        """An uncalibrated heuristic, not privacy: Gaussian noise only on the columns carrying sensitive
        information.

        The noise scale is taken from the data and calibrated to no sensitivity, so no ε follows from it
        (``privacy_epsilon_parts_`` does not change with it). The uniform baseline adds noise to every input;
        here the columns that carry no sensitive effect keep their signal.
        """
        cols = set(self.sensitive_columns())
        mask = np.array([name.split("=", 1)[0] in cols for name in self.design_.names])
        if not mask.any():
            return Z
        rng = np.random.default_rng([seed, 0x0BF5])
        sd = Z[:, mask].std(axis=0)
        out = Z.copy()
        out[:, mask] += rng.standard_normal((len(Z), int(mask.sum()))) * (self.sensitive_input_noise * sd)
        return out

    def _fit_estimator(self, Z: Array, target: Array, keys: Array | None = None) -> None:
        # Each person weighs 1 in total, over its draws and (bounded robustness) its shifted copies.
        weights = np.full(len(target), 1.0 / (self._train_draws * getattr(self, "_copies", 1)))
        takes_weight = "sample_weight" in inspect.signature(self.estimator_.fit).parameters
        if _is_private(self.estimator_):
            takes_weight = False  # one row per person, hard labels: the accountant's unit is a person
        if takes_weight:
            Z, target, weights = _collapse_draws(Z, target, weights, self._train_draws)
        if self._target == "binary":
            soft = (target > 0) & (target < 1)
            if takes_weight and soft.any():
                Zs = np.vstack([Z, Z])
                ys = np.concatenate([np.ones(len(target)), np.zeros(len(target))])
                ws = np.concatenate([target * weights, (1.0 - target) * weights])
                keep = ws > 0
                self.estimator_.fit(Zs[keep], ys[keep], sample_weight=ws[keep])
            else:
                u = (
                    np.random.default_rng(self.seed_).random(len(target))
                    if keys is None
                    else RowStream(keys).random(len(target))
                )
                hard = (u < target).astype(np.float64)
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
        X, cols = self._predict_frame(X, "selective_features")
        name = type(self).__name__
        unseen = {f: v for f, v in cols.items() if self.scm_.meta[f].vtype == "categorical" and (v < 0).any()}
        if unseen:
            raise DataError(
                f"{name}.selective_features: unseen categories in {sorted(unseen)}; adapt() first"
            )
        mapped, _ = self._mapped(X, cols, self.seed_, draws=1)
        return columns_to_frame(mapped, self.scm_.meta, self.spec_.features, X.index)

    def _predict_scores(self, X: pd.DataFrame) -> Array:
        X, cols = self._predict_frame(X)
        # Rows with an unseen category average over the known ones (weighted by training frequency).
        return pooled(self._scores, X, cols, self.scm_.meta, self.design_.freq)

    def _scores(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        mapped, _ = self._mapped(X, cols, self.seed_, draws=self.n_draws)
        Z = self.design_.transform(mapped)
        if self._target == "binary":
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
        X, _ = self._predict_frame(X_unlabeled, "adapt")
        new = copy.deepcopy(self)
        new.scm_ = adapt_spurious(self.scm_, self.spec_, X)
        nodes = {e[1] for e in self.spec_.spurious_paths()}
        kept = getattr(self, "world_mechanisms_", {})
        new.world_mechanisms_ = {v: kept.get(v, self.scm_.mechanisms[v]) for v in nodes}
        new._plan()
        return new

    @property
    def privacy_epsilon_(self) -> float:
        """The final estimator's accountant ε (inf when it is not trained with differential privacy).

        It covers the final estimator only; :attr:`privacy_epsilon_parts_` says what else was learned from
        the training rows, and the audit's ``privacy.epsilon`` composes the parts.
        """
        check_is_fitted(self, "estimator_")
        eps = getattr(self.estimator_, "privacy_epsilon_", None)
        return float("inf") if eps is None else float(eps)

    @property
    def privacy_epsilon_parts_(self) -> dict[str, tuple[float, str]]:
        """Each part learned for this model, with its ε on the training rows and how it was learned.

        ``model``: the final estimator's accountant ε (inf without DP). ``scm``: 0 for a given SCM or one
        fitted on ``scm_data`` (other rows cost the training rows nothing), NaN when it was fitted on the
        training rows without differential privacy. ``encoders``: 0 when the one-hot categories come from
        the SCM's metadata (the spec, or a given SCM) and, with a private estimator, the unseen-category
        weights are uniform; NaN when those weights are training-row frequencies.
        """
        check_is_fitted(self, "estimator_")
        eps = self.privacy_epsilon_
        model = "the final estimator's DP accountant" if math.isfinite(eps) else "not trained with DP"
        source = self.scm_source_
        if source == "given":
            scm = (0.0, "user-supplied SCM, assumed fitted on other data: costs the training rows nothing")
        elif source == "scm_data":
            scm = (0.0, "fitted on separate rows (scm_data=): costs the training rows nothing")
        elif source == "dp":
            scm = (
                float(self.scm_.provenance["dp"]["epsilon"]),
                "DPLinearFit: Gaussian mechanism per node, RDP",
            )
        else:
            scm = (math.nan, "fitted on the training rows without differential privacy (SCM.fit)")
        if _is_private(self.estimator_):
            enc = (0.0, "categories from the spec/SCM metadata; unseen-category weights uniform")
        else:
            enc = (
                math.nan,
                "categories from the spec/SCM metadata; unseen-category weights are training frequencies",
            )
        return {"model": (eps, model), "scm": scm, "encoders": enc}

    @property
    def privacy_epsilon_composed_(self) -> float | None:
        """ε of every mechanism of the pipeline in one RDP accountant (a DP SCM with DP-SGD); else None."""
        return composed_epsilon(self.estimator_, self.scm_) if self.scm_source_ == "dp" else None


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


class SelectiveInvarianceClassifier(BinaryClassifierMixin, _SelectiveBase):
    """Enforce the spec's fairness and robustness invariances at once, path by path (binary target).

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec: unfair paths, spurious / contextual environment paths.
    estimator : classifier, default LogisticRegression
        Trained on the mapped features (any scikit-learn classifier; a DP one composes privacy).
    scm : SCM or DPLinearFit, optional
        The causal model used for the mapping. When None it is learned with ``SCM.fit`` from the training
        rows (or ``scm_data`` passed to :meth:`fit`). A :class:`~causaltrust.scm.DPLinearFit` is fitted
        under differential privacy on the training rows (or ``scm_data``, which costs the training rows
        nothing), and its ε is composed with a DP estimator's in ``privacy_epsilon_``.
    fairness : {"block", "map", False} or None
        ``"block"`` (None and True mean it when the spec has the section): block every unfair path entry on
        its own, for every unit. The protected attribute is not an input when the direct path is unfair;
        each feature an unfair path moves is either re-evaluated with the attribute at its baseline, the
        other moved features at a reference value and its own noise abducted (a continuous feature whose
        parents move with it, e.g. education below marital status), or not an input at all (a discrete
        one, or the first node of an unfair entry such as the proxy in ``A → Z``)
        (``causaltrust.learners._blocking``). ``"map"``: map each unit to the fair world, the attribute
        held at its baseline along all unfair paths together: their summed effect is 0, but the mapping
        reads the attribute to undo a mediator's share, so single paths can move in opposite directions
        (it cancels rather than blocks); it keeps more signal. False: no fairness invariance (to measure
        what it buys).
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
    sensitive_input_noise : float
        An uncalibrated heuristic with **no ε** (not differential privacy): at training, Gaussian noise of
        this many (training-data) standard deviations is added only to the inputs that carry the
        ``privacy.sensitive`` variables' effect (see :meth:`sensitive_columns`). For a guarantee use a DP
        ``estimator``; its ε is in :attr:`privacy_epsilon_parts_`.
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

    _target = "binary"

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

    Parameters
    ----------
    spec, scm, fairness, robustness, shift_strength, shift_center, fair_labels, environment_reference
        As in :class:`SelectiveInvarianceClassifier`.
    n_draws, sensitive_input_noise, scm_mechanisms, random_state
        As in :class:`SelectiveInvarianceClassifier`.
    estimator : regressor, default LinearRegression
        Trained on the mapped features (any scikit-learn regressor).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("credit_limit")
    >>> train = scm.sample(2000, random_state=1)
    >>> reg = ct.learners.SelectiveInvarianceRegressor(spec, scm=scm).fit(train, train[spec.target])
    >>> reg.predict(train.head(3)).shape
    (3,)
    """

    _target = "continuous"

    def predict(self, X: pd.DataFrame) -> Array:
        """Predictions from the mapped features."""
        return self._predict_scores(X)
