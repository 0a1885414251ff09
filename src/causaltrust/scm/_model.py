"""The structural causal model: sampling, interventions, counterfactuals and path counterfactuals."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust._random import purpose_rng
from causaltrust.exceptions import DataError, GraphError, IdentificationError, SpecError
from causaltrust.scm._data import VariableMeta, columns_to_frame, frame_to_columns, value_to_internal
from causaltrust.scm._mechanisms import (
    BernoulliMechanism,
    CategoricalMechanism,
    ConstantMechanism,
    DeterministicMechanism,
    Mechanism,
    Noise,
    from_equation,
)
from causaltrust.scm._paths import MultiPathWorld, reporting_signatures
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["SCM", "Abduction"]

Array = np.ndarray
Path = tuple[str, ...]


@dataclass(frozen=True)
class Abduction:
    """Noise abducted from units by :meth:`SCM.abduct`, reusable across counterfactual worlds.

    Attributes
    ----------
    columns : dict
        Factual internal columns (category codes) with the needed latent variables recovered; ``n_units *
        n_draws`` rows, unit-major (the draws of unit 0 first).
    noise : dict
        :class:`Noise` per abducted node.
    n_units, n_draws : int
        Units of the data and posterior draws per unit.
    """

    columns: dict[str, Array]
    noise: dict[str, Noise]
    n_units: int
    n_draws: int

    @property
    def n(self) -> int:
        """Rows of every column: ``n_units * n_draws``."""
        return self.n_units * self.n_draws


class SCM:
    """A structural causal model over a trust spec's variables: one mechanism per node.

    Build one from a spec whose variables all have equations (:meth:`from_spec`) or learn the mechanisms
    from data (:meth:`fit`). SCMs are immutable: :meth:`intervene` and :meth:`shift` return new ones.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(1000, random_state=0)
    >>> cf = scm.counterfactual(df.drop(columns="L"), do={"A": 0}, random_state=0)
    >>> bool((cf["A"] == 0).all())
    True
    """

    def __init__(
        self,
        spec: TrustSpec,
        mechanisms: Mapping[str, Mechanism],
        *,
        categories: Mapping[str, tuple[Any, ...]] | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        missing = [v for v in spec.variables if v not in mechanisms]
        if missing:
            raise SpecError(f"no mechanism for {missing}")
        self.mechanisms: dict[str, Mechanism] = {v: mechanisms[v] for v in spec.variables}
        cats = {n: tuple(v.categories) for n, v in spec.variables.items() if v.categories}
        cats.update(categories or {})
        self.meta: dict[str, VariableMeta] = {
            n: VariableMeta(n, v.type, cats.get(n, ()), v.observed) for n, v in spec.variables.items()
        }
        self.parents: dict[str, tuple[str, ...]] = {v: m.parents for v, m in self.mechanisms.items()}
        for v, pas in self.parents.items():
            for p in pas:
                if p not in self.mechanisms:
                    raise GraphError(f"the mechanism of {v!r} uses {p!r}, which is not a variable")
        self.order: tuple[str, ...] = tuple(_dag.topological_order(self.parents))
        self.provenance: dict[str, Any] = dict(provenance or {"source": "equations"})

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: TrustSpec | Mapping[str, Any] | str | os.PathLike[str]) -> SCM:
        """The SCM given by the spec's equations (every variable needs one).

        Raises
        ------
        SpecError
            Naming the variables without an equation (fit those with :meth:`fit`).
        """
        spec = load_spec(spec)
        missing = [v for v in spec.variables if spec.equation(v) is None]
        if missing:
            raise SpecError(
                f"variables {missing} have no equation, so the spec cannot be simulated; give them "
                "equations, or learn their mechanisms from data with ct.SCM.fit(spec, data)"
            )
        mechs = {}
        for v, var in spec.variables.items():
            eq = spec.equation(v)
            assert eq is not None
            mechs[v] = from_equation(eq, var.engine_type, tuple(var.categories or ()), v)
        return cls(spec, mechs, provenance={"source": "equations"})

    @classmethod
    def fit(
        cls,
        spec: TrustSpec | Mapping[str, Any] | str | os.PathLike[str],
        data: pd.DataFrame,
        *,
        mechanisms: str | Mapping[str, Any] = "auto",
        random_state: int | None = None,
        cv: int = 3,
        assume: Sequence[str] = (),
    ) -> SCM:
        """Learn every mechanism ``data`` identifies (see :func:`causaltrust.scm._fit.fit_scm`).

        Spec equations are ignored except for variables named in ``assume`` (or marked ``assume: true``);
        a latent is recovered through its ``measures:`` child. ``provenance["nodes"]`` says, per variable,
        whether it was learned or assumed, the model, how it was chosen (``selection``), its CV score
        (None when the model class was given: nothing was chosen, nothing scored) and the equation. Inside
        :func:`causaltrust.scm.reuse_fits` a fit with the same inputs is computed once.
        """
        from causaltrust.scm._fit import fit_scm
        from causaltrust.scm._reuse import fit_key, memo

        spec = load_spec(spec)
        fits = memo()
        key = fit_key(spec, data, mechanisms, random_state, cv, assume) if fits is not None else None
        if fits is not None and key is not None and key in fits:
            return fits[key]
        scm = fit_scm(cls, spec, data, mechanisms=mechanisms, random_state=random_state, cv=cv, assume=assume)
        if fits is not None and key is not None:
            fits[key] = scm
        return scm

    def refit(
        self,
        nodes: Iterable[str],
        data: pd.DataFrame,
        *,
        mechanisms: str = "auto",
        random_state: int | None = 0,
        cv: int = 3,
    ) -> SCM:
        """A new SCM whose mechanisms of ``nodes`` are learned again from ``data``; the others are kept.

        Each node's mechanism is fitted with :meth:`fit` (the same model classes and CV choice) on the
        sub-model of its observed ancestors, so ``data`` needs the nodes and their observed ancestors, and
        every node's parents must be observed. Used by ``adapt`` to re-estimate a spurious mechanism on
        unlabeled rows of a new environment (sparse mechanism shift).

        Parameters
        ----------
        nodes : iterable of str
            Observed variables whose parents are all observed.
        data : DataFrame
            Rows holding the nodes and their observed ancestors.
        mechanisms : {"auto", "linear"}
            Model classes, as in :meth:`fit`.
        random_state : int or None
            Seed of the fits.
        cv : int
            Cross-validation folds of the model choice.

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec, true = ct.scenarios.load("readmission")
        >>> rows = true.sample(2_000, random_state=0)
        >>> new = true.refit(["Z"], rows, mechanisms="linear")
        >>> new.provenance["nodes"]["Z"]["status"], new.mechanisms["A"] is true.mechanisms["A"]
        ('learned', True)
        """
        nodes = list(dict.fromkeys(nodes))
        mechs = dict(self.mechanisms)
        prov = {**self.provenance, "nodes": dict(self.provenance.get("nodes", {}))}
        for node in nodes:
            if node not in self.mechanisms:
                raise SpecError(f"SCM.refit: unknown variable {node!r}; the SCM has {list(self.mechanisms)}")
            latent = [p for p in (node, *self.parents[node]) if not self.meta[p].observed]
            if latent:
                raise IdentificationError(
                    f"SCM.refit: {node!r} has latent variables among itself and its parents ({latent}); "
                    "refit re-learns mechanisms of observed variables from observed parents only"
                )
            keep = _dag.ancestors(self.parents, [node]) | {node}
            keep = {v for v in keep if self.meta[v].observed}
            missing = [v for v in self.mechanisms if v in keep and v not in data.columns]
            if missing:
                raise DataError(f"SCM.refit: re-learning {node!r} needs the column(s) {missing}")
            sub = {
                "target": node,
                "variables": {
                    v: {
                        "type": self.meta[v].vtype,
                        **({"categories": list(self.meta[v].categories)} if self.meta[v].categories else {}),
                        "parents": [p for p in self.parents[v] if p in keep],
                    }
                    for v in self.mechanisms
                    if v in keep
                },
            }
            small = load_spec(sub)
            frame = data[list(small.variables)]
            fitted = SCM.fit(small, frame, mechanisms=mechanisms, random_state=random_state, cv=cv)
            mechs[node] = fitted.mechanisms[node]
            prov["nodes"][node] = fitted.provenance["nodes"][node]
        cats = {v: m.categories for v, m in self.meta.items() if m.categories}
        return SCM(self.spec, mechs, categories=cats, provenance={**prov, "refit": nodes})

    def provenance_notes(self) -> list[str]:
        """One line per variable of a fitted SCM: learned (model, CV score) or assumed (and why).

        Empty for an SCM built from equations (every mechanism is then the spec's).

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec, true = ct.scenarios.load("readmission")
        >>> scm = ct.SCM.fit(spec, true.sample(2_000, random_state=0), mechanisms="linear", random_state=0)
        >>> scm.provenance_notes()[-2]
        'X: learned: L + 0.813*(E == 1) - 0.531*(E == 2); assumed: measures L (noise-free, unit slope)'
        """
        nodes = self.provenance.get("nodes")
        if not nodes:
            return []
        out = []
        for v, e in nodes.items():
            if e["status"] == "assumed":
                out.append(f"{v}: assumed: spec equation {e['equation']}")
                continue
            if e.get("assumption"):
                out.append(f"{v}: learned: {e['equation']}; assumed: {e['assumption']}")
                continue
            model = {"calibrated-gbm": "calibrated GBM", "gbm": "GBM"}.get(e["model"], e["model"])
            text = f"{v}: learned: {model}"
            if e["cv_score"] is not None:
                metric = {"log_loss": "log-loss", "mse": "MSE"}.get(e["cv_metric"], e["cv_metric"])
                text += f", {metric} {e['cv_score']:.2f}"
            if e.get("inference"):  # a latent factor (scm._factor)
                text += f", ELBO {e['inference']['elbo_final']:.3f} per unit: {e['equation']}"
            elif not self.meta[v].observed:
                text += f" (on {v} recovered from its measurement)"
            out.append(text)
        return out

    # -- properties -----------------------------------------------------------------------------------
    @property
    def variables(self) -> list[str]:
        """Every variable, in declaration order."""
        return list(self.mechanisms)

    @property
    def observed(self) -> list[str]:
        return [v for v, m in self.meta.items() if m.observed]

    @property
    def latent(self) -> list[str]:
        return [v for v, m in self.meta.items() if not m.observed]

    def __repr__(self) -> str:
        kinds = ", ".join(f"{v}: {m.description}" for v, m in self.mechanisms.items())
        return f"SCM({self.spec.name!r}; {kinds})"

    # -- sampling and interventions -------------------------------------------------------------------
    def sample(
        self, n: int, *, do: Mapping[str, Any] | None = None, random_state: int | None = None
    ) -> pd.DataFrame:
        """Draw ``n`` units; every variable, latent ones included.

        Parameters
        ----------
        n : int
            Number of units.
        do : mapping, optional
            Hard interventions ``{variable: value}`` (category values for categorical variables).
        random_state : int, optional
            Seed; the same seed gives the same bytes.
        """
        model = self.intervene(do=do) if do else self
        cols = model._simulate(_check_n(n), np.random.default_rng(random_state))
        # Draws are this call's own arrays: Bernoulli 0.0 / 1.0 become the int64 output in place, and the
        # codes of categories 0, 1, ..., K-1 are their values (decoding would copy them).
        drawn: dict[str, Array] = {}
        for v, mech in model.mechanisms.items():
            if type(mech) is BernoulliMechanism and model.meta[v].vtype == "binary":
                drawn[v] = _int64_in_place(cols[v])
            elif type(mech) is CategoricalMechanism and _codes_are_values(model.meta[v], cols[v]):
                drawn[v] = cols[v]
        return columns_to_frame(cols, model.meta, model.variables, pd.RangeIndex(n), given=drawn)

    def _simulate(self, n: int, rng: np.random.Generator) -> dict[str, Array]:
        cols: dict[str, Array] = {}
        for v in self.order:
            mech = self.mechanisms[v]
            cat = mech if isinstance(mech, CategoricalMechanism) and mech.rowwise() else None
            table = self._code_table(mech.parents, cols) if cat is not None else None
            with np.errstate(all="ignore"):  # checked just below, naming the variable
                cdf = None
                if cat is not None and table is not None:
                    # Probabilities of categorical parents only: computed per combination, looked up.
                    small = table[0]
                    with contextlib.suppress(DataError):  # a combination no unit has may be invalid
                        cdf = cat.cdf(small, len(next(iter(small.values()))))
                if cat is not None and table is not None and cdf is not None:
                    cols[v] = cat.sample_cdf(cdf if cdf.shape[0] == 1 else cdf[table[1]], n, rng)
                else:
                    cols[v] = mech.sample(cols, n, rng)
            if type(mech) is not BernoulliMechanism:  # its draws are 0.0 / 1.0 comparisons: always finite
                _check_finite(v, cols[v], mech)
        return cols

    def intervene(
        self,
        do: Mapping[str, Any] | None = None,
        *,
        equations: Mapping[str, str] | None = None,
        categories: Mapping[str, Sequence[Any]] | None = None,
    ) -> SCM:
        """A new SCM with hard (``do``) and soft (``equations``) interventions applied.

        ``categories`` appends categories to categorical variables first (a shift may add a hospital).
        Replacement equations may use any variable, as long as the graph stays acyclic.
        """
        cats = {v: m.categories for v, m in self.meta.items() if m.vtype == "categorical"}
        for var, new in (categories or {}).items():
            if var not in self.meta or self.meta[var].vtype != "categorical":
                raise SpecError(f"intervene(categories=...): {var!r} is not a categorical variable")
            old = cats[var]
            new = tuple(new)
            if new[: len(old)] != old or len(set(new)) != len(new):
                raise SpecError(
                    f"intervene(categories=...): {list(new)} must start with {var!r}'s categories "
                    f"{list(old)} and append new ones"
                )
            cats[var] = new
        mechs = dict(self.mechanisms)
        if equations:
            from causaltrust.spec._equations import VarInfo, compile_equation

            infos = {
                v: VarInfo(m.vtype, cats.get(v, (0, 1) if m.vtype == "binary" else ()))
                for v, m in self.meta.items()
            }
            for var, text in equations.items():
                if var not in self.meta:
                    raise SpecError(f"intervene(equations=...): {var!r} is not a variable")
                eq = compile_equation(var, text, infos)
                mechs[var] = from_equation(eq, self.meta[var].vtype, cats.get(var, ()), var)
        for var, value in (do or {}).items():
            if var not in self.meta:
                raise SpecError(f"do: {var!r} is not a variable ({', '.join(self.meta)})")
            meta = VariableMeta(var, self.meta[var].vtype, cats.get(var, ()), self.meta[var].observed)
            size = len(value) if _is_array(value) else -1
            internal = value_to_internal(value, meta, size, f"do[{var!r}]")
            mechs[var] = ConstantMechanism(internal, self.meta[var].vtype)
        prov = dict(self.provenance)
        record = {
            "do": {k: _plain(v) for k, v in (do or {}).items()},
            "equations": dict(equations or {}),
            "categories": {k: list(v) for k, v in (categories or {}).items()},
        }
        prov["interventions"] = [*prov.get("interventions", []), record]
        return SCM(self.spec, mechs, categories=cats, provenance=prov)

    def shift(self, name: str) -> SCM:
        """The SCM under the spec's named shift (``shifts: {name: {do, equations, categories}}``)."""
        shift = self.spec.shift(name)
        return self.intervene(
            do=shift.do or None, equations=shift.equations or None, categories=shift.categories or None
        )

    # -- counterfactuals ------------------------------------------------------------------------------
    def counterfactual(
        self,
        data: pd.DataFrame,
        do: Mapping[str, Any] | None = None,
        *,
        equations: Mapping[str, str] | None = None,
        shift: str | None = None,
        random_state: int | None = None,
        n_draws: int = 1,
        include_latent: bool = False,
        abduction: Abduction | None = None,
    ) -> pd.DataFrame:
        """What each unit of ``data`` would have been under ``do`` (abduction, action, prediction).

        Continuous additive-noise nodes are exact. Binary and categorical nodes draw their noise from its
        posterior given the observed value; ``n_draws > 1`` draws several times and adds a ``draw`` index
        level. Latent variables are recovered by inverting a noise-free observed child that is additive in
        them; anything that cannot be inverted raises :class:`IdentificationError`.

        ``equations`` (or the spec's named ``shift``) replaces mechanisms instead of fixing values: the same
        units under a mechanism shift. A replaced node keeps its abducted noise where the old and new
        mechanisms share a noise representation (additive noise, Bernoulli, Gumbel) and draws fresh prior
        noise otherwise.

        Returns a frame with the same columns and index as ``data`` (other columns pass through; with
        ``include_latent=True`` the recovered latent variables are appended). With nothing to change,
        returns a copy of ``data``.

        ``abduction`` (from :meth:`abduct` on the same ``data`` and ``n_draws``) reuses noise abducted once,
        so several counterfactuals of the same units share it (per-unit contrasts); ``random_state`` is then
        unused.
        """
        if do is not None and not isinstance(do, Mapping):
            raise DataError(f"do must be a mapping {{variable: value}}, got {type(do).__name__}")
        do = dict(do or {})
        if not do and not equations and shift is None and not include_latent:
            return _replicate(data.copy(), n_draws)
        n, cols, index = self._factual(data, n_draws, context="counterfactual data")
        rng = stream(random_state, "abduction")
        target_model = self.shift(shift) if shift is not None else self
        if equations:
            target_model = target_model.intervene(equations=equations)
        replaced = {v for v in self.order if target_model.mechanisms[v] is not self.mechanisms[v]}
        do_internal = {k: self._do_value(k, v, data, n_draws) for k, v in do.items()}
        replaced -= set(do_internal)
        changed = (_dag.descendants(self.parents, set(do_internal) | replaced) | replaced) - set(do_internal)
        latents = set(self.latent) if include_latent else set()
        if abduction is None:
            cols = self.recover_latents(cols, changed | set(do_internal) | latents, random_state=rng)
            noises = self.abduct(cols, changed, random_state=rng).noise
        else:
            cols, noises = self._reuse(abduction, data, n_draws, changed, "counterfactual")
            cols = self.recover_latents(cols, changed | set(do_internal) | latents)
        for v in replaced:
            noises[v] = _portable_noise(self.mechanisms[v], target_model.mechanisms[v], noises[v], n, rng)
        out = dict(cols)
        # A do() value the same for every unit stays one number while the changed mechanisms are evaluated
        # (what depends only on it is computed once), where they all accept that; a column for the output.
        scalar = all(target_model.mechanisms[v].accepts_scalars() for v in changed)
        for v, value in do_internal.items():
            if isinstance(value, np.ndarray) or not scalar:
                out[v] = _do_column(value, n, self.meta[v])
            else:
                out[v] = value  # type: ignore[assignment]
        # A shifted model may have more categories (a new hospital): decode with its metadata.
        meta = target_model.meta
        for v in target_model.order:
            if v in changed:
                out[v] = target_model.mechanisms[v].evaluate(out, noises[v], n)
        for v, value in do_internal.items():
            out[v] = _do_column(value, n, self.meta[v])
        extra = [v for v in self.latent if include_latent and v in out and v not in data.columns]
        same = [c for c in data.columns if c in self.meta and c not in changed and c not in do_internal]
        return self._output(data, out, index, n_draws, extra=extra, meta=meta, unchanged=same)

    def path_counterfactual(
        self,
        data: pd.DataFrame,
        *,
        source: str,
        value: Any,
        paths: Sequence[Sequence[str]],
        baseline: Any = None,
        target: str | None = None,
        random_state: int | None = None,
        n_draws: int = 1,
        abduction: Abduction | None = None,
    ) -> pd.DataFrame:
        """Path-specific counterfactual: ``source`` set to ``value`` along ``paths`` only.

        Paths are node lists along directed edges; one that stops before ``target`` (default: the spec's)
        is a prefix and stands for every path to the target that begins with it. Every other path sees
        ``baseline`` (default: each unit's factual value). Per-path semantics: paths sharing an edge are
        switched independently, so a node may hold several values; each variable is reported as the value
        that flows along its own edge into the target (see DESIGN.md). ``abduction`` reuses noise from
        :meth:`abduct`, as in :meth:`counterfactual`.
        """
        target = target or self.spec.target
        self._check_var(source, "source")
        self._check_var(target, "target")
        entries = self.check_paths(paths, source)
        active = self.full_paths(entries, source, target)
        n, cols, index = self._factual(data, n_draws, context="path_counterfactual data")
        rng = stream(random_state, "abduction")
        meta = self.meta[source]
        value_i = value_to_internal(value, meta, n, "path_counterfactual value")
        base_i = (
            None if baseline is None else value_to_internal(baseline, meta, n, "path_counterfactual baseline")
        )
        desc = _dag.descendants(self.parents, [source])
        if abduction is None:
            cols = self.recover_latents(cols, desc | {source}, random_state=rng)
            noises = self.abduct(cols, desc, random_state=rng).noise
        else:
            cols, noises = self._reuse(abduction, data, n_draws, desc, "path_counterfactual")
        world = MultiPathWorld(self.parents, self.mechanisms, noises, cols, {source: (value_i, base_i)}, n)
        out = dict(cols)
        sigs = reporting_signatures(self.parents, source, target, active, entries, self.variables)
        for v, sig in sigs.items():
            out[v] = world.node(v, (sig,))
        if target in desc:
            out[target] = world.node(target, (frozenset(active),))
        out[source] = world.baselines[0]
        return self._output(data, out, index, n_draws)

    def expectation(self, data: pd.DataFrame, variable: str) -> Array:
        """E[variable | its parents] for each row of ``data`` (P(variable = 1) for binary variables).

        Latent parents are recovered from the data as in :meth:`counterfactual`.
        """
        self._check_var(variable, "variable")
        n, cols, _ = self._factual(data, 1, context="expectation data")
        cols = self.recover_latents(cols, {variable})
        return np.asarray(self.mechanisms[variable].mean(cols, n, variable), dtype=np.float64)

    # -- helpers used by effects and the audit --------------------------------------------------------
    def check_paths(self, paths: Sequence[Sequence[str]], source: str) -> list[Path]:
        """Validate path entries (start at ``source``, follow existing edges); return them as tuples."""
        if isinstance(paths, str) or not isinstance(paths, Sequence):
            raise GraphError("paths must be a list of node lists, e.g. [('A', 'Y'), ('A', 'Z')]")
        out = []
        edges = {(p, c) for c, pas in self.parents.items() for p in pas}
        for i, raw in enumerate(paths):
            if isinstance(raw, str) or not isinstance(raw, Sequence):
                raise GraphError(f"paths[{i}]: {raw!r} is not a list of node names")
            path = tuple(raw)
            if len(path) < 2 or path[0] != source:
                raise GraphError(
                    f"paths[{i}] {list(path)}: must start at {source!r} and name at least one edge"
                )
            for a, b in itertools.pairwise(path):
                if (a, b) not in edges:
                    raise GraphError(
                        f"paths[{i}] {list(path)}: the edge {a} -> {b} does not exist"
                        + (f" (parents of {b}: {list(self.parents[b])})" if b in self.parents else "")
                    )
            out.append(path)
        return out

    def full_paths(self, entries: Sequence[Sequence[str]], source: str, target: str) -> list[Path]:
        """Every full ``source`` → ``target`` path that begins with one of ``entries`` (prefixes expand).

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec, scm = ct.scenarios.load("readmission")
        >>> scm.full_paths([("A", "Z")], "A", "Y")
        [('A', 'Z', 'Y')]
        """
        full: dict[Path, None] = {}
        for e in entries:
            for p in _dag.all_paths(self.parents, source, target, prefix=e):
                full[p] = None
        return list(full)

    def _check_var(self, name: str, what: str) -> None:
        if name not in self.meta:
            raise SpecError(f"{what} {name!r} is not a variable ({', '.join(self.meta)})")

    def _do_value(self, var: str, value: Any, data: pd.DataFrame, n_draws: int) -> float | Array:
        self._check_var(var, "do")
        v = value_to_internal(value, self.meta[var], len(data), f"do[{var!r}]")
        if isinstance(v, np.ndarray) and n_draws > 1:
            v = np.repeat(v, n_draws)
        return v

    def _factual(
        self, data: pd.DataFrame, n_draws: int, *, context: str
    ) -> tuple[int, dict[str, Array], pd.Index]:
        if not isinstance(n_draws, int | np.integer) or n_draws < 1:
            raise DataError(f"n_draws must be a positive integer, got {n_draws!r}")
        cols = frame_to_columns(data, self.meta, self.observed, context=context, optional=self.latent)
        n = len(data)
        if n_draws > 1:
            cols = {k: np.repeat(v, n_draws) for k, v in cols.items()}
            n *= n_draws
        return n, cols, data.index

    # -- abduction ------------------------------------------------------------------------------------
    def columns(self, data: pd.DataFrame, *, n_draws: int = 1) -> dict[str, Array]:
        """The variables present in ``data`` as internal columns (category codes), each row ``n_draws`` times.

        This is the representation :meth:`recover_latents` and :meth:`abduct` work on.
        """
        cols = frame_to_columns(
            data,
            self.meta,
            [v for v in self.observed if v in data.columns],
            context="data",
            optional=self.latent,
        )
        if n_draws > 1:
            cols = {k: np.repeat(v, n_draws) for k, v in cols.items()}
        return cols

    def recover_latents(
        self,
        columns: Mapping[str, Array],
        nodes: Iterable[str],
        *,
        random_state: np.random.Generator | None = None,
    ) -> dict[str, Array]:
        """``columns`` plus every latent variable that recomputing ``nodes`` needs, recovered from data.

        A latent is needed when it, or a child of it, is among ``nodes``; it is recovered by inverting a
        noise-free observed child additive in it (:class:`IdentificationError` when none exists). A fitted
        latent factor (``indicators:``) is drawn from each row's posterior instead, with ``random_state``
        (default: a fixed stream), so repeated rows of a unit carry independent posterior draws.

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec, scm = ct.scenarios.load("readmission")
        >>> df = scm.sample(5, random_state=0)
        >>> cols = scm.recover_latents(scm.columns(df.drop(columns="L")), ["X"])
        >>> bool(abs(cols["L"] - df["L"].to_numpy()).max() < 1e-9)
        True
        """
        cols = dict(columns)
        touched = set(nodes)
        n = len(next(iter(cols.values()))) if cols else 0
        children = _dag.children_map(self.parents)
        for latent in self.latent:
            if latent in cols:
                continue
            needed = latent in touched or any(c in touched for c in children.get(latent, []))
            if needed:
                draws = getattr(self.mechanisms[latent], "posterior_draws", None)
                if draws is None:
                    cols[latent] = self._invert_latent(latent, cols, n)
                    continue
                if random_state is None:
                    random_state = purpose_rng(0, "latent-posterior")
                cols[latent] = draws(cols, n, random_state)
        return cols

    def latent_posterior(
        self,
        data: pd.DataFrame,
        latent: str | None = None,
        *,
        n_draws: int = 0,
        random_state: int | None = None,
    ) -> pd.DataFrame:
        """Per-unit posterior (``mean``, ``sd``, optional draws) of a fitted latent factor.

        See :func:`causaltrust.scm.latent_posterior`.

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec = ct.load_spec({"target": "Y", "variables": {
        ...     "K": {"type": "continuous", "observed": False, "equation": "normal(0, 1)",
        ...           "indicators": ["X1", "X2", "X3"]},
        ...     "X1": {"type": "continuous", "equation": "K + normal(0, 0.5)"},
        ...     "X2": {"type": "continuous", "equation": "0.8*K + normal(0, 0.5)"},
        ...     "X3": {"type": "binary", "equation": "bernoulli(sigmoid(1.5*K))"},
        ...     "Y": {"type": "continuous", "equation": "X1 + normal(0, 1)"}}})
        >>> df = ct.SCM.from_spec(spec).sample(2_000, random_state=0)
        >>> scm = ct.SCM.fit(spec.structure(), df.drop(columns="K"), mechanisms="linear", random_state=0)
        >>> post = scm.latent_posterior(df.head(3), n_draws=2, random_state=0)
        >>> list(post.columns)
        ['mean', 'sd', 'draw_0', 'draw_1']
        """
        from causaltrust.scm._factor import latent_posterior

        return latent_posterior(self, data, latent, n_draws=n_draws, random_state=random_state)

    def abduct(
        self,
        data: pd.DataFrame | Mapping[str, Array],
        nodes: Iterable[str] | None = None,
        *,
        random_state: int | np.random.Generator | None = None,
        n_draws: int = 1,
    ) -> Abduction:
        """Exogenous noise of ``nodes`` (default: every variable) for each unit of ``data``.

        Continuous additive-noise nodes are exact; binary and categorical nodes draw their noise from its
        posterior given the observed value (``n_draws`` copies of each unit, unit-major). Latent variables
        the nodes need are recovered first (:meth:`recover_latents`).

        Parameters
        ----------
        data : DataFrame or mapping
            The units: a DataFrame, or internal columns from :meth:`columns` (then already repeated).
        nodes : iterable of str, optional
            Whose noise to abduct; abducted in topological order.
        random_state : int, Generator or None
            An int seeds the same abduction stream as :meth:`counterfactual`; a Generator is used as is.
        n_draws : int
            Posterior draws per unit (a DataFrame's rows are repeated).

        Returns
        -------
        Abduction
            ``columns`` (factual, latents recovered), ``noise`` per node; :meth:`counterfactual` and
            :meth:`path_counterfactual` accept it as ``abduction=``.

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec, scm = ct.scenarios.load("readmission")
        >>> df = scm.sample(100, random_state=0).drop(columns="L")
        >>> ab = scm.abduct(df, ["Z", "L", "X", "Y"], random_state=0)
        >>> cf = scm.counterfactual(df, do={"A": 1}, abduction=ab)
        >>> bool((cf["A"] == 1).all())
        True
        """
        if not isinstance(n_draws, int | np.integer) or n_draws < 1:
            raise DataError(f"n_draws must be a positive integer, got {n_draws!r}")
        if isinstance(data, pd.DataFrame):
            cols = self.columns(data, n_draws=int(n_draws))
            n_units = len(data)
        else:
            cols = dict(data)
            n_units = len(next(iter(cols.values()))) // int(n_draws) if cols else 0
        chosen = set(self.order) if nodes is None else set(nodes)
        unknown = sorted(chosen - set(self.order))
        if unknown:
            raise SpecError(f"abduct: {unknown} are not variables ({', '.join(self.meta)})")
        rng = random_state if isinstance(random_state, np.random.Generator) else None
        if rng is None and random_state is not None and not isinstance(random_state, int | np.integer):
            rng = random_state  # a duck-typed generator (e.g. one keyed per row)
        if rng is None:
            rng = stream(random_state, "abduction")  # type: ignore[arg-type]
        cols = self.recover_latents(cols, chosen, random_state=rng)
        noises = {}
        for v in self.order:
            if v not in chosen:
                continue
            if v not in cols:
                raise IdentificationError(f"{v!r} is not in the data and cannot be abducted")
            noises[v] = self.mechanisms[v].abduct(cols[v], cols, rng, v)
        return Abduction(cols, noises, n_units, int(n_draws))

    def _reuse(
        self, abduction: Abduction, data: pd.DataFrame, n_draws: int, nodes: set[str], what: str
    ) -> tuple[dict[str, Array], dict[str, Noise]]:
        """Columns and noise of a given abduction, checked against the call's units and needs."""
        if not isinstance(abduction, Abduction):
            raise DataError(f"{what}: abduction must come from SCM.abduct, got {type(abduction).__name__}")
        if abduction.n_units != len(data) or abduction.n_draws != n_draws:
            raise DataError(
                f"{what}: the abduction has {abduction.n_units} units x {abduction.n_draws} draws, the call "
                f"{len(data)} x {n_draws}; abduct the same data with the same n_draws"
            )
        missing = [v for v in self.order if v in nodes and v not in abduction.noise]
        if missing:
            raise DataError(
                f"{what}: the abduction has no noise for {missing}; include them: scm.abduct(data, nodes=...)"
            )
        cols = self.recover_latents(abduction.columns, nodes)
        return cols, dict(abduction.noise)

    def _invert_latent(self, latent: str, cols: Mapping[str, Array], n: int) -> Array:
        children = _dag.children_map(self.parents)[latent]
        reasons = []
        for child in children:
            mech = self.mechanisms[child]
            if not self.meta[child].observed:
                reasons.append(f"{child} is latent too")
                continue
            if latent not in mech.affine_in():
                reasons.append(f"{child}'s mechanism is not noise-free and additive (linear) in {latent}")
                continue
            others = [p for p in mech.parents if p != latent]
            if any(p not in cols for p in others):
                reasons.append(f"{child}'s other parents {others} are not all observed")
                continue
            h0, c = self._measurement_line(child, latent, others, cols, n)
            if np.any(c == 0):
                reasons.append(f"{child}'s coefficient on {latent} is 0 for some units")
                continue
            if np.all(c == 1.0):  # a unit slope (every measurement so far): x / 1.0 is x, skip the pass
                return np.asarray(cols[child] - h0, dtype=np.float64)
            return np.asarray((cols[child] - h0) / c, dtype=np.float64)
        raise IdentificationError(
            f"the latent variable {latent!r} is not identified, and this counterfactual needs it: "
            + "; ".join(reasons or ["it has no observed child"])
            + ". A latent is identified when an observed child has a noise-free equation additive in it "
            "(a measurement such as X = L + artifact(E)); otherwise include the column in the data."
        )

    def _code_table(
        self, parents: Sequence[str], cols: Mapping[str, Array]
    ) -> tuple[dict[str, Array], Array] | None:
        """Every combination of the (all categorical) ``parents`` as small columns, and each unit's row.

        None when a parent is not categorical or there are more than 4,096 combinations.
        """
        sizes = [len(self.meta[p].categories) for p in parents if self.meta[p].vtype == "categorical"]
        if not parents or len(sizes) != len(parents) or not 0 < int(np.prod(sizes)) <= 4096:
            return None
        grid = np.indices(sizes).reshape(len(sizes), -1)
        small = {p: grid[i].astype(np.int64) for i, p in enumerate(parents)}
        if len(parents) == 1:
            return small, np.asarray(cols[parents[0]])
        return small, np.ravel_multi_index(tuple(np.asarray(cols[p]) for p in parents), sizes)

    def _measurement_line(
        self, child: str, latent: str, others: Sequence[str], cols: Mapping[str, Array], n: int
    ) -> tuple[Array, Array]:
        """Intercept ``h0`` and slope ``c`` per unit of ``child = h0 + c * latent`` (affine in the latent).

        The slope is ``h(1) - h(0)``, as the mechanism computes it. When every other parent is categorical
        (the measurement artifacts of the built-in scenarios), both are computed once per category and
        looked up by code: the same numbers (elementwise arithmetic does not depend on the array), without
        evaluating the equation twice over every unit.
        """
        mech = self.mechanisms[child]
        table = self._code_table(others, cols)
        if table is not None:
            small, idx = table
            m = len(next(iter(small.values())))
            h0_k = np.broadcast_to(mech.mean({**small, latent: np.zeros(m)}, m, child), (m,))
            c_k = np.broadcast_to(mech.mean({**small, latent: np.ones(m)}, m, child), (m,)) - h0_k
            c_const = c_k[0] if np.all(c_k == c_k[0]) else None
            return h0_k[idx], (np.full(1, c_const) if c_const is not None else c_k[idx])
        env0 = {**{p: cols[p] for p in others}, latent: np.zeros(n)}
        env1 = {**env0, latent: np.ones(n)}
        h0 = np.broadcast_to(mech.mean(env0, n, child), (n,))
        return h0, np.broadcast_to(mech.mean(env1, n, child), (n,)) - h0

    def _output(
        self,
        data: pd.DataFrame,
        cols: Mapping[str, Array],
        index: pd.Index,
        n_draws: int,
        *,
        extra: Sequence[str] = (),
        meta: Mapping[str, VariableMeta] | None = None,
        unchanged: Sequence[str] = (),
    ) -> pd.DataFrame:
        meta = meta or self.meta
        names = [c for c in data.columns if c in self.meta]
        given = (
            {c: v for c in unchanged if (v := _as_given(data[c], meta[c])) is not None}
            if n_draws == 1
            else {}
        )
        frame = columns_to_frame(cols, meta, [*names, *extra], None, given=given)
        other = [c for c in data.columns if c not in self.meta]
        if other:
            passthrough = data[other].reset_index(drop=True)
            if n_draws > 1:
                passthrough = passthrough.loc[passthrough.index.repeat(n_draws)].reset_index(drop=True)
            frame = pd.concat([frame, passthrough], axis=1)[[*data.columns, *extra]]
        if n_draws > 1:
            frame.index = pd.MultiIndex.from_arrays(
                [index.repeat(n_draws), np.tile(np.arange(n_draws), len(index))],
                names=[index.name, "draw"],
            )
        else:
            frame.index = index
        for c in names:
            if data[c].dtype != frame[c].dtype and self.meta[c].vtype != "categorical":
                with contextlib.suppress(TypeError, ValueError):
                    frame[c] = frame[c].astype(data[c].dtype)
        return frame

    # -- persistence ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the SCM to ``path`` in a data-only format (JSON + arrays in one ``.npz`` file).

        Loading it never unpickles: mechanisms are rebuilt from an allow-list of causaltrust classes,
        equations recompiled from their text, fitted scikit-learn estimators loaded with skops and an
        explicit list of trusted types.

        Examples
        --------
        >>> import os, tempfile
        >>> import causaltrust as ct
        >>> scm = ct.SCM.from_spec("readmission")
        >>> path = os.path.join(tempfile.mkdtemp(), "scm.npz")
        >>> scm.save(path)
        >>> ct.SCM.load(path).sample(3, random_state=0).equals(scm.sample(3, random_state=0))
        True
        """
        from causaltrust.scm._persist import save_scm

        save_scm(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SCM:
        """Read an SCM written by :meth:`save`; pickles and foreign files raise :class:`DataError`."""
        from causaltrust.scm._persist import load_scm

        return load_scm(cls, path)


def _portable_noise(old: Mechanism, new: Mechanism, noise: Noise, n: int, rng: np.random.Generator) -> Noise:
    """Noise abducted under ``old`` in a form ``new`` can replay (no anchor: the mechanism changed)."""
    from causaltrust.scm._mechanisms import (
        AdditiveNoiseMechanism,
        BernoulliMechanism,
        CategoricalMechanism,
    )

    if isinstance(new, DeterministicMechanism | ConstantMechanism):
        return Noise(None)
    if isinstance(old, AdditiveNoiseMechanism) and isinstance(new, AdditiveNoiseMechanism):
        return Noise(noise.eps)
    if isinstance(old, BernoulliMechanism) and isinstance(new, BernoulliMechanism):
        return Noise(noise.eps)
    if isinstance(old, CategoricalMechanism) and isinstance(new, CategoricalMechanism):
        eps = noise.eps
        if new.k > old.k:  # appended categories: their Gumbels are independent of the observed ones
            eps = np.column_stack([eps, rng.gumbel(size=(n, new.k - old.k))])
        return Noise(eps[:, : new.k])
    return new.draw_noise(n, rng)


def stream(random_state: int | None, purpose: str) -> np.random.Generator:
    """An independent generator per operation.

    ``sample(random_state=s)`` uses the plain seed. Abduction must not reuse those draws: with the same
    seed it would couple the abducted noise to the very uniforms that generated the data (a unit's
    Bernoulli noise would track its protected attribute), biasing every counterfactual. Each purpose
    therefore gets its own SeedSequence stream.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise DataError(f"random_state must be an int or None, got {random_state!r}")
    return purpose_rng(int(random_state), purpose)


def _check_finite(variable: str, values: Array, mechanism: Mechanism) -> None:
    """Refuse inf / NaN draws (1/0, log(0), sqrt(-1), overflow) instead of writing them out."""
    arr = np.asarray(values)
    if arr.dtype.kind != "f":
        return
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(arr, axis=None)):  # one pass: a NaN or inf anywhere makes the sum one
            return
    bad = ~np.isfinite(arr)
    if bad.any():
        raise SpecError(
            f"sampling {variable!r} ({mechanism.description}) gave non-finite values (inf or NaN) in "
            f"{int(bad.sum()):,} of {arr.size:,} rows; fix its equation (division by zero, log or sqrt of "
            "a negative number, overflow)"
        )


