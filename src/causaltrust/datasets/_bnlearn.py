"""bnlearn discrete Bayesian networks as ground-truth graphs with a forward sampler.

The networks (asia, child, insurance, alarm, sachs) are the ``.bif`` files of the bnlearn repository
(https://www.bnlearn.com/bnrepository/) as bundled, gzip-compressed, in pgmpy 1.1.2
(``pgmpy/utils/example_models``; pgmpy is MIT-licensed, see ``data/LICENSES.md``). They are parsed here by a
small BIF reader and sampled by vectorised ancestral sampling, so pgmpy is not a runtime dependency.

>>> import causaltrust as ct
>>> net = ct.datasets.load_bnlearn("asia")
>>> len(net.edges())
8
>>> net.sample(5, random_state=0).shape
(5, 8)
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from causaltrust._dag import topological_order
from causaltrust.exceptions import DataError

__all__ = ["BNLEARN_NETWORKS", "BayesianNetwork", "load_bnlearn", "parse_bif"]

BNLEARN_NETWORKS: tuple[str, ...] = ("alarm", "asia", "child", "insurance", "sachs")

_VARIABLE = re.compile(r"variable\s+(\S+)\s*\{\s*type\s+discrete\s*\[\s*(\d+)\s*\]\s*\{([^}]*)\}\s*;", re.S)
_PROBABILITY = re.compile(r"probability\s*\(\s*([^|)]+?)\s*(?:\|\s*([^)]*))?\)\s*\{([^}]*)\}", re.S)
_ROW = re.compile(r"\(([^)]*)\)\s*([^;]*);")


@dataclass(frozen=True)
class BayesianNetwork:
    """A discrete Bayesian network: states, parents and one conditional probability table per node.

    Attributes
    ----------
    name : str
        The network's name (e.g. ``"asia"``).
    variables : tuple of str
        The nodes in a topological order (ties broken by declaration order in the file).
    states : dict
        Node -> tuple of its state names, in the file's order (codes 0, 1, ... follow it).
    parents : dict
        Node -> tuple of its parents, in the file's order.
    cpts : dict
        Node -> array of shape ``(*parent_cardinalities, cardinality)``; each last-axis slice sums to 1.

    Examples
    --------
    >>> import causaltrust as ct
    >>> net = ct.datasets.load_bnlearn("asia")
    >>> net.parents["either"]
    ('lung', 'tub')
    """

    name: str
    variables: tuple[str, ...]
    states: dict[str, tuple[str, ...]] = field(repr=False)
    parents: dict[str, tuple[str, ...]] = field(repr=False)
    cpts: dict[str, np.ndarray] = field(repr=False)

    def edges(self) -> list[tuple[str, str]]:
        """Every directed edge ``(parent, child)``, children in topological order.

        Examples
        --------
        >>> import causaltrust as ct
        >>> ct.datasets.load_bnlearn("asia").edges()[:2]
        [('asia', 'tub'), ('smoke', 'lung')]
        """
        return [(p, v) for v in self.variables for p in self.parents[v]]

    def sample(
        self, n: int, *, random_state: int | np.random.Generator | None = None, codes: bool = False
    ) -> pd.DataFrame:
        """Draw ``n`` joint samples by ancestral sampling (one uniform per unit and node, inverse CDF).

        Parameters
        ----------
        n : int
            Number of rows.
        random_state : int, Generator or None
            Seed; the same seed gives the same rows.
        codes : bool, default False
            Return int64 state codes instead of pandas categoricals with the state names.

        Returns
        -------
        pandas.DataFrame
            One column per node, in topological order.

        Examples
        --------
        >>> import causaltrust as ct
        >>> df = ct.datasets.load_bnlearn("asia").sample(1_000, random_state=0, codes=True)
        >>> sorted(df["smoke"].unique().tolist())
        [0, 1]
        """
        if n < 1:
            raise DataError(f"sample: n must be at least 1, got {n}")
        rng = np.random.default_rng(random_state)
        out: dict[str, np.ndarray] = {}
        for v in self.variables:
            cpt = self.cpts[v]
            card = cpt.shape[-1]
            pa = self.parents[v]
            flat = cpt.reshape(-1, card)
            if pa:
                row = np.ravel_multi_index(tuple(out[p] for p in pa), cpt.shape[:-1])
            else:
                row = np.zeros(n, dtype=np.int64)
            cdf = np.cumsum(flat, axis=1)[row]
            u = rng.random(n)
            # Rounding may leave the last cumulative value just below 1: clip into the last state.
            out[v] = np.minimum((u[:, None] >= cdf).sum(axis=1), card - 1).astype(np.int64)
        if codes:
            return pd.DataFrame(out)
        return pd.DataFrame(
            {
                v: pd.Categorical.from_codes(out[v], categories=pd.Index(list(self.states[v])))
                for v in self.variables
            }
        )


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.replace("\n", " ").split(",") if t.strip()]


def parse_bif(text: str, *, name: str = "network") -> BayesianNetwork:
    """Parse the discrete subset of the BIF format that bnlearn's networks use.

    Supports ``variable X { type discrete [ k ] { s1, ..., sk }; }`` and
    ``probability ( X | P1, P2 ) { ... }`` with either ``table p1, ..., pk;`` (no parents) or one
    ``(parent states) p1, ..., pk;`` row per parent configuration.

    Parameters
    ----------
    text : str
        The BIF file's text.
    name : str
        A name for error messages and the result.

    Returns
    -------
    BayesianNetwork

    Raises
    ------
    DataError
        A table is missing, has the wrong length, names an unknown state, or does not sum to one.

    Examples
    --------
    >>> bif = '''variable a { type discrete [ 2 ] { no, yes }; }
    ... probability ( a ) { table 0.3, 0.7; }'''
    >>> parse_bif(bif).cpts["a"].tolist()
    [0.3, 0.7]
    """
    states: dict[str, tuple[str, ...]] = {}
    for m in _VARIABLE.finditer(text):
        names = tuple(_split(m.group(3)))
        if len(names) != int(m.group(2)):
            raise DataError(f"{name}: variable {m.group(1)!r} declares {m.group(2)} states but lists {names}")
        states[m.group(1)] = names
    if not states:
        raise DataError(f"{name}: no discrete variables; expected BIF 'variable X {{ type discrete ...}}'")
    parents: dict[str, tuple[str, ...]] = {}
    cpts: dict[str, np.ndarray] = {}
    for m in _PROBABILITY.finditer(text):
        v = m.group(1).strip()
        pa = tuple(_split(m.group(2) or ""))
        unknown = [x for x in (v, *pa) if x not in states]
        if unknown:
            raise DataError(f"{name}: probability table names undeclared variables {unknown}")
        shape = (*(len(states[p]) for p in pa), len(states[v]))
        table = np.full(shape, np.nan)
        body = m.group(3)
        if "table" in body:
            values = np.array(_split(body.split("table", 1)[1].split(";", 1)[0]), dtype=float)
            if values.size != table.size:
                raise DataError(f"{name}: table of {v!r} has {values.size} values, expected {table.size}")
            # BIF 'table' lists the child fastest-varying, parents in the declared order.
            table = values.reshape(shape)
        else:
            for row in _ROW.finditer(body):
                keys = _split(row.group(1))
                try:
                    index = tuple(states[p].index(k) for p, k in zip(pa, keys, strict=True))
                except ValueError as exc:
                    raise DataError(f"{name}: row {row.group(1)!r} of {v!r}: {exc}") from None
                table[index] = np.array(_split(row.group(2)), dtype=float)
        if np.isnan(table).any():
            raise DataError(f"{name}: the table of {v!r} misses some parent configurations")
        if not np.allclose(table.sum(axis=-1), 1.0, atol=1e-4):
            raise DataError(f"{name}: a row of the table of {v!r} does not sum to 1")
        parents[v] = pa
        cpts[v] = table / table.sum(axis=-1, keepdims=True)
    missing = [v for v in states if v not in cpts]
    if missing:
        raise DataError(f"{name}: no probability table for {missing}")
    order = tuple(topological_order({v: parents[v] for v in states}))
    return BayesianNetwork(name=name, variables=order, states=states, parents=parents, cpts=cpts)


def load_bnlearn(name: str) -> BayesianNetwork:
    """Load one of the shipped bnlearn networks (offline) as a :class:`BayesianNetwork`.

    Parameters
    ----------
    name : {"alarm", "asia", "child", "insurance", "sachs"}
        The network (bnlearn repository; discrete versions as bundled in pgmpy 1.1.2, MIT licence).

    Returns
    -------
    BayesianNetwork
        The ground-truth graph (``edges()``) and a forward sampler (``sample``).

    Raises
    ------
    DataError
        An unknown name.

    Examples
    --------
    >>> import causaltrust as ct
    >>> [len(ct.datasets.load_bnlearn(n).edges()) for n in ("asia", "sachs")]
    [8, 17]
    """
    if name not in BNLEARN_NETWORKS:
        raise DataError(f"unknown bnlearn network {name!r}; expected one of {list(BNLEARN_NETWORKS)}")
    path = resources.files("causaltrust.datasets").joinpath("data", f"{name}.bif.gz")
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    return parse_bif(text, name=name)
