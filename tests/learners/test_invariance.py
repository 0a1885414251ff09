"""IRM, V-REx and GroupDRO (DomainBed objectives) against pooled ERM with the same network."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

pytest.importorskip("torch")

import causaltrust as ct
from causaltrust.exceptions import DataError
from causaltrust.learners._invariance import (
    GroupDROClassifier,
    IRMClassifier,
    TorchERMClassifier,
    VRExClassifier,
)

# "Colored" setup (Arjovsky et al. 2019): the label Y causes an invariant feature C with P(C = Y) = 0.75 in
# every environment, and, through the environment E, a spurious feature S with P(S = Y) = 0.9 and 0.8 in
# the two training environments and 0.1 in the held-out environment 2. N is irrelevant noise.
COLORED = {
    "name": "colored",
    "target": "Y",
    "features": ["E", "C", "S", "N"],
    "variables": {
        "E": {"type": "categorical", "categories": [0, 1, 2], "equation": "categorical([0.5, 0.5, 0])"},
        "Y": {"type": "binary", "equation": "bernoulli(0.5)"},
        "C": {"type": "binary", "equation": "bernoulli(0.25 + 0.5*Y)"},
        "N": {"type": "continuous", "equation": "normal(0, 1)"},
        "S": {
            "type": "binary",
            "equation": "bernoulli(Y*(0.9*(E == 0) + 0.8*(E == 1) + 0.1*(E == 2))"
            " + (1 - Y)*(0.1*(E == 0) + 0.2*(E == 1) + 0.9*(E == 2)))",
        },
    },
    "robustness": {"environment": "E", "spurious_paths": [["E", "S"]]},
}

# Imbalanced groups: 90% of rows come from "major", where S agrees with Y 95% of the time; in "minor" it
# agrees only 20% of the time. C agrees with Y 75% of the time in both.
IMBALANCED = {
    "name": "imbalanced",
    "target": "Y",
    "features": ["C", "S"],
    "variables": {
        "G": {"type": "categorical", "categories": ["major", "minor"], "equation": "categorical([0.9, 0.1])"},
        "Y": {"type": "binary", "equation": "bernoulli(0.5)"},
        "C": {"type": "binary", "equation": "bernoulli(0.25 + 0.5*Y)"},
        "S": {
            "type": "binary",
            "equation": "bernoulli(Y*(0.95*(G == 'major') + 0.2*(G == 'minor'))"
            " + (1 - Y)*(0.05*(G == 'major') + 0.8*(G == 'minor')))",
        },
    },
    "robustness": {"environment": "G", "spurious_paths": [["G", "S"]]},
}

NO_ENV = {
    "name": "no_env",
    "target": "Y",
    "variables": {
        "X": {"type": "continuous", "equation": "normal(0, 1)"},
        "Y": {"type": "binary", "equation": "bernoulli(sigmoid(2*X))"},
    },
}

METHODS = [IRMClassifier, VRExClassifier, GroupDROClassifier]
ALL = [TorchERMClassifier, *METHODS]


def _accuracy(model: object, df: pd.DataFrame) -> float:
    return float(np.mean(model.predict(df) == df["Y"].to_numpy()))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def colored() -> tuple[ct.TrustSpec, pd.DataFrame, pd.DataFrame]:
    spec = ct.load_spec(COLORED)
    scm = ct.SCM.from_spec(spec)
    train = scm.sample(10_000, random_state=0)
    test = scm.sample(5_000, do={"E": 2}, random_state=1)
    return spec, train, test


@pytest.fixture(scope="module")
def small(colored: tuple[ct.TrustSpec, pd.DataFrame, pd.DataFrame]) -> tuple[ct.TrustSpec, pd.DataFrame]:
    spec, train, _ = colored
    return spec, train.iloc[:1000]


# -- statistical behaviour ----------------------------------------------------------------------------
def test_irm_and_vrex_beat_erm_on_the_reversed_environment(colored):
    """The invariant predictor (C alone) scores 0.75 in every environment; one that trusts S, as pooled
    ERM does, scores about 0.1 in environment 2. With 5,000 test rows the binomial standard error is below
    0.007, so the asserted margins (0.4 over ERM, within 0.05 of 0.75) leave room for optimisation slack
    only."""
    spec, train, test = colored
    erm = TorchERMClassifier(spec, random_state=0).fit(train, train["Y"])
    acc_erm = _accuracy(erm, test)
    assert acc_erm < 0.3
    for cls in (IRMClassifier, VRExClassifier):
        model = cls(spec, random_state=0).fit(train, train["Y"])
        acc = _accuracy(model, test)
        assert acc > acc_erm + 0.4, (cls.__name__, acc, acc_erm)
        assert acc > 0.70, (cls.__name__, acc)
        # The environment column is not an input by default.
        assert "E" not in model.feature_names_in_


def test_vrex_mlp_beats_erm_mlp(colored):
    spec, train, test = colored
    train = train.iloc[:4000]
    kw = {"hidden": (16,), "epochs": 400, "random_state": 0}
    acc_erm = _accuracy(TorchERMClassifier(spec, **kw).fit(train, train["Y"]), test)
    acc_vrex = _accuracy(VRExClassifier(spec, **kw).fit(train, train["Y"]), test)
    assert acc_vrex > acc_erm + 0.4, (acc_vrex, acc_erm)


def test_group_dro_improves_the_worst_group_when_groups_are_imbalanced():
    """Pooled ERM follows S (it is right 87.5% of the time overall) and scores about 0.2 on the minority
    group; the best worst-group rule uses C and scores 0.75 on both. Standard error on ~2,000 minority test
    rows is about 0.01; margin asserted 0.3."""
    spec = ct.load_spec(IMBALANCED)
    scm = ct.SCM.from_spec(spec)
    train = scm.sample(10_000, random_state=0)
    test = scm.sample(20_000, random_state=1)
    groups = test["G"].to_numpy()

    def worst(model: object) -> float:
        return min(_accuracy(model, test[groups == g]) for g in ("major", "minor"))

    erm = TorchERMClassifier(spec, epochs=300, random_state=0).fit(train, train["Y"])
    dro = GroupDROClassifier(spec, epochs=300, random_state=0).fit(train, train["Y"])
    assert worst(dro) > worst(erm) + 0.3, (worst(dro), worst(erm))
    assert worst(erm) < 0.3
    # The exponentiated-gradient weights moved towards the harder (minority) group.
    assert dro.environments_.tolist() == ["major", "minor"]
    assert dro.group_weights_[1] > dro.group_weights_[0]
    assert dro.group_weights_.sum() == pytest.approx(1.0)


def test_zero_penalty_is_environment_balanced_erm(small):
    """λ = 0 without annealing (IRM, V-REx) and η = 0 (GroupDRO) all minimise the mean of the environment
    risks: the same trajectory from the same initialisation."""
    spec, train = small
    kw = {"epochs": 50, "random_state": 3}
    p_irm = IRMClassifier(spec, lambda_=0.0, anneal_steps=0, **kw).fit(train, train["Y"]).predict_proba(train)
    p_vrex = (
        VRExClassifier(spec, lambda_=0.0, anneal_steps=0, **kw).fit(train, train["Y"]).predict_proba(train)
    )
    p_dro = GroupDROClassifier(spec, eta=0.0, **kw).fit(train, train["Y"]).predict_proba(train)
    np.testing.assert_array_equal(p_irm, p_vrex)
    np.testing.assert_allclose(p_dro, p_irm, rtol=0, atol=1e-8)


def test_objectives_match_closed_forms():
    """Each step's loss against NumPy formulas: d/ds BCE(s·z, y) at s = 1 is mean((σ(z) − y)·z)."""
    import torch

    rng = np.random.default_rng(0)
    raw = [(rng.normal(size=n), rng.integers(0, 2, size=n).astype(float)) for n in (7, 10, 4)]
    batches = [(torch.tensor(z), torch.tensor(y)) for z, y in raw]

    def bce(z, y):
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def dscale(z, y):
        return float(np.mean((1.0 / (1.0 + np.exp(-z)) - y) * z))

    risks = np.array([bce(z, y) for z, y in raw])
    irm_pen = np.mean([dscale(z[::2], y[::2]) * dscale(z[1::2], y[1::2]) for z, y in raw])
    irm = IRMClassifier(lambda_=50.0, anneal_steps=3)
    for step, weight, restart in [(0, 1.0, False), (2, 1.0, False), (3, 50.0, True), (4, 50.0, False)]:
        loss, again = irm._objective(torch, batches, step)
        assert float(loss.detach()) == pytest.approx(risks.mean() + weight * irm_pen, rel=1e-12)
        assert again is restart
    vrex = VRExClassifier(lambda_=10.0, anneal_steps=0)
    loss, again = vrex._objective(torch, batches, 5)
    assert float(loss.detach()) == pytest.approx(risks.mean() + 10.0 * np.var(risks), rel=1e-12)
    assert again is False
    dro = GroupDROClassifier(eta=0.5)
    dro._start(torch, 3)
    q = np.full(3, 1 / 3)
    for step in range(3):
        q = q * np.exp(0.5 * risks)
        q /= q.sum()
        loss, _ = dro._objective(torch, batches, step)
        assert float(loss.detach()) == pytest.approx(float(q @ risks), rel=1e-12)


