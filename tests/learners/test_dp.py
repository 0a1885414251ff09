"""DP-SGD classifiers, their non-private twins and the input-noise baseline (causaltrust.learners._dp)."""

from __future__ import annotations

import itertools
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.exceptions import DataError
from causaltrust.learners._dp import (
    DP_NOISE_SEED_ENV,
    DPLogisticRegression,
    DPMLPClassifier,
    InputNoiseClassifier,
    TorchLogisticRegression,
    TorchMLPClassifier,
    _per_example_grads,
    _poisson_indices,
    gaussian_obfuscation,
)

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")

pytestmark = pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha")


@pytest.fixture(scope="module")
def readmission() -> tuple[Any, Any]:
    return ct.scenarios.load("readmission")


def _encode(df: pd.DataFrame) -> np.ndarray:
    """Readmission features with the hospital one-hot encoded (reference level 0)."""
    e = df["E"].to_numpy()
    return np.column_stack([df["A"], e == 1, e == 2, df["X"], df["Z"], df["F"]]).astype(np.float64)


# -- privacy accounting --------------------------------------------------------------------------------

# get_noise_multiplier's default epsilon_tolerance (opacus/accountants/utils.py, Opacus 1.6): the calibrated
# sigma spends epsilon in [target - 0.01, target]; 1e-9 absorbs float rounding of the replayed accountant.
_EPS_TOLERANCE = 0.01


def _within_budget(eps: float, target: float) -> bool:
    return target - _EPS_TOLERANCE - 1e-9 <= eps <= target


def test_the_calibration_tolerance_is_opacus_default() -> None:
    # The library calls get_noise_multiplier without epsilon_tolerance: the bound above is Opacus's default.
    import inspect

    from opacus.accountants.utils import get_noise_multiplier

    assert inspect.signature(get_noise_multiplier).parameters["epsilon_tolerance"].default == _EPS_TOLERANCE


@pytest.mark.parametrize("target", [0.5, 1.0, 8.0])
def test_reported_epsilon_within_target(target: float) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=3000) > 0).astype(int)
    clf = DPLogisticRegression(target_epsilon=target, epochs=3, random_state=0).fit(X, y)
    # Opacus 1.6's get_noise_multiplier(..., epsilon_tolerance=0.01) bisects sigma and returns the upper
    # end, whose epsilon is <= target and within epsilon_tolerance of it; the accountant replays exactly
    # the planned steps, so the spent epsilon is in [target - 0.01, target]: never over the budget.
    assert _within_budget(clf.privacy_epsilon_, target), clf.privacy_epsilon_
    assert clf.privacy_delta_ == 1e-5
    assert clf.n_steps_ == 3 * int(np.ceil(3000 / 256))


def test_prv_accountant_and_mlp_report_epsilon() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 3))
    y = (X[:, 0] > 0).astype(int)
    for clf in (
        DPLogisticRegression(target_epsilon=2.0, accountant="prv", epochs=2, random_state=0),
        DPMLPClassifier(target_epsilon=2.0, epochs=2, random_state=0),
    ):
        clf.fit(X, y)
        assert _within_budget(clf.privacy_epsilon_, 2.0), (clf, clf.privacy_epsilon_)


