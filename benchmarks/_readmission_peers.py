"""The readmission SCM by hand in NumPy (the floor) and as dowhy.gcm models, for benchmarks/scm_engine.py.

The true model (the same equations as causaltrust's ``readmission`` scenario)::

    A ~ bernoulli(0.4)
    E ~ categorical([0.4, 0.35, 0.25])        # values 0, 1, 2
    F = 0.5 + normal(0, 1)
    Z ~ bernoulli(sigmoid(-0.5 + 1.5*A))
    L = 1.0*A - 0.4*F + normal(0, 1)          # latent
    X = L + 0.8*(E == 1) - 0.5*(E == 2)       # noise-free measurement
    Y ~ bernoulli(sigmoid(-1 + 1.2*L + 0.7*Z + 0.5*A - 0.3*F + 0.6*(E == 2)))

dowhy is imported lazily (only by the ``dowhy_*`` builders) so the floor works in any venv.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["A", "E", "F", "Z", "L", "X", "Y"]
OBSERVED = ["A", "E", "F", "Z", "X", "Y"]
P_A = 0.4
P_E = np.array([0.4, 0.35, 0.25])
# (E == 1) and (E == 2) terms as lookup tables indexed by E: one gather instead of two comparisons.
X_ARTIFACT = np.array([0.0, 0.8, -0.5])
Y_POLICY = np.array([0.0, 0.0, 0.6])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def _logit_z(A: np.ndarray | float) -> np.ndarray:
    return -0.5 + 1.5 * np.asarray(A, dtype=float)


def _logit_y(A: np.ndarray | float, E: np.ndarray, F: np.ndarray, Z: np.ndarray, L: np.ndarray) -> np.ndarray:
    return -1.0 + 1.2 * L + 0.7 * Z + 0.5 * np.asarray(A, dtype=float) - 0.3 * F + Y_POLICY[E]


# ------------------------------------------------------------------------------------------------------------
# NumPy floor
# ------------------------------------------------------------------------------------------------------------


def floor_sample(n: int, seed: int = 0, do_a: int | None = None) -> pd.DataFrame:
    """Ancestral sampling of every variable (L included); ``do_a`` fixes A (a hard intervention)."""
    rng = np.random.default_rng(seed)
    # Under do(A) the draw of A is skipped: the least work an intervention can do.
    A = (rng.random(n) < P_A).astype(np.int64) if do_a is None else np.full(n, do_a, dtype=np.int64)
    E = np.searchsorted(np.cumsum(P_E), rng.random(n)).astype(np.int64)
    F = 0.5 + rng.standard_normal(n)
    Z = (rng.random(n) < sigmoid(_logit_z(A))).astype(np.int64)
    L = 1.0 * A - 0.4 * F + rng.standard_normal(n)
    X = L + X_ARTIFACT[E]
    Y = (rng.random(n) < sigmoid(_logit_y(A, E, F, Z, L))).astype(np.int64)
    # Every implementation must hand back a DataFrame, so building it is part of the floor.
    return pd.DataFrame({"A": A, "E": E, "F": F, "Z": Z, "L": L, "X": X, "Y": Y})


def _posterior_uniform(rng: np.random.Generator, observed: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Uniform noise u of ``observed = (u < p)`` drawn from its posterior: U(0, p) if 1 else U(p, 1)."""
    r = rng.random(observed.shape[0])
    return np.where(observed == 1, r * p, p + r * (1.0 - p))