# -- readmission ----------------------------------------------------------------------------------------
def test_readmission_audit_runs_for_every_method(capsys):
    """Readmission's three hospitals share one artifact structure (an offset of the measured lab X), so no
    method is expected to win here; the audit must run and report sane values."""
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(20_000, random_state=1)
    test = scm.sample(4_000, random_state=2)
    rows = {}
    for cls in ALL:
        model = cls(spec, random_state=0).fit(train, train[spec.target])
        assert model.feature_names_in_.tolist() == ["A", "X", "Z", "F"]
        rep = ct.audit(
            model, spec=spec, scm=scm, data=test, objectives=["accuracy", "robustness"], n_bootstrap=20
        )
        worst = rep.metric("robustness.worst_environment_accuracy").value
        shift = rep.metric("accuracy.shift[new_device]").value
        rows[cls.__name__] = (worst, shift)
        assert 0.55 < worst <= rep.metric("accuracy.observational").value + 1e-12
        assert 0.55 < shift < 0.95
    with capsys.disabled():
        print("\nreadmission (worst-env acc, acc under new_device):")
        for name, (worst, shift) in rows.items():
            print(f"  {name:20s} {worst:.3f} {shift:.3f}")


def test_environment_as_feature_scores_an_unseen_hospital():
    """With the environment as an input, the new hospital (category 3) gets the pooled encoding."""
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(3_000, random_state=1)
    model = IRMClassifier(spec, epochs=50, use_environment_as_feature=True, random_state=0)
    model.fit(train, train["Y"])
    assert model.feature_names_in_.tolist() == spec.features
    new = scm.intervene(equations={"E": "categorical([0, 0, 0, 1])"}, categories={"E": [0, 1, 2, 3]})
    test = new.sample(200, random_state=5)
    p = model.predict_proba(test)
    assert np.all(np.isfinite(p))
    assert np.allclose(p.sum(axis=1), 1.0)
    # The network is linear (hidden=()) in the one-hot block of E, which for hospital 3 holds the known
    # hospitals' training shares (counted here): the logit is the shares-weighted logit at each of them.
    shares = np.bincount(train["E"], minlength=3) / len(train)
    unseen = test[test["E"] == 3]
    assert len(unseen) > 20
    logits = [model.decision_function(unseen.assign(E=c)) for c in range(3)]
    expected = sum(w * z for w, z in zip(shares, logits, strict=True))
    np.testing.assert_allclose(model.decision_function(unseen), expected, rtol=1e-9, atol=1e-12)


