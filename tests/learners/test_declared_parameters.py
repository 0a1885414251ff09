"""Every learner declares its parameters once, as dataclass fields, keeping the scikit-learn contract.

Issue 29. The generated ``__init__`` must only store the parameters (scikit-learn reads them from its
signature), keep scikit-learn's repr and identity equality, and leave the public signatures as they were
before the fields: the positional parameters below are copied from the hand-written ``__init__``
signatures they replaced.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from sklearn.base import BaseEstimator

import causaltrust.learners as learners

LEARNERS = sorted(
    (getattr(learners, name) for name in learners.__all__),
    key=lambda obj: getattr(obj, "__name__", ""),
)
LEARNERS = [c for c in LEARNERS if inspect.isclass(c) and issubclass(c, BaseEstimator)]

# The positional parameters (in order) of the hand-written constructors the fields replaced.
POSITIONAL = {
    "AnchorClassifier": ["spec"],
    "AnchorRegressor": ["spec"],
    "BoundedGroupLossRegressor": ["spec", "estimator"],
    "CounterfactualAugmentationClassifier": ["spec", "estimator", "scm"],
    "CounterfactualAugmentationRegressor": ["spec", "estimator", "scm"],
    "CounterfactualFairClassifier": ["spec", "estimator", "scm"],
    "CounterfactualFairRegressor": ["spec", "estimator", "scm"],
    "DPLogisticRegression": ["target_epsilon", "target_delta", "max_grad_norm"],
    "DPMLPClassifier": ["hidden", "target_epsilon", "target_delta", "max_grad_norm"],
    "ERMClassifier": ["spec", "estimator"],
    "ERMRegressor": ["spec", "estimator"],
    "GroupDROClassifier": ["spec"],
    "IRMClassifier": ["spec"],
    "ImportanceWeightedClassifier": ["spec", "estimator"],
    "InputNoiseClassifier": ["spec", "estimator", "noise_scale", "random_state"],
    "RecenteringClassifier": ["spec", "estimator"],
    "ReductionsClassifier": ["spec", "estimator"],
    "SelectiveInvarianceClassifier": ["spec", "estimator", "scm"],
    "SelectiveInvarianceRegressor": ["spec", "estimator", "scm"],
    "SensitiveDPClassifier": ["spec", "estimator", "sensitive_epsilon"],
    "ThresholdOptimizerClassifier": ["spec", "estimator"],
    "TorchERMClassifier": ["spec"],
    "TorchLogisticRegression": [],
    "TorchMLPClassifier": ["hidden"],
    "UnawareClassifier": ["spec", "estimator"],
    "UnawareRegressor": ["spec", "estimator"],
    "VRExClassifier": ["spec"],
}


def test_every_public_learner_is_listed() -> None:
    assert sorted(c.__name__ for c in LEARNERS) == sorted(POSITIONAL)


@pytest.mark.parametrize("cls", LEARNERS, ids=lambda c: c.__name__)
def test_the_signature_is_the_fields(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    fields = dataclasses.fields(cls)
    params = list(inspect.signature(cls).parameters.values())
    kind = {False: inspect.Parameter.POSITIONAL_OR_KEYWORD, True: inspect.Parameter.KEYWORD_ONLY}
    assert sorted((p.name, p.kind, repr(p.default)) for p in params) == sorted(
        (f.name, kind[f.kw_only is True], repr(f.default)) for f in fields
    )
    positional = [p.name for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == POSITIONAL[cls.__name__]


@pytest.mark.parametrize("cls", LEARNERS, ids=lambda c: c.__name__)
def test_the_constructor_only_stores_its_arguments(cls: type) -> None:
    assert not any("__post_init__" in vars(k) for k in cls.__mro__)
    # scikit-learn's repr and identity equality (dataclass(repr=False, eq=False)).
    assert cls.__repr__ is BaseEstimator.__repr__
    assert cls.__eq__ is object.__eq__
    assert cls.__hash__ is object.__hash__
    values = {name: object() for name in cls._get_param_names()}
    est = cls(**values)
    assert set(vars(est)) == set(values)
    assert all(est.get_params(deep=False)[name] is value for name, value in values.items())


def test_defaults_restated_where_the_fields_merge() -> None:
    # DPMLPClassifier merges _DPSGD (lr=0.5 from the base) after _MLP (lr=0.1): the MLP default must hold.
    assert learners.DPMLPClassifier().lr == learners.TorchMLPClassifier().lr == 0.1
    assert learners.DPLogisticRegression().lr == learners.TorchLogisticRegression().lr == 0.5