_CHUNK = 1 << 16  # elements per step of an in-place conversion (512 KiB)


def _int64_in_place(values: Array) -> Array:
    """``values.astype(np.int64)`` written over ``values``' own memory, a chunk at a time (each element is
    read before it is overwritten); a copy when the array is not a contiguous float64 array of its own."""
    if not (
        values.dtype == np.float64
        and values.ndim == 1
        and values.flags.c_contiguous
        and values.flags.owndata
        and values.flags.writeable
    ):
        return values.astype(np.int64)
    out = values.view(np.int64)
    for start in range(0, len(values), _CHUNK):
        out[start : start + _CHUNK] = values[start : start + _CHUNK]
    return out


def _codes_are_values(meta: VariableMeta, codes: Array) -> bool:
    """Whether decoding ``codes`` gives the same int64 array: categories 0, 1, ..., K-1 as integers."""
    cats = meta.categories
    return (
        meta.vtype == "categorical"
        and codes.dtype == np.int64
        and all(type(c) is int for c in cats)
        and cats == tuple(range(len(cats)))
    )


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise DataError(f"n must be a positive integer, got {n!r}")
    return int(n)


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray | pd.Series | list)


def _plain(x: Any) -> Any:
    return x.tolist() if isinstance(x, np.ndarray | pd.Series) else x


