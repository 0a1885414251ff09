"""Privacy methods of a sweep beyond DP-SGD (issue 33): path-targeted randomized response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from causaltrust.bench._registry import MethodSpec, register
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["build_sensitive_rr"]


def build_sensitive_rr(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """``SensitiveDPClassifier``: k-ary randomized response on the spec's ``privacy.sensitive`` variables.

    ``privacy.sensitive_epsilon`` is ``epsilon`` in closed form; ``privacy.epsilon`` is ∞ (the other columns
    and the label are not private). ``debias`` de-biases through the known channel.
    """
    from causaltrust.learners import SensitiveDPClassifier

    return SensitiveDPClassifier(
        spec=spec,
        sensitive_epsilon=float(params["epsilon"]),
        debias=bool(params["debias"]),
        random_state=seed,
    )


register(
    MethodSpec(
        "sensitive_rr",
        "randomized response on the spec's privacy.sensitive variables (ε on them in closed form), de-biased "
        "through the known channel; the other columns and the label are not private",
        "path-targeted privacy (privacy.sensitive only)",
        build_sensitive_rr,
        {"epsilon": 1.0, "debias": True},
    )
)