def floor_counterfactual(df: pd.DataFrame, do_a: int = 0, seed: int = 0) -> pd.DataFrame:
    """Abduction-action-prediction on observed units without L; L is recovered from X = L + artifact(E)."""
    rng = np.random.default_rng(seed)
    A = df["A"].to_numpy()
    E = df["E"].to_numpy()
    F = df["F"].to_numpy()
    Z = df["Z"].to_numpy()
    X = df["X"].to_numpy()
    Y = df["Y"].to_numpy()
    # Abduction.
    L = X - X_ARTIFACT[E]
    u_l = L - (1.0 * A - 0.4 * F)
    u_z = _posterior_uniform(rng, Z, sigmoid(_logit_z(A)))
    u_y = _posterior_uniform(rng, Y, sigmoid(_logit_y(A, E, F, Z, L)))
    # Action and prediction.
    A_cf = np.full(A.shape[0], do_a, dtype=np.int64)
    Z_cf = (u_z < sigmoid(_logit_z(do_a))).astype(np.int64)
    L_cf = 1.0 * do_a - 0.4 * F + u_l
    X_cf = L_cf + X_ARTIFACT[E]
    Y_cf = (u_y < sigmoid(_logit_y(do_a, E, F, Z_cf, L_cf))).astype(np.int64)
    return pd.DataFrame(
        {"A": A_cf, "E": E, "F": F, "Z": Z_cf, "L": L_cf, "X": X_cf, "Y": Y_cf}, index=df.index
    )


def floor_fit(df: pd.DataFrame) -> dict[str, Any]:
    """scikit-learn called directly with dowhy's linear mechanism classes (the floor for ``gcm.fit``).

    Roots: empirical (a copy of the column); L, X: LinearRegression + empirical residuals; Z, Y:
    LogisticRegression (defaults, as ``gcm.ml.create_logistic_regression_classifier()``); E is one-hot encoded
    as an input, as dowhy does.
    """
    from sklearn.linear_model import LinearRegression, LogisticRegression

    A = df["A"].to_numpy(dtype=float)
    E = df["E"].to_numpy()
    F = df["F"].to_numpy()
    Z = df["Z"].to_numpy()
    L = df["L"].to_numpy()
    X = df["X"].to_numpy()
    Y = df["Y"].to_numpy()
    E_hot = (E[:, None] == np.arange(3)[None, :]).astype(float)
    fitted: dict[str, Any] = {name: df[name].to_numpy().copy() for name in ("A", "E", "F")}
    for name, inputs, target in (("L", np.column_stack([A, F]), L), ("X", np.column_stack([E_hot, L]), X)):
        model = LinearRegression().fit(inputs, target)
        fitted[name] = (model, target - model.predict(inputs))
    fitted["Z"] = LogisticRegression().fit(A[:, None], Z)
    fitted["Y"] = LogisticRegression().fit(np.column_stack([A, E_hot, F, L, Z]), Y)
    return fitted


# ------------------------------------------------------------------------------------------------------------
# dowhy.gcm
# ------------------------------------------------------------------------------------------------------------

EDGES = [("A", "Z"), ("A", "L"), ("F", "L"), ("L", "X"), ("E", "X")]
EDGES += [(parent, "Y") for parent in ("L", "Z", "A", "F", "E")]


def dowhy_graph() -> Any:
    """The readmission DAG with L as an ordinary (observed) node: dowhy.gcm has no latent variables."""
    import networkx as nx

    return nx.DiGraph(EDGES)


# dowhy hands a mechanism its parents as one array whose columns are the parent names *sorted*
# (dowhy.graph.get_ordered_predecessors), so the known functions below index columns in that order.
def _x_of_e_l(P: np.ndarray) -> np.ndarray:  # parents [E, L]
    return P[:, 1] + X_ARTIFACT[P[:, 0].astype(np.int64)]


def _logit_z_of(P: np.ndarray) -> np.ndarray:  # parents [A]
    return _logit_z(P[:, 0])


def _logit_y_of(P: np.ndarray) -> np.ndarray:  # parents [A, E, F, L, Z]
    return _logit_y(P[:, 0], P[:, 1].astype(np.int64), P[:, 2], P[:, 4], P[:, 3])


def _y_prob_of(P: np.ndarray) -> np.ndarray:
    return sigmoid(_logit_y_of(P))


