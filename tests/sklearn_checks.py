"""One helper that runs scikit-learn's estimator checks on every causaltrust learner.

``contract_cases(estimators, expected)`` yields one pytest case per (estimator, check). A check listed in
``expected`` is a strict ``xfail`` whose reason is *verified*: :func:`run_check` turns the failure into
:class:`ExpectedCheckError` only when the exception chain holds the listed error type and message, and
the xfail mark accepts nothing else. A listed check that passes fails the run (strict), and a listed check
that fails for another reason fails it too. Nothing is non-strict.

The reasons a check truly cannot apply to a spec-aware learner (found with ``check_estimator(...,
on_fail=None)``, sklearn 1.9) are in :data:`SPEC_REASONS`: the checks feed arrays of their own width and
values, while the learner reads the spec's typed features (an array is accepted in the spec's feature
order, so every check whose array fits the spec runs and passes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from causaltrust.exceptions import DataError

__all__ = [
    "ARRAY_CHECKS",
    "DF_REASON",
    "SPEC_REASONS",
    "ExpectedCheckError",
    "Why",
    "check_name",
    "contract_cases",
    "run_check",
    "spec_expected",
]


class ExpectedCheckError(Exception):
    """A listed check failed for its listed reason (the only exception the xfail marks accept)."""


@dataclass(frozen=True)
class Why:
    """Why a check cannot apply: a one-line reason and the error (type and message regex) that shows it."""

    reason: str
    error: type[BaseException]
    match: str


WIDTH = Why(
    "the check's array has its own number of columns, not the spec's typed features",
    DataError,
    r"X has \d+ feature\(s\) \(columns\) but reads \d+: ",
)
BINARY = Why(
    "the check fills a binary spec feature with values other than 0/1",
    DataError,
    r"binary column '\w+' has values other than 0/1",
)
MULTICLASS = Why(
    "the check's target has 3 classes; the learner predicts the spec's binary target",
    DataError,
    r"predicts a binary target coded 0/1",
)
NO_ENVIRONMENT = Why(
    "the check's array has no environment column, which the method needs at fit",
    DataError,
    r"environments missing at fit",
)
CATEGORIES = Why(
    "the check fills a categorical spec feature whose categories are text with integers",
    DataError,
    r"column '\w+' has values .* that are not among its declared categories",
)
#: Every reason a check cannot apply to a spec-aware learner on the specs of the tests.
SPEC_REASONS = (WIDTH, BINARY, MULTICLASS, NO_ENVIRONMENT, CATEGORIES)


def check_name(check: Any) -> str:
    """The name of a check as scikit-learn lists it (``functools.partial`` unwrapped)."""
    return str(getattr(check, "func", check).__name__)


def _caused_by(exc: BaseException | None, why: Why) -> bool:
    while exc is not None:
        if isinstance(exc, why.error) and re.search(why.match, str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_check(estimator: Any, check: Any, expected: Mapping[str, Why | tuple[Why, ...]]) -> None:
    """Run ``check``; a listed check must fail for one of its listed reasons (then ExpectedCheckError)."""
    whys = expected.get(check_name(check))
    if whys is None:
        check(estimator)
        return
    whys = whys if isinstance(whys, tuple) else (whys,)
    try:
        check(estimator)
    except Exception as exc:
        if not any(_caused_by(exc, w) for w in whys):
            raise
        reason = "; ".join(w.reason for w in whys)
    else:
        return  # the strict xfail reports a listed check that passes
    # Outside the except block: pytest does not render sklearn's long traceback for every expected failure.
    raise ExpectedCheckError(reason)


def contract_cases(
    estimators: Iterable[Any], expected: Callable[[Any], Mapping[str, Why | tuple[Why, ...]]]
) -> list[Any]:
    """``pytest.param(estimator, check)`` for every check of every estimator; listed ones strict xfail."""
    out = []
    for est in estimators:
        listed = expected(est)
        for e, check in estimator_checks_generator(est, legacy=True, mark=None):
            name = check_name(check)
            whys = listed.get(name)
            marks = []
            if whys is not None:
                whys = whys if isinstance(whys, tuple) else (whys,)
                reason = "; ".join(w.reason for w in whys)
                marks = [pytest.mark.xfail(strict=True, raises=ExpectedCheckError, reason=reason)]
            kw = dict(getattr(check, "keywords", {}) or {})
            suffix = f"({', '.join(f'{k}={v}' for k, v in kw.items())})" if kw else ""
            out.append(pytest.param(e, check, marks=marks, id=f"{type(est).__name__}-{name}{suffix}"))
    return out


def spec_expected(table: Mapping[str, Why | tuple[Why, ...]]) -> Callable[[Any], Mapping[str, Any]]:
    """``expected`` for :func:`contract_cases` from a table ``{check name: reason(s)}``."""
    return lambda est: table


# -- the former list, kept for the text learners' tests (tests/text/test_learners.py) -----------------------
DF_REASON = "needs the spec's named DataFrame columns; the check feeds unnamed arrays"

ARRAY_CHECKS = (
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_one_label",
    "check_classifiers_regression_target",
    "check_classifiers_train",
    "check_complex_data",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_requires_y_none",
    "check_supervised_y_2d",
)