# -- contract -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
def test_pickle_round_trip_and_determinism(cls, small):
    spec, train = small
    a = cls(spec, hidden=(8,), epochs=30, random_state=7).fit(train, train["Y"])
    b = cls(spec, hidden=(8,), epochs=30, random_state=7).fit(train, train["Y"])
    np.testing.assert_array_equal(a.predict_proba(train), b.predict_proba(train))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(train), a.predict_proba(train))
    np.testing.assert_array_equal(c.predict(train), a.predict(train))
    d = cls(spec, hidden=(8,), epochs=30, random_state=8).fit(train, train["Y"])
    assert not np.array_equal(d.predict_proba(train), a.predict_proba(train))
    assert a.classes_.tolist() == [0, 1]
    assert a.n_features_in_ == 3
    assert a.n_iter_ == 30
    assert len(a.loss_curve_) == 30


def test_minibatches_are_deterministic(small):
    spec, train = small
    kw = {"batch_size": 64, "epochs": 3, "anneal_steps": 5, "random_state": 1}
    a = IRMClassifier(spec, **kw).fit(train, train["Y"])
    b = IRMClassifier(spec, **kw).fit(train, train["Y"])
    np.testing.assert_array_equal(a.predict_proba(train), b.predict_proba(train))
    # Steps per epoch: enough 64-row batches to cover the largest environment once.
    largest = int(train["E"].value_counts().max())
    assert a.n_iter_ == 3 * -(-largest // 64)


def test_fit_leaves_global_state_alone(small):
    import torch

    spec, train = small
    # The legacy global NumPy state is exactly what must stay untouched.
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.random.get_rng_state().clone()
    threads = torch.get_num_threads()
    IRMClassifier(spec, hidden=(4,), epochs=5, random_state=0).fit(train, train["Y"])
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert torch.get_num_threads() == threads


def test_environments_keyword_matches_the_column(small):
    spec, train = small
    kw = {"epochs": 20, "random_state": 0}
    a = VRExClassifier(spec, **kw).fit(train, train["Y"])
    b = VRExClassifier(spec, **kw).fit(
        train.drop(columns="E"), train["Y"], environments=train["E"].to_numpy()
    )
    np.testing.assert_array_equal(a.predict_proba(train), b.predict_proba(train))
    # Prediction needs only the inputs, not the environment.
    np.testing.assert_array_equal(a.predict_proba(train.drop(columns="E")), a.predict_proba(train))


def test_erm_needs_no_environments():
    spec = ct.load_spec(NO_ENV)
    df = ct.SCM.from_spec(spec).sample(500, random_state=0)
    model = TorchERMClassifier(spec, epochs=200, random_state=0).fit(df, df["Y"])
    assert _accuracy(model, df) > 0.7


# -- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", METHODS)
def test_missing_environments_is_a_clear_error(cls, small):
    spec = ct.load_spec(NO_ENV)
    df = ct.SCM.from_spec(spec).sample(100, random_state=0)
    with pytest.raises(DataError, match="environments missing at fit"):
        cls(spec, epochs=2).fit(df, df["Y"])
    spec_c, train = small
    with pytest.raises(DataError, match=r"environments missing at fit.*'E'"):
        cls(spec_c, epochs=2).fit(train.drop(columns="E"), train["Y"])
    # Passing them by keyword works without an environment in the spec.
    cls(spec, epochs=2).fit(df, df["Y"], environments=np.arange(100) % 2)


@pytest.mark.parametrize("cls", ALL)
def test_bad_inputs_are_clear_errors(cls, small):
    spec, train = small
    with pytest.raises(DataError, match=r"X has 2 feature\(s\) \(columns\) but reads 3: "):
        cls(spec, epochs=2).fit(train[["C", "S"]].to_numpy(), train["Y"])
    with pytest.raises(DataError, match="needs a trust spec"):
        cls(epochs=2).fit(train, train["Y"])
    with pytest.raises(DataError, match=r"binary target coded 0/1 \(Unknown label type: y holds continuous"):
        cls(spec, epochs=2).fit(train, train["Y"] + 0.5)
    with pytest.raises(DataError, match="binary target"):
        cls(spec, epochs=2).fit(train, train["Y"] + 1)
    with pytest.raises(DataError, match="1-D"):
        cls(spec, epochs=2).fit(train, train["Y"].iloc[:10])
    with pytest.raises(DataError, match="lacks"):
        cls(spec, epochs=2).fit(train.drop(columns="S"), train["Y"])
    fitted = cls(spec, epochs=2, random_state=0).fit(train, train["Y"])
    with pytest.raises(DataError, match="2-D array in that order"):
        fitted.predict(train[["C", "S"]].to_numpy())
    # An array in the order of feature_names_in_ is read as those columns.
    order = list(fitted.feature_names_in_)
    np.testing.assert_array_equal(fitted.predict_proba(train[order].to_numpy()), fitted.predict_proba(train))
    again = cls(spec, epochs=2, random_state=0).fit(
        train[order].to_numpy(), train["Y"].to_numpy(), environments=train["E"].to_numpy()
    )
    np.testing.assert_array_equal(again.coefs_[0], fitted.coefs_[0])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"hidden": (0,)}, "hidden"),
        ({"hidden": "wide"}, "hidden"),
        ({"lr": 0.0}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 1}, "batch_size"),
        ({"lambda_": -1.0}, "lambda_"),
        ({"anneal_steps": -1}, "anneal_steps"),
        ({"n_threads": 0}, "n_threads"),
    ],
)
def test_bad_hyperparameters(params, match, small):
    spec, train = small
    with pytest.raises(InvalidParameterError, match=f"The '{match}' parameter of IRMClassifier must be"):
        IRMClassifier(spec, **params).fit(train, train["Y"])