def _z_prob_of(P: np.ndarray) -> np.ndarray:
    return sigmoid(_logit_z_of(P))


def _dowhy_classes() -> tuple[type, type, type]:
    """dowhy extension classes for known (not learned) mechanisms; defined lazily to keep dowhy optional."""
    from dowhy.gcm.causal_mechanisms import StochasticModel
    from dowhy.gcm.ml import ClassificationModel, PredictionModel

    class KnownFunction(PredictionModel):  # type: ignore[misc]
        """A prediction model f(parents) that is given, not fitted."""

        def __init__(self, func: Callable[[np.ndarray], np.ndarray]) -> None:
            self._func = func

        def fit(self, X: np.ndarray, Y: np.ndarray) -> None:
            """Nothing to learn."""

        def predict(self, X: np.ndarray) -> np.ndarray:
            return self._func(np.asarray(X, dtype=float).reshape(X.shape[0], -1)).reshape(-1, 1)

        def clone(self) -> KnownFunction:
            return KnownFunction(self._func)

    class KnownBernoulli(ClassificationModel):  # type: ignore[misc]
        """P(node = 1 | parents) = sigmoid(logit(parents)), given, not fitted; classes 0 and 1."""

        def __init__(self, logit: Callable[[np.ndarray], np.ndarray]) -> None:
            self._logit = logit

        def fit(self, X: np.ndarray, Y: np.ndarray) -> None:
            """Nothing to learn."""

        def predict_probabilities(self, X: np.ndarray) -> np.ndarray:
            p = sigmoid(self._logit(np.asarray(X, dtype=float).reshape(X.shape[0], -1)))
            return np.column_stack([1.0 - p, p])

        def predict(self, X: np.ndarray) -> np.ndarray:
            return (self.predict_probabilities(X)[:, 1] > 0.5).astype(np.int64).reshape(-1, 1)

        # dowhy reads ``classes`` once per *row* when it maps class indices to labels, so it must be as cheap
        # as sklearn's ``classes_`` attribute: a stored array, not a new list per call.
        _classes = np.array([0, 1])

        @property
        def classes(self) -> np.ndarray:
            return self._classes

        def clone(self) -> KnownBernoulli:
            return KnownBernoulli(self._logit)

    class ZeroNoise(StochasticModel):  # type: ignore[misc]
        """Noise that is always 0: X is a noise-free measurement, an additive noise model with N = 0."""

        def fit(self, X: np.ndarray) -> None:
            """Nothing to learn."""

        def draw_samples(self, num_samples: int) -> np.ndarray:
            return np.zeros((num_samples, 1))

        def clone(self) -> ZeroNoise:
            return ZeroNoise()

    return KnownFunction, KnownBernoulli, ZeroNoise


