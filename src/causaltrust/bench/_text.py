"""Text methods in the bench: the invariant text learners on the built-in biography benchmark.

Text methods are registered with ``data="text"``: ``run`` and ``demo`` (spec scenarios, tables) never pick
them up, and ``run_text`` runs only them. Cells go to the same DuckDB ledger (same cell identity rules, same
metrics table), so ``pareto_front``, ``hypervolume`` and ``ct.report.write_html`` work on them unchanged.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from causaltrust.bench._executors import empty_result, mark_failed
from causaltrust.bench._ledger import Ledger, check_store
from causaltrust.bench._registry import METHODS, BenchError, MethodSpec, register, resolve_params
from causaltrust.exceptions import did_you_mean
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["TEXT_SCENARIO", "run_text"]

TEXT_SCENARIO = "biographies"
# encoder: "minilm" (sentence embeddings) or "bow" (bag of words, CountVectorizer): a cheap reference.
_TEXT_PARAMS = {"strength": 1.0, "C": 1.0, "finetune": False, "epochs": 2, "encoder": "minilm"}


def _builder(method: str) -> Any:
    def build(spec: TrustSpec | None, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
        from causaltrust.text import TextClassifier

        if params["encoder"] not in ("minilm", "bow"):
            raise BenchError(f"text methods: encoder must be 'minilm' or 'bow', got {params['encoder']!r}")
        if params["encoder"] == "bow":
            from sklearn.feature_extraction.text import CountVectorizer

            encoder: Any = CountVectorizer()
        else:
            encoder = "minilm"
        return TextClassifier(
            encoder=encoder,
            method=method,
            intervention="gender",
            strength=float(params["strength"]),
            C=float(params["C"]),
            finetune=params["finetune"],
            epochs=int(params["epochs"]),
            random_state=seed,
        )

    build.__name__ = f"build_text_{method}"
    return build


_TEXT_BUILDERS = {m: _builder(m) for m in ("erm", "cda", "entity", "consistency")}
_DESCRIPTIONS = {
    "erm": "text ERM: logistic head on MiniLM embeddings (or LoRA fine-tuning)",
    "cda": "counterfactual data augmentation: each text plus its gender swap, same label",
    "entity": "entity-intervention preprocessing: names and gendered words masked at fit and predict",
    "consistency": "ERM + strength x mean squared logit change between each text and its gender swap",
}
for _m, _build in _TEXT_BUILDERS.items():
    register(
        MethodSpec(
            f"text_{_m}",
            _DESCRIPTIONS[_m],
            "none" if _m == "erm" else "gender (text intervention)",
            _build,
            _TEXT_PARAMS,
            None,
            "text",
            # The counterfactual-consistency learner is the text track's causal method (invariance asked of
            # the declared intervention only); augmentation and masking are its baselines, like cf_augment.
            causal=_m == "consistency",
        )
    )


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_text(
    methods: Sequence[str],
    seeds: Sequence[int],
    *,
    grid: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
    store: str = "results.duckdb",
    n_train: int = 2000,
    n_test: int = 1000,
    bias: float = 0.8,
    n_bootstrap: int = 200,
) -> Ledger:
    """Run text methods on the built-in biography benchmark and record every cell in a ledger.

    Each cell draws its biographies from the seed (all methods at one seed see the same texts), fits the
    method, and records the shifted-test accuracy (``accuracy.observational``: test labels do not depend on
    gender) and the text audit (``text.flip_rate``, ``text.output_change`` / ``_abs`` / ``_p95`` under the
    gender swap, ``text.relevant_output_change_abs`` under the skill swap). Cells run in this process, one
    after the other, so MiniLM embeddings are computed once per text and reused. Finished cells are skipped
    on a second run.

    Parameters
    ----------
    methods : list of str
        Names of text methods (``text_erm``, ``text_cda``, ``text_entity``, ``text_consistency``).
    seeds : list of int
    grid : dict, optional
        Per-method parameter lists, e.g. ``{"text_consistency": {"strength": [0.1, 1, 10]}}``.
    store : path
        The DuckDB ledger.
    n_train, n_test, bias : benchmark sizes and the training correlation of gender with the label.
    n_bootstrap : int
        Bootstrap resamples of the audit's intervals.

    Examples
    --------
    >>> import os, tempfile
    >>> import causaltrust as ct
    >>> store = os.path.join(tempfile.mkdtemp(), "text.duckdb")
    >>> led = ct.bench.run_text(["text_erm"], [0], store=store, n_train=60, n_test=20,
    ...                         n_bootstrap=0)  # doctest: +SKIP
    """
    from causaltrust.text import load_biographies

    chosen = []
    for name in methods:
        if name not in METHODS:
            hint = did_you_mean(name, _text_methods())
            raise BenchError(f"unknown method {name!r}{hint}; text methods: {', '.join(_text_methods())}")
        if METHODS[name].data != "text":
            raise BenchError(f"method {name!r} takes tables, not text; run it with causaltrust.bench.run")
        chosen.append(METHODS[name])
    if not chosen:
        raise BenchError(f"methods: give at least one text method ({', '.join(_text_methods())})")
    grid = dict(grid or {})
    unknown = sorted(set(grid) - {m.name for m in chosen})
    if unknown:
        raise BenchError(f"grid names methods that are not run: {unknown}")
    settings = {"n_train": int(n_train), "n_test": int(n_test), "bias": float(bias)}
    settings["n_bootstrap"] = int(n_bootstrap)
    settings_json = _canonical(settings)
    path = check_store(store)
    ledger = Ledger.open(path, create=True)
    done = ledger.finished_ids()
    for seed in [int(s) for s in seeds]:
        data = load_biographies(n_train, n_test, bias=bias, random_state=seed)
        for method in chosen:
            values = grid.get(method.name, {})
            keys = sorted(values)
            for combo in _product([list(values[k]) for k in keys]):
                params = resolve_params(method, dict(zip(keys, combo, strict=True)))
                ident = {"scenario": TEXT_SCENARIO, "method": method.name, "params": params, "seed": seed}
                cell_id = hashlib.sha256(_canonical({**ident, "settings": settings}).encode()).hexdigest()
                if cell_id not in done:
                    ledger.write(_cell(cell_id, method, params, seed, settings_json, data, n_bootstrap))
    return ledger


def _cell(
    cell_id: str,
    method: MethodSpec,
    params: dict[str, Any],
    seed: int,
    settings_json: str,
    data: Any,
    n_boot: int,
) -> dict[str, Any]:
    """One text cell: fit, shifted-test accuracy, text audit; a plain dict for ``Ledger.write``."""
    from causaltrust.text import audit

    train, test = data
    spec_hash = hashlib.sha256(f"{TEXT_SCENARIO}:{settings_json}".encode()).hexdigest()
    res = empty_result(
        cell_id, TEXT_SCENARIO, spec_hash, method.name, _canonical(params), seed, settings_json
    )
    T, labels = test.text.tolist(), test.label.to_numpy()
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        model = method.build(None, None, params, seed)  # type: ignore[arg-type]
        model.fit(train.text.tolist(), train.label.to_numpy())
        t1 = time.perf_counter()
        rep = audit(model, T, intervention="gender", relevant="skill", random_state=seed, n_bootstrap=n_boot)
        correct = (model.predict(T) == labels).astype(float)
        t2, c2 = time.perf_counter(), time.process_time()
    except Exception as exc:
        return mark_failed(res, exc)
    acc = float(correct.mean())
    half = 1.96 * float(correct.std(ddof=1) / np.sqrt(len(correct)))
    metrics = [{"name": "accuracy.observational", "value": acc, "low": acc - half, "high": acc + half}]
    metrics[0].update(better="higher", passed=None)
    for m in rep.metrics:
        metrics.append({"name": m.name, "value": float(m.value), "low": m.low, "high": m.high})
        metrics[-1].update(better=m.better, passed=m.passed)
    notes = [
        "text benchmark: accuracy.observational is on the shifted test set (gender independent of the "
        "label); its interval is normal, over texts",
        *rep.notes,
    ]
    res.update(metrics=metrics, notes=notes, status="ok", fit_seconds=t1 - t0, audit_seconds=t2 - t1)
    res.update(cpu_seconds=c2 - c0, finished_at=_now())
    return res


def _product(lists: list[list[Any]]) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.product(*lists)) if lists else [()]


def _text_methods() -> list[str]:
    return sorted(n for n, m in METHODS.items() if m.data == "text")
