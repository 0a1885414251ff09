"""``SCM.fit`` against dowhy.gcm's fit on the same graph and rows, CPU time, one thread each (issue 30).

    .venv-peers/bin/python benchmarks/fit_vs_dowhy.py [--rows 10000 100000] [--repeats 5]

The readmission graph with every variable observed (dowhy has no latent variables, so the true lab value L
is a column and X an ordinary child of L and E), fitted from a sample of the true SCM:

X gets noise of sd 0.5 (``X = L + artifact(E) + normal(0, 0.5)``): with L a column, a noise-free X would be a
deterministic child, which neither library's additive-noise fit is meant for.

- linear: causaltrust ``SCM.fit(spec.structure(), data, mechanisms="linear")`` against dowhy with its linear
  classes set by hand (empirical roots, LinearRegression additive noise models for L and X,
  LogisticRegression classifiers for Z and Y; benchmarks/_readmission_peers.py ``dowhy_linear_scm``) and
  ``gcm.fit``;
- auto: ``mechanisms="auto"`` (causaltrust chooses each node's model by cross-validation) against
  ``gcm.auto.assign_causal_mechanisms`` (default quality, which also compares model classes by
  cross-validation) followed by ``gcm.fit``;
- structure only, latent: ``SCM.fit`` of the scenario's own structure (L latent, measured by X), reported
  alone (dowhy cannot express it).

Both run in this process with BLAS and OpenMP pinned to one thread (threadpoolctl), interleaved (dowhy,
then causaltrust, per repeat) so that both see the same load; the median CPU seconds
(``time.process_time``) over repeats, and the median of the per-repeat ratios. dowhy's progress bars are off,
and its ``n_jobs`` is 1 (``gcm.config.set_default_n_jobs(1)``): by default dowhy scores its ``auto``
candidates in joblib worker processes, whose CPU ``time.process_time`` of this process does not see (until
day 3 of issue 30 this script left it at -1 and under-counted dowhy's ``auto`` by 10-17x).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd
import yaml

import _readmission_peers as peers
import causaltrust as ct


def _observed_spec() -> ct.TrustSpec:
    """The readmission spec with L observed (X then an ordinary child of L and E)."""
    from importlib import resources

    raw = yaml.safe_load(resources.files("causaltrust.scenarios").joinpath("readmission.yaml").read_text())
    raw["variables"]["L"]["observed"] = True
    raw["variables"]["X"].pop("measures")
    raw["variables"]["X"]["equation"] = "L + 0.8*(E == 1) - 0.5*(E == 2) + normal(0, 0.5)"
    return ct.load_spec(raw)


def _cpu(fn: Callable[[], Any]) -> float:
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def main() -> None:
    from dowhy import gcm
    from threadpoolctl import threadpool_limits

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    gcm.config.disable_progress_bars()
    gcm.config.set_default_n_jobs(1)  # one process: its CPU is what process_time counts
    spec = _observed_spec()
    truth = ct.SCM.from_spec(spec)
    latent_spec, latent_truth = ct.scenarios.load("readmission")
    print("| case | rows | dowhy CPU s | causaltrust CPU s | dowhy / causaltrust (median of paired ratios) |")
    print("|---|---|---|---|---|")
    with threadpool_limits(1):
        for n in args.rows:
            data = truth.sample(n, random_state=0)[list(peers.COLUMNS)]
            frame = peers.dowhy_fit_frame(data)

            def dowhy_fit(mode: str, frame: pd.DataFrame = frame) -> None:
                scm = peers.dowhy_linear_scm()
                if mode == "auto":
                    scm = gcm.InvertibleStructuralCausalModel(peers.dowhy_graph())
                    gcm.auto.assign_causal_mechanisms(scm, frame)
                gcm.fit(scm, frame)

            def ours(mode: str, data: pd.DataFrame = data) -> None:
                ct.SCM.fit(spec.structure(), data, mechanisms=mode, random_state=0)

            for name in ("linear", "auto"):
                peer, own = partial(dowhy_fit, name), partial(ours, name)
                peer(), own()  # warm: imports, first-call caches
                pairs = [(_cpu(peer), _cpu(own)) for _ in range(args.repeats)]
                d = statistics.median(p for p, _ in pairs)
                c = statistics.median(o for _, o in pairs)
                r = statistics.median(p / o for p, o in pairs)
                print(f"| {name} | {n:,} | {d:.3f} | {c:.3f} | {r:.2f}x |", flush=True)
            observed = latent_truth.sample(n, random_state=0).drop(columns=list(latent_truth.latent))
            for mech in ("linear", "auto"):

                def latent(m: str = mech, observed: pd.DataFrame = observed) -> None:
                    ct.SCM.fit(latent_spec.structure(), observed, mechanisms=m, random_state=0)

                latent()
                c = statistics.median(_cpu(latent) for _ in range(args.repeats))
                print(f"| structure only, L latent, {mech} | {n:,} | (no latents in dowhy) | {c:.3f} | |")


if __name__ == "__main__":
    main()