def test_every_step_accounted_including_empty_batches() -> None:
    # 6 rows, expected batch 1: q = 1/6 and about a third of the steps draw an empty batch. Each step,
    # empty or not, releases noise and must be accounted: replay the plan in a fresh Opacus accountant.
    from opacus.accountants import RDPAccountant

    X = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1, 0, 1, 0, 1])
    clf = DPLogisticRegression(target_epsilon=2.0, epochs=30, batch_size=1, random_state=0).fit(X, y)
    assert clf.n_steps_ == 180
    assert clf.sample_rate_ == pytest.approx(1 / 6)
    replay = RDPAccountant()
    replay.history = [(clf.noise_multiplier_, clf.sample_rate_, clf.n_steps_)]
    assert clf.privacy_epsilon_ == pytest.approx(replay.get_epsilon(delta=1e-5), rel=1e-12)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_poisson_indices_are_bernoulli_inclusion() -> None:
    # Each row must be included independently with probability q: check the batch-size mean/variance
    # (binomial) and that every row's inclusion count is Binomial(steps, q).
    n, q, steps = 200, 0.1, 4000
    gen = torch.Generator().manual_seed(0)
    counts = np.zeros(n)
    sizes = np.empty(steps)
    for s in range(steps):
        idx = _poisson_indices(n, q, gen).numpy()
        assert len(np.unique(idx)) == len(idx)
        assert (idx >= 0).all()
        assert (idx < n).all()
        counts[idx] += 1
        sizes[s] = len(idx)
    se_mean = np.sqrt(n * q * (1 - q) / steps)
    assert abs(sizes.mean() - n * q) < 5 * se_mean
    assert abs(sizes.var() / (n * q * (1 - q)) - 1) < 0.15  # binomial variance, not fixed-size batches
    # Each row's count is Binomial(steps, q), independently of the others: the sum over the n rows of its
    # squared standardised deviation is chi-square with n = 200 degrees of freedom (mean 200, sd 20). Rows
    # sampled at unequal rates push it up, sampling schemes that equalise the rows' counts (round robin,
    # shuffled passes) push it down; outside its two-sided 1e-6 quantiles a Bernoulli sampler lands with
    # probability 2e-6.
    from scipy.stats import chi2

    stat = float((((counts - steps * q) ** 2) / (steps * q * (1 - q))).sum())
    assert chi2.ppf(1e-6, n) < stat < chi2.isf(1e-6, n)
    freq = counts / steps
    # first and last rows are sampled like the others (no edge effect of the geometric gaps)
    assert abs(freq[:20].mean() - q) < 5 * np.sqrt(q * (1 - q) / (20 * steps))
    assert abs(freq[-20:].mean() - q) < 5 * np.sqrt(q * (1 - q) / (20 * steps))


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
@pytest.mark.parametrize("k", [2, 3])
def test_per_example_grads_match_opacus_grad_sample(hidden: tuple[int, ...], k: int) -> None:
    from opacus import GradSampleModule

    gen = torch.Generator().manual_seed(0)
    sizes = [4, *hidden, 1 if k == 2 else k]
    layers: list[Any] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        lin = torch.nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=gen))
            lin.bias.copy_(torch.randn(b, generator=gen))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    x = torch.randn(7, 4, generator=gen)
    y = torch.randint(0, k, (7,), generator=gen)
    gsm = GradSampleModule(net, loss_reduction="sum")
    out = gsm(x)
    if k == 2:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], y.float(), reduction="sum")
    else:
        loss = torch.nn.functional.cross_entropy(out, y, reduction="sum")
    loss.backward()
    expected = [p.grad_sample for p in net.parameters()]
    params = [p.detach() for p in net.parameters()]
    ours = _per_example_grads(torch, params, x, y.float() if k == 2 else y, 1 if k == 2 else k)
    for e, o in zip(expected, ours, strict=True):
        torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-5)


# -- the flagship and the audit ------------------------------------------------------------------------


def test_flagship_forwards_epsilon_and_audit_reports_it(readmission: tuple[Any, Any]) -> None:
    spec, scm = readmission
    train = scm.sample(2000, random_state=1)
    test = scm.sample(1000, random_state=2)
    clf = ct.learners.SelectiveInvarianceClassifier(
        spec=spec,
        scm=scm,
        estimator=DPLogisticRegression(target_epsilon=1.0, epochs=5),
        # One mapped row per unit: with n_draws copies a unit is k rows of the DP estimator's data, and
        # its own guarantee is only group privacy over k rows.
        n_draws=1,
        random_state=0,
    ).fit(train[spec.features], train[spec.target])
    eps = clf.privacy_epsilon_
    assert eps == clf.estimator_.privacy_epsilon_
    assert _within_budget(eps, 1.0), eps
    rep = ct.audit(
        clf,
        spec=spec,
        scm=scm,
        data=test,
        train_data=train,
        objectives=["privacy"],
        n_shadow=0,
        n_bootstrap=50,
    )
    assert rep.metric("privacy.epsilon").value == eps


