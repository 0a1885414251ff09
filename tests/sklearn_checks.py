"""scikit-learn estimator checks that cannot apply to spec-aware estimators.

Found empirically (``check_estimator(..., on_fail=None)``): each of these feeds unnamed NumPy arrays, and
every spec-aware estimator refuses them with its "reads per-row information from named columns" error.
Clone, get/set params, no attributes set in ``__init__``, not-fitted errors, repr and sparse-input messages
pass; pickling is tested separately on real DataFrames.
"""

from __future__ import annotations

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