def _as_given(column: pd.Series, meta: VariableMeta) -> Any:
    """A copy of an unchanged data column when it is, value for value and in dtype, what decoding its internal
    column would give (binary as integers or bool, categories as their values); None otherwise.

    Decoding (int -> float -> int, codes -> values) would spend passes to rebuild the same column.
    """
    dtype = column.dtype
    if meta.vtype == "binary":
        ok = isinstance(dtype, np.dtype) and dtype.kind in "biu"
    elif meta.vtype == "categorical" and meta.numeric_categories:
        ok = dtype == np.int64 and meta.categories == tuple(range(len(meta.categories)))
    elif meta.vtype == "categorical":
        ok = dtype == _string_dtype()
    else:
        ok = False
    return column.array.copy() if ok else None


def _string_dtype() -> Any:
    """The dtype pandas gives a column built from an object array of strings (``str`` under pandas 3)."""
    return pd.Series(np.array(["a"], dtype=object)).dtype


def _do_column(value: float | Array, n: int, meta: VariableMeta) -> Array:
    """A do() value as an internal column of ``n`` units."""
    if isinstance(value, np.ndarray):
        return value
    return np.full(n, value, dtype=cols_dtype(meta))


def cols_dtype(meta: VariableMeta) -> type:
    return np.int64 if meta.vtype == "categorical" else np.float64


def _replicate(df: pd.DataFrame, n_draws: int) -> pd.DataFrame:
    if n_draws == 1:
        return df
    out = df.loc[df.index.repeat(n_draws)].copy()
    out.index = pd.MultiIndex.from_arrays(
        [df.index.repeat(n_draws), np.tile(np.arange(n_draws), len(df))], names=[df.index.name, "draw"]
    )
    return out