def test_membership_advantage_falls_with_epsilon(readmission: tuple[Any, Any]) -> None:
    # A wide MLP trained for many epochs on 500 rows memorises its training set; DP-SGD at the same
    # settings must leak less. Members and non-members: 500 each, so a Yeom advantage has a standard
    # error of about sqrt(2 * 0.25 / 500) ~ 0.03 and the audit's 95% bootstrap half-width is ~0.055.
    spec, scm = readmission
    train = scm.sample(500, random_state=1)
    test = scm.sample(2000, random_state=2)
    kw: dict[str, Any] = {"hidden": (128,), "epochs": 400, "batch_size": 64, "lr": 0.1, "random_state": 0}
    models = {
        "inf": TorchMLPClassifier(**kw),
        "8": DPMLPClassifier(target_epsilon=8.0, **kw),
        "1": DPMLPClassifier(target_epsilon=1.0, **kw),
    }
    adv, half = {}, {}
    for key, model in models.items():
        model.fit(train[spec.features], train[spec.target])
        rep = ct.audit(
            model,
            spec=spec,
            scm=scm,
            data=test,
            train_data=train,
            objectives=["privacy"],
            n_shadow=0,
            n_bootstrap=200,
        )
        m = rep.metric("privacy.mia_advantage")
        adv[key] = m.value
        half[key] = (m.interval[1] - m.interval[0]) / 2
        assert rep.metric("privacy.epsilon").value == getattr(model, "privacy_epsilon_", np.inf)
    # The non-private model overfits measurably: its advantage's interval excludes zero.
    assert adv["inf"] - half["inf"] > 0
    # ε = 1 leaks clearly less than no DP: the gap exceeds the non-private interval's half-width.
    assert adv["inf"] - adv["1"] > half["inf"]
    # Monotone up to sampling error: each step down in ε may not raise the advantage by more than the
    # bootstrap half-width of the larger-ε value.
    assert adv["8"] <= adv["inf"] + half["inf"]
    assert adv["1"] <= adv["8"] + half["8"]


def test_dp_accuracy_at_eps8_close_to_non_private(readmission: tuple[Any, Any]) -> None:
    spec, scm = readmission
    train, test = scm.sample(5000, random_state=1), scm.sample(20000, random_state=2)
    Xtr, Xte = _encode(train), _encode(test)
    ytr, yte = train[spec.target].to_numpy(), test[spec.target].to_numpy()
    ref = LogisticRegression(max_iter=1000).fit(Xtr, ytr).score(Xte, yte)
    twin = TorchLogisticRegression(random_state=0).fit(Xtr, ytr).score(Xte, yte)
    dp = DPLogisticRegression(target_epsilon=8.0, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    # 20,000 test rows: accuracy standard error ~0.003; "a few points" = 3.
    assert abs(twin - ref) < 0.01
    assert dp > ref - 0.03


# -- determinism, pickling, inputs ---------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*DP noise seeded:UserWarning")
@pytest.mark.parametrize(
    "make",
    [
        # The DP learners are reproducible only through the test switch: the noise seed.
        lambda s: DPLogisticRegression(target_epsilon=1.0, epochs=3, dp_noise_seed=s, random_state=s),
        lambda s: DPMLPClassifier(target_epsilon=1.0, epochs=3, dp_noise_seed=s, random_state=s),
        lambda s: TorchMLPClassifier(epochs=3, random_state=s),
    ],
)
def test_same_seed_same_predictions_and_pickle(make: Any) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    state = torch.random.get_rng_state()
    a, b, c = make(7).fit(X, y), make(7).fit(X, y), make(8).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)  # global torch RNG untouched
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict_proba(X), a.predict_proba(X))


