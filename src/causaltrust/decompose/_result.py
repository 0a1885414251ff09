"""The read-only result of a disparity decomposition: TV and its direct, indirect and spurious parts."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from causaltrust._format import fmt_interval, fmt_num
from causaltrust.exceptions import DataError

__all__ = ["DisparityDecomposition", "Estimate", "LevelDecomposition"]

TERMS = ("tv", "de", "ie", "se")
TERM_NAMES = {
    "tv": "total variation (observed disparity)",
    "de": "ctf-DE (direct)",
    "ie": "ctf-IE (indirect)",
    "se": "ctf-SE (spurious)",
}


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval.

    Examples
    --------
    >>> e = Estimate(0.1, 0.05, 0.15)
    >>> e.interval
    (0.05, 0.15)
    """

    value: float
    low: float
    high: float

    @property
    def interval(self) -> tuple[float, float]:
        """``(low, high)``."""
        return (self.low, self.high)

    def __format__(self, spec: str) -> str:
        if not spec:  # the package's one number format (causaltrust._format)
            return f"{fmt_num(self.value, signed=True)} {fmt_interval(self.low, self.high, signed=True)}"
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


@dataclass(frozen=True)
class LevelDecomposition:
    """The decomposition for one contrast x0 = ``baseline`` → x1 = ``value``.

    ``tv = de - ie - se`` holds exactly for the point estimates (Plečko–Bareinboim x-specific signs):
    ``tv = E[Y | x1] - E[Y | x0]``, ``de = E[Y_{x1, W_{x0}} | x0] - E[Y | x0]``,
    ``ie = E[Y_{x1, W_{x0}} | x0] - E[Y_{x1} | x0]``, ``se = E[Y_{x1} | x0] - E[Y | x1]``.
    """

    value: Any
    n0: int
    n1: int
    tv: Estimate
    de: Estimate
    ie: Estimate
    se: Estimate
    scores: pd.DataFrame = field(repr=False, compare=False)
    # Terms the graph fixes at exactly 0 for this outcome, with the reason (the estimate is then 0 [0, 0]).
    exact: Mapping[str, str] = field(default_factory=dict)
    # ``"dr"``: share of the units whose estimated propensity was clipped to [0.01, 0.99].
    clipped: float = 0.0
    # ``"dr"`` with poor overlap: the four terms on the units whose propensities lie in [0.1, 0.9] (Crump
    # et al. 2009 trimming), ``(tv, de, ie, se)``, and how many units that keeps; None when overlap is good.
    trimmed: tuple[Estimate, Estimate, Estimate, Estimate] | None = None
    n_trimmed: int = 0