def dowhy_true_scm(binary_as_anm: bool = False) -> Any:
    """The true readmission SCM as an InvertibleStructuralCausalModel with every mechanism given explicitly.

    Roots and the noise of L are scipy distributions with the true parameters, L is dowhy's fixed-parameter
    linear model, X an additive noise model with zero noise. Z and Y are ClassifierFCMs with the true
    probabilities, or, with ``binary_as_anm``, additive noise models ``node = P(node = 1 | parents) + N`` (no
    longer binary): dowhy's counterfactuals need invertible mechanisms (``estimate_noise``), which
    ClassifierFCM is not.
    """
    from dowhy import gcm
    from dowhy.gcm.causal_models import PARENTS_DURING_FIT
    from dowhy.gcm.ml.regression import create_linear_regressor_with_given_parameters
    from dowhy.graph import get_ordered_predecessors
    from scipy import stats

    KnownFunction, KnownBernoulli, ZeroNoise = _dowhy_classes()
    scm = gcm.InvertibleStructuralCausalModel(dowhy_graph())
    e_dist = stats.rv_discrete(values=(np.arange(3), P_E))
    scm.set_causal_mechanism("A", gcm.ScipyDistribution(stats.bernoulli, p=P_A))
    # ScipyDistribution refuses to sample without parameters, so E's frozen values get an explicit loc=0.
    scm.set_causal_mechanism("E", gcm.ScipyDistribution(e_dist, loc=0))
    scm.set_causal_mechanism("F", gcm.ScipyDistribution(stats.norm, loc=0.5, scale=1.0))
    scm.set_causal_mechanism(
        "L",
        gcm.AdditiveNoiseModel(
            create_linear_regressor_with_given_parameters([1.0, -0.4], 0.0),  # parents [A, F]
            noise_model=gcm.ScipyDistribution(stats.norm, loc=0.0, scale=1.0),
        ),
    )
    scm.set_causal_mechanism("X", gcm.AdditiveNoiseModel(KnownFunction(_x_of_e_l), noise_model=ZeroNoise()))
    for node, logit, prob in (("Z", _logit_z_of, _z_prob_of), ("Y", _logit_y_of, _y_prob_of)):
        if binary_as_anm:
            # The noise model is only used to sample; counterfactuals take the noise from the data.
            mechanism = gcm.AdditiveNoiseModel(KnownFunction(prob), noise_model=ZeroNoise())
        else:
            mechanism = gcm.ClassifierFCM(KnownBernoulli(logit))
        scm.set_causal_mechanism(node, mechanism)
    # As dowhy's own equation parser does for models that are never fitted: record the parents, so dowhy's
    # graph validation accepts the model.
    for node in scm.graph.nodes:
        scm.graph.nodes[node][PARENTS_DURING_FIT] = get_ordered_predecessors(scm.graph, node)
    return scm


def dowhy_linear_scm(binary_as_anm: bool = False) -> Any:
    """The DAG with dowhy's linear mechanism classes, unfitted: empirical roots, LinearRegression ANMs for
    continuous nodes, LogisticRegression ClassifierFCMs for binary ones (LinearRegression ANMs with
    ``binary_as_anm``, so that dowhy can compute counterfactuals)."""
    from dowhy import gcm

    scm = gcm.InvertibleStructuralCausalModel(dowhy_graph())
    for node in ("A", "E", "F"):
        scm.set_causal_mechanism(node, gcm.EmpiricalDistribution())
    for node in ("L", "X"):
        scm.set_causal_mechanism(node, gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor()))
    for node in ("Z", "Y"):
        if binary_as_anm:
            mechanism = gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor())
        else:
            mechanism = gcm.ClassifierFCM(gcm.ml.create_logistic_regression_classifier())
        scm.set_causal_mechanism(node, mechanism)
    return scm


def dowhy_fit_frame(df: pd.DataFrame, binary_as_anm: bool = False) -> pd.DataFrame:
    """The sample in the dtypes dowhy.gcm needs: a categorical *input* is one-hot encoded only when it holds
    strings (else it is a number), and ClassifierFCM targets must be str or bool (ints are refused); with
    ``binary_as_anm`` Z and Y stay numbers."""
    out = df[COLUMNS].copy()
    out["E"] = out["E"].astype(str).astype(object)
    if not binary_as_anm:
        out["Z"] = out["Z"].astype(bool)
        out["Y"] = out["Y"].astype(bool)
    return out


def dowhy_fitted_scms(train: pd.DataFrame) -> tuple[Any, Any]:
    """dowhy as typically used: its linear mechanism classes fitted with ``gcm.fit`` on ``train`` (with L),
    for sampling (ClassifierFCMs) and for counterfactuals (ANMs for Z and Y)."""
    from dowhy import gcm

    sample_scm, cf_scm = dowhy_linear_scm(), dowhy_linear_scm(binary_as_anm=True)
    gcm.fit(sample_scm, dowhy_fit_frame(train))
    gcm.fit(cf_scm, dowhy_fit_frame(train, binary_as_anm=True))
    return sample_scm, cf_scm
