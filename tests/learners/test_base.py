"""The one fit preamble of spec-aware learners: frames, targets, seeds, settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.exceptions import DataError
from causaltrust.learners import ERMClassifier, SelectiveInvarianceClassifier
from causaltrust.learners._base import check_frame, check_target, derive_seed

SPEC, SCM = ct.scenarios.load("readmission")


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return SCM.sample(600, random_state=3)


def test_float_coded_discrete_columns_are_read_as_integers(rows: pd.DataFrame) -> None:
    X = rows[SPEC.features]
    as_float = X.astype({"A": float, "E": float, "Z": float})
    out = check_frame(as_float, SPEC.features, "t", spec=SPEC)
    assert {c: out[c].dtype.kind for c in ("A", "E", "Z")} == {"A": "i", "E": "i", "Z": "i"}
    pd.testing.assert_frame_equal(out[SPEC.features], X, check_dtype=False)
    as_bool = X.astype({"A": bool})
    assert check_frame(as_bool, SPEC.features, "t", spec=SPEC)["A"].dtype.kind == "i"
    with pytest.raises(DataError, match="'A'"):
        check_frame(X.assign(A=X["A"] + 0.5), SPEC.features, "t", spec=SPEC)


@pytest.mark.parametrize("cls", [SelectiveInvarianceClassifier, ERMClassifier])
def test_floats_and_ints_give_the_same_model(cls: type, rows: pd.DataFrame) -> None:
    # Row keys (the selective learner's abduction noise) hash the values: 1.0 and 1 must hash alike.
    X, y = rows[SPEC.features], rows[SPEC.target]
    kw = {"spec": SPEC, "random_state": 0, **({"scm": SCM, "n_draws": 2} if cls is not ERMClassifier else {})}
    ints = cls(**kw).fit(X, y)
    floats = cls(**kw).fit(X.astype(float), y.astype(float))
    np.testing.assert_array_equal(ints.predict_proba(X), floats.predict_proba(X.astype(float)))


def test_frames_that_cannot_be_read_are_refused(rows: pd.DataFrame) -> None:
    X = rows[SPEC.features]
    with pytest.raises(DataError, match="column names must be strings"):
        check_frame(
            X.set_axis(pd.MultiIndex.from_product([["a"], SPEC.features]), axis=1), SPEC.features, "t"
        )
    with pytest.raises(DataError, match="column names must be strings"):
        check_frame(X.set_axis(range(5), axis=1), SPEC.features, "t")
    with pytest.raises(DataError, match="duplicate column names"):
        check_frame(pd.concat([X, X[["F"]]], axis=1), SPEC.features, "t")
    with pytest.raises(DataError, match="NaN or infinite"):
        check_frame(
            X.assign(F=np.where(X.index == X.index[0], np.inf, X["F"])), SPEC.features, "t", spec=SPEC
        )
    with pytest.raises(DataError, match=r"X must be 2-D"):
        check_frame(X["F"].to_numpy(), SPEC.features, "t", arrays=True)
    with pytest.raises(DataError, match="Complex data not supported"):
        check_frame(np.ones((3, 5), dtype=complex), SPEC.features, "t", arrays=True)
    # An array in the spec's order is those columns.
    pd.testing.assert_frame_equal(
        check_frame(X.to_numpy(), SPEC.features, "t", spec=SPEC, arrays=True),
        X.reset_index(drop=True),
        check_dtype=False,
    )


def test_targets() -> None:
    np.testing.assert_array_equal(check_target([0.0, 1.0, 1.0], 3, "t"), [0, 1, 1])
    assert check_target([0.0, 1.0, 1.0], 3, "t").dtype == np.int64
    with pytest.raises(DataError, match="y holds continuous values"):
        check_target([0.5, 1.0], 2, "t")
    with pytest.raises(DataError, match="single class"):
        check_target([1, 1], 2, "t")
    with pytest.raises(DataError, match=r"binary target coded 0/1 \(Unknown label type: y holds labels"):
        check_target(["a", "b"], 2, "t")
    with pytest.raises(DataError, match="missing values"):
        check_target([0.0, np.nan], 2, "t")
    np.testing.assert_array_equal(check_target([0.5, 2.0], 2, "t", "continuous"), [0.5, 2.0])
    with pytest.raises(DataError, match="infinite"):
        check_target([0.5, np.inf], 2, "t", "continuous")


def test_random_state_has_scikit_learns_meaning() -> None:
    assert derive_seed(7) == 7
    assert derive_seed(np.random.default_rng(1)) == derive_seed(np.random.default_rng(1))
    # None: fresh entropy per call (two 63-bit draws collide with probability 2^-63).
    assert derive_seed(None) != derive_seed(None)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking that the legacy global is untouched
    derive_seed(None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_unseeded_fit_is_fresh_but_its_predictions_are_fixed(rows: pd.DataFrame) -> None:
    X, y = rows[SPEC.features], rows[SPEC.target]
    a = SelectiveInvarianceClassifier(spec=SPEC, scm=SCM, n_draws=2).fit(X, y)
    b = SelectiveInvarianceClassifier(spec=SPEC, scm=SCM, n_draws=2).fit(X, y)
    assert a.seed_ != b.seed_
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_settings_are_checked_by_scikit_learn(rows: pd.DataFrame) -> None:
    X, y = rows[SPEC.features], rows[SPEC.target]
    with pytest.raises(InvalidParameterError, match=r"'n_draws' parameter .* range \[1, inf\)\. Got 0"):
        SelectiveInvarianceClassifier(spec=SPEC, n_draws=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'spec' parameter of ERMClassifier"):
        ERMClassifier(spec=3.5).fit(X, y)


def test_design_encodes_an_unseen_category_as_the_training_shares() -> None:
    """Numbers pass through, known categories are one-hot, an unseen one (code -1) is the training shares."""
    from causaltrust.learners._base import Design
    from causaltrust.scm._data import VariableMeta

    meta = {
        "E": VariableMeta("E", "categorical", (0, 1, 2), True),
        "X": VariableMeta("X", "continuous", (), True),
    }
    train = {"E": np.array([0, 0, 0, 1, 2, 2, 0, 1]), "X": np.arange(8.0)}
    design = Design(meta, ["X", "E"]).fit(train)
    assert design.names == ["X", "E=0", "E=1", "E=2"]
    Z = design.transform({"E": np.array([2, -1]), "X": np.array([0.5, -3.0])})
    shares = np.array([4, 2, 2]) / 8  # counted by hand from ``train``
    np.testing.assert_array_equal(Z, [[0.5, 0.0, 0.0, 1.0], [-3.0, *shares]])