@dataclass(frozen=True)
class DisparityDecomposition:
    """How much of an observed disparity is direct, indirect (mediated) and spurious (confounded).

    Returned by :func:`causaltrust.decompose_disparity`; read-only. With one contrast (a binary protected
    attribute, or ``value=`` given) ``tv``, ``de``, ``ie`` and ``se`` are :class:`Estimate` objects;
    with several levels index by level (``dec["Hispanic"]``) or use :meth:`to_frame`.

    Attributes
    ----------
    outcome, protected : str
        The decomposed column and the protected attribute.
    baseline : object
        x0 (``fairness.baseline``).
    method : {"dr", "plugin"}
    levels : tuple of LevelDecomposition
        One per x1 value.
    confounders, mediators : tuple of str
        The Standard Fairness Model clusters read off the graph: Z (observed non-descendants of the
        protected attribute among the outcome's covariates) and W (observed descendants).
    interval : str
        How the 95% intervals were computed (and what they are conditional on).
    notes : tuple of str
        Assumptions and warnings (overlap, latent variables, what the SCM assumed).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("hiring")
    >>> df = scm.sample(3_000, random_state=0)
    >>> dec = ct.decompose_disparity(spec, data=df, outcome=spec.target, method="dr", learner="linear")
    >>> abs(dec.tv.value - (dec.de.value - dec.ie.value - dec.se.value)) < 1e-12
    True
    """

    outcome: str
    protected: str
    baseline: Any
    method: str
    levels: tuple[LevelDecomposition, ...]
    confounders: tuple[str, ...] = ()
    mediators: tuple[str, ...] = ()
    interval: str = ""
    notes: tuple[str, ...] = ()

    # -- views --------------------------------------------------------------------------------------
    def _single(self, term: str) -> Estimate:
        if len(self.levels) != 1:
            values = [lv.value for lv in self.levels]
            raise DataError(
                f"{self.protected!r} has {len(values)} contrasts ({values}): pick one with dec[value] "
                f"(e.g. dec[{values[0]!r}].{term}) or use dec.to_frame()"
            )
        est: Estimate = getattr(self.levels[0], term)
        return est

    @property
    def tv(self) -> Estimate:
        """Total variation ``E[Y | x1] - E[Y | x0]``: the observed difference in means."""
        return self._single("tv")

    @property
    def de(self) -> Estimate:
        """Counterfactual direct effect ``E[Y_{x1, W_{x0}} | x0] - E[Y_{x0} | x0]``."""
        return self._single("de")

    @property
    def ie(self) -> Estimate:
        """Counterfactual indirect effect ``E[Y_{x1, W_{x0}} | x0] - E[Y_{x1} | x0]`` (enters TV with -)."""
        return self._single("ie")

    @property
    def se(self) -> Estimate:
        """Counterfactual spurious effect ``E[Y_{x1} | x0] - E[Y | x1]`` (enters TV with -)."""
        return self._single("se")

    @property
    def value(self) -> Any:
        """x1, when there is one contrast."""
        if len(self.levels) != 1:
            raise DataError(f"{self.protected!r} has several contrasts; use dec.levels")
        return self.levels[0].value

    def __getitem__(self, value: Any) -> DisparityDecomposition:
        """The decomposition for one x1 level."""
        for lv in self.levels:
            if lv.value == value or str(lv.value) == str(value):
                return DisparityDecomposition(
                    self.outcome, self.protected, self.baseline, self.method, (lv,),
                    self.confounders, self.mediators, self.interval, self.notes,
                )  # fmt: skip
        raise KeyError(f"no contrast for {value!r}; have {[lv.value for lv in self.levels]}")

    def to_frame(self) -> pd.DataFrame:
        """One row per (x1 value, term): value, term, estimate, low, high, n0, n1, method.

        ``term`` is ``tv``, ``de``, ``ie`` or ``se``; ``tv = de - ie - se``.
        """
        rows = []
        for lv in self.levels:
            for t in TERMS:
                e: Estimate = getattr(lv, t)
                row = {
                    "value": lv.value, "term": t, "estimate": e.value, "low": e.low, "high": e.high,
                    "n0": lv.n0, "n1": lv.n1, "method": self.method, "exact": lv.exact.get(t),
                    "clipped": lv.clipped,
                }  # fmt: skip
                if lv.trimmed is not None:
                    tr = lv.trimmed[TERMS.index(t)]
                    row.update(trimmed=tr.value, trimmed_low=tr.low, trimmed_high=tr.high)
                rows.append(row)
        return pd.DataFrame(rows)

    def per_unit(self, value: Any = None) -> pd.DataFrame:
        """Per-unit scores behind the estimates (a copy), indexed like the data rows at x0 and x1.

        Columns ``x1`` (the unit is at x1), ``y`` (the outcome), ``s_de`` and ``s_se``: the means of
        ``s_de`` and ``s_se`` over the x0 rows are E[Y_{x1, W_{x0}} | x0] and E[Y_{x1} | x0] (their sums
        over all rows divided by n0 for ``"dr"``, whose x1 rows carry the weighted residual corrections).
        For ``"plugin"`` they are each x0 unit's own counterfactual outcome (its observed outcome plus the
        model's change), so ``s_de - y`` is the unit's direct effect under the SCM.
        """
        lv = self.levels[0] if value is None else self[value].levels[0]
        return lv.scores.copy()

    # -- display ------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        head = f"DisparityDecomposition({self.outcome!r} by {self.protected!r}, method={self.method!r})"
        lines = [head]
        for lv in self.levels:
            lines.append(f"  {self.baseline!r} -> {lv.value!r} (n0={lv.n0}, n1={lv.n1}):")
            for t in TERMS:
                why = f"  (exactly 0: {lv.exact[t]})" if t in lv.exact else ""
                lines.append(f"    {t.upper()} = {getattr(lv, t)}{why}")
        lines.append("  TV = DE - IE - SE; 95% intervals: " + self.interval)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for lv in self.levels:
            for t in TERMS:
                e: Estimate = getattr(lv, t)
                rows.append(
                    f"<tr><td>{esc(str(lv.value))}</td><td>{esc(TERM_NAMES[t])}</td>"
                    f"<td style='text-align:right'>{_num(e.value)}</td>"
                    f"<td style='text-align:right'>[{_num(e.low)}, {_num(e.high)}]</td></tr>"
                )
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        return (
            f"<div><b>{esc(self.outcome)}</b> by <b>{esc(self.protected)}</b> "
            f"(x0 = {esc(str(self.baseline))}, method {esc(self.method)})"
            "<table><tr><th>x1</th><th>term</th><th>estimate</th><th>95% interval</th></tr>"
            + "".join(rows)
            + f"</table><small>TV = DE &minus; IE &minus; SE. Intervals: {esc(self.interval)}</small>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


def _num(x: float) -> str:
    return fmt_num(x, signed=True)
