"""Benchmarks of learners: methods × parameters × seeds, audited, recorded in a DuckDB ledger, compared.

>>> import causaltrust as ct
>>> sorted(ct.bench.METHODS)[:3]
['anchor', 'bgl', 'cf_augment']

``run`` sweeps locally (worker processes) or on a Dask cluster (``scheduler="tcp://host:8786"``); every
finished cell is one transaction in the ledger, so a killed sweep resumes where it stopped. ``pareto_front``,
``hypervolume``, ``ranks`` and ``dominance_summary`` compare the methods on any chosen metrics.
"""

from causaltrust.bench import (
    _baselines,  # noqa: F401  (registers the baselines)
    _private_methods,  # noqa: F401  (registers sensitive_rr)
)
from causaltrust.bench._crosscheck import DR_METRICS, OTHER_CLASS, audit_label, default_audit_mechanisms
from causaltrust.bench._demo import DEMO_FULL, DEMO_QUICK, demo_settings
from causaltrust.bench._executors import CellTask, run_cell
from causaltrust.bench._ledger import LEDGER_FORMAT, SCHEMA_VERSION, Ledger, LedgerData, SweepStats
from causaltrust.bench._pareto import (
    directions,
    dominance_summary,
    hypervolume,
    pareto_front,
    ranks,
    to_minimisation,
)
from causaltrust.bench._registry import (
    METHODS,
    BenchError,
    MethodSpec,
    causal_methods,
    get_method,
    register,
)
from causaltrust.bench._regression import REGRESSION_METHODS, REGRESSION_ONLY
from causaltrust.bench._runner import expand_grid, plan, run
from causaltrust.bench._summary import (
    config_frame,
    cost_of_win,
    meets_thresholds,
    seed_interval,
    summarize,
)
from causaltrust.bench._text import run_text

__all__ = [
    "DEMO_FULL",
    "DEMO_QUICK",
    "DR_METRICS",
    "LEDGER_FORMAT",
    "METHODS",
    "OTHER_CLASS",
    "REGRESSION_METHODS",
    "REGRESSION_ONLY",
    "SCHEMA_VERSION",
    "BenchError",
    "CellTask",
    "Ledger",
    "LedgerData",
    "MethodSpec",
    "SweepStats",
    "audit_label",
    "causal_methods",
    "config_frame",
    "cost_of_win",
    "default_audit_mechanisms",
    "demo_settings",
    "directions",
    "dominance_summary",
    "expand_grid",
    "get_method",
    "hypervolume",
    "meets_thresholds",
    "pareto_front",
    "plan",
    "ranks",
    "register",
    "run",
    "run_cell",
    "run_text",
    "seed_interval",
    "summarize",
    "to_minimisation",
]