def test_bad_eta_and_environment_labels(small):
    spec, train = small
    with pytest.raises(InvalidParameterError, match=r"'eta' parameter"):
        GroupDROClassifier(spec, eta=float("nan")).fit(train, train["Y"])
    with pytest.raises(DataError, match="fewer than 2 rows"):
        GroupDROClassifier(spec, epochs=2).fit(
            train, train["Y"], environments=np.r_[np.zeros(len(train) - 1), 1]
        )
    with pytest.raises(DataError, match="one label per row"):
        GroupDROClassifier(spec, epochs=2).fit(train, train["Y"], environments=np.zeros(3))


def test_missing_torch_names_the_extra(small, monkeypatch):
    import sys

    spec, train = small
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'causaltrust\[torch\]'"):
        IRMClassifier(spec, epochs=2).fit(train, train["Y"])


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="This IRMClassifier instance is not fitted yet"):
        IRMClassifier(COLORED).predict(pd.DataFrame({"C": [0], "S": [1], "N": [0.0]}))


def test_an_array_of_the_spec_s_width_is_refused_with_what_the_model_reads():
    """The family's inputs leave out the environment: an array of all the spec's features is refused by a
    message that says which columns are read and where the environment comes from; the environment column
    of a DataFrame is checked against the spec's declared categories like any spec column."""
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(300, random_state=0)
    model = IRMClassifier(spec, epochs=2, anneal_steps=1, random_state=0)
    with pytest.raises(
        DataError,
        match=r"X has 5 feature\(s\) \(columns\) but reads 4: its inputs \(the spec's features without the "
        r"environment 'E': fit reads it from that column of a DataFrame, or from environments=\) "
        r"\['A', 'X', 'Z', 'F'\]",
    ):
        model.fit(train[spec.features].to_numpy(), train["Y"])
    inputs = train[["A", "X", "Z", "F"]].to_numpy()
    with pytest.raises(
        DataError, match=r"environments missing at fit: .* or X as a DataFrame with the column 'E'"
    ):
        model.fit(inputs, train["Y"])
    assert model.fit(inputs, train["Y"], environments=train["E"]).environments_.tolist() == [0, 1, 2]
    with pytest.raises(
        DataError, match=r"column 'E' has values \[7\] that are not among its declared categories"
    ):
        model.fit(train.assign(E=7), train["Y"])