# -- secret noise (issue 33) -----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [DPLogisticRegression, DPMLPClassifier])
def test_dp_noise_is_secret_not_from_random_state(cls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Same random_state, same data: the released weights must differ (the noise and the Poisson batches
    # come from the OS's generator), while ε, a function of (sigma, q, steps) only, is identical.
    monkeypatch.delenv(DP_NOISE_SEED_ENV, raising=False)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)
    a = cls(target_epsilon=1.0, epochs=2, random_state=0).fit(X, y)
    b = cls(target_epsilon=1.0, epochs=2, random_state=0).fit(X, y)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])
    assert a.privacy_epsilon_ == b.privacy_epsilon_
    assert a.privacy_epsilon_parts_ == {"model": (a.privacy_epsilon_, "DP-SGD, Opacus accountant")}
    # The accountant's ε equals a fresh Opacus accountant replaying the same (sigma, q, steps).
    from opacus.accountants import RDPAccountant

    replay = RDPAccountant()
    replay.history = [(a.noise_multiplier_, a.sample_rate_, a.n_steps_)]
    assert a.privacy_epsilon_ == pytest.approx(replay.get_epsilon(delta=1e-5), rel=1e-12)


def test_dp_noise_seed_is_reproducible_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int)
    monkeypatch.delenv(DP_NOISE_SEED_ENV, raising=False)
    with pytest.warns(UserWarning, match="only if that seed is secret"):
        a = DPLogisticRegression(epochs=2, dp_noise_seed=11).fit(X, y)
    monkeypatch.setenv(DP_NOISE_SEED_ENV, "11")
    with pytest.warns(UserWarning, match="only if that seed is secret"):
        b = DPLogisticRegression(epochs=2).fit(X, y)  # the environment variable, same seed
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    with pytest.warns(UserWarning, match="only if that seed is secret"):
        c = DPLogisticRegression(epochs=2, dp_noise_seed=12).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    monkeypatch.setenv(DP_NOISE_SEED_ENV, "abc")
    with pytest.raises(ValueError, match="CAUSALTRUST_DP_NOISE_SEED"):
        DPLogisticRegression(epochs=1).fit(X, y)


def test_thread_setting_restored() -> None:
    before = torch.get_num_threads()
    X = np.random.default_rng(0).normal(size=(100, 2))
    DPLogisticRegression(epochs=1, random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    assert torch.get_num_threads() == before


@pytest.mark.filterwarnings("ignore:.*DP noise seeded:UserWarning")
def test_dataframe_inputs_and_errors() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.integers(0, 3, 300)})
    y = (df["a"] > 0).astype(int)
    clf = DPLogisticRegression(epochs=2, dp_noise_seed=0, random_state=0).fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b"]
    on_array = DPLogisticRegression(epochs=2, dp_noise_seed=0, random_state=0).fit(df.to_numpy(), y)
    np.testing.assert_array_equal(clf.predict_proba(df), on_array.predict_proba(df.to_numpy()))
    with pytest.raises(DataError, match=r"\['c'\] are not numeric"):
        DPLogisticRegression().fit(df.assign(c=["x"] * 300), y)
    with pytest.raises(InvalidParameterError, match=r"'target_epsilon' parameter .* range \(0.0, inf\)"):
        DPLogisticRegression(target_epsilon=0).fit(df, y)
    with pytest.raises(InvalidParameterError, match=r"'target_epsilon' parameter"):
        DPLogisticRegression(target_epsilon=float("inf")).fit(df, y)
    for delta in (0.0, 1.0, -1e-5):
        with pytest.raises(ValueError, match=r"'target_delta' parameter .* range \(0.0, 1.0\)"):
            DPLogisticRegression(target_delta=delta).fit(df, y)
    with pytest.raises(InvalidParameterError, match=r"'max_grad_norm' parameter"):
        DPLogisticRegression(max_grad_norm=0).fit(df, y)
    with pytest.raises(InvalidParameterError, match=r"'accountant' parameter .* str among"):
        DPLogisticRegression(accountant="gdp").fit(df, y)
    with pytest.raises(InvalidParameterError, match=r"'epochs' parameter .* int in the range \[1, inf\)"):
        DPMLPClassifier(epochs=0).fit(df, y)
    with pytest.raises(InvalidParameterError, match=r"'hidden' parameter .* a tuple of positive ints"):
        DPMLPClassifier(hidden=(0,)).fit(df, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        TorchLogisticRegression().fit(df, np.zeros(300))
    with pytest.raises(InvalidParameterError, match=r"'random_state' parameter .*Generator'. Got 'x'"):
        TorchLogisticRegression(random_state="x").fit(df, y)


def test_multiclass() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 2))
    y = np.array(["a", "b", "c"])[np.argmax(np.column_stack([X[:, 0], X[:, 1], -X.sum(1)]), axis=1)]
    clf = TorchLogisticRegression(random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    p = clf.predict_proba(X)
    assert p.shape == (900, 3)
    assert np.allclose(p.sum(1), 1.0)


# -- input noise ---------------------------------------------------------------------------------------


def test_gaussian_obfuscation_scales_masked_columns() -> None:
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50_000, 3)) * np.array([1.0, 4.0, 2.0])
    out = gaussian_obfuscation(Z, [True, True, False], 0.5, np.random.default_rng(1))
    diff = out - Z
    # noise sd = 0.5 * column sd; relative standard error of an sd estimate at n = 50,000 is ~0.3%
    np.testing.assert_allclose(diff[:, :2].std(axis=0), 0.5 * Z[:, :2].std(axis=0), rtol=0.02)
    assert (diff[:, 2] == 0).all()
    assert not np.shares_memory(out, Z)
    with pytest.raises(ValueError, match="one entry per column"):
        gaussian_obfuscation(Z, [True], 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-negative"):
        gaussian_obfuscation(Z, [True, True, True], -1.0, np.random.default_rng(0))


def test_input_noise_classifier(readmission: tuple[Any, Any]) -> None:
    spec, scm = readmission
    train, test = scm.sample(3000, random_state=1), scm.sample(3000, random_state=2)
    X, y = train[spec.features], train[spec.target]
    clean = InputNoiseClassifier(spec, noise_scale=0.0, random_state=0).fit(X, y)
    noisy = InputNoiseClassifier(spec, noise_scale=2.0, random_state=0).fit(X, y)
    again = InputNoiseClassifier(spec, noise_scale=2.0, random_state=0).fit(X, y)
    ref = LogisticRegression(max_iter=1000).fit(
        clean.design_.transform({f: X[f].to_numpy() for f in spec.features}), y
    )
    Xt = test[spec.features]
    # noise_scale=0 is the plain model on the encoding
    np.testing.assert_allclose(clean.predict_proba(Xt), ref.predict_proba(clean._encode(Xt)), atol=1e-12)
    np.testing.assert_array_equal(noisy.predict_proba(Xt), again.predict_proba(Xt))
    # noise in the inputs attenuates the fitted coefficients (regression dilution): the lab value's
    # coefficient shrinks by about 1 / (1 + scale^2) = 0.2
    j = clean.design_.names.index("X")
    ratio = noisy.estimator_.coef_[0, j] / clean.estimator_.coef_[0, j]
    assert 0.1 < ratio < 0.4
    assert noisy.privacy_epsilon_ == np.inf
    with pytest.raises(DataError, match="needs a trust spec"):
        InputNoiseClassifier().fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'noise_scale' parameter"):
        InputNoiseClassifier(spec, noise_scale=-1).fit(X, y)
