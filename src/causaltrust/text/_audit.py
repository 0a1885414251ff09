"""The text audit: how a model's output moves when each text is intervened on."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from causaltrust.audit import Metric, TrustReport, bootstrap_interval, metric_info
from causaltrust.exceptions import DataError
from causaltrust.text._interventions import InterventionLike, apply_intervention
from causaltrust.text._models import _as_texts

__all__ = ["audit", "predict_positive"]

Array = np.ndarray


def predict_positive(model: Any, texts: Sequence[str]) -> tuple[Array, Array]:
    """``(P(positive class), predicted class index)`` of ``model.predict_proba(texts)``.

    The positive class is the column of class 1 when ``model.classes_`` has it, else the last column.
    """
    fn = getattr(model, "predict_proba", None)
    if fn is None:
        raise DataError(
            f"the model ({type(model).__name__}) has no predict_proba; the text audit needs a classifier "
            "whose predict_proba takes a list of strings (e.g. a Pipeline of TfidfVectorizer and "
            "LogisticRegression, or ct.text.TextClassifier)"
        )
    try:
        proba = np.asarray(fn(list(texts)), dtype=np.float64)
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"the model's predict_proba failed on a list of {len(texts)} strings: {type(exc).__name__}: "
            f"{exc}. The text audit needs a model that takes raw texts"
        ) from exc
    if proba.ndim != 2 or proba.shape[0] != len(texts) or proba.shape[1] < 2:
        raise DataError(
            f"predict_proba returned shape {proba.shape}; expected ({len(texts)}, n_classes >= 2)"
        )
    if not np.all(np.isfinite(proba)):
        raise DataError("the model's predict_proba returned NaN or infinite values")
    classes = getattr(model, "classes_", None)
    pos = proba.shape[1] - 1
    if classes is not None and 1 in list(np.asarray(classes).tolist()):
        pos = list(np.asarray(classes).tolist()).index(1)
    return proba[:, pos], proba.argmax(axis=1)


class _Metrics:
    """Builds metrics with the registry's direction, bootstrap intervals and the caller's thresholds."""

    def __init__(self, random_state: int, n_bootstrap: int, thresholds: Mapping[str, Mapping[str, float]]):
        self.random_state = random_state
        self.n_bootstrap = n_bootstrap
        self.thresholds = thresholds

    def make(self, name: str, values: Array, stat: Callable[[Array], float], method: str) -> Metric:
        info = metric_info(name)
        rng = np.random.default_rng([self.random_state, zlib.crc32(name.encode())])
        low, high = bootstrap_interval(lambda idx: stat(values[idx]), len(values), rng, self.n_bootstrap)
        m = Metric(
            name=name,
            value=float(stat(values)),
            low=None if np.isnan(low) else low,
            high=None if np.isnan(high) else high,
            better=info.better,
            description=info.description,
            method=method,
        )
        thr = self.thresholds.get(name)
        if thr is not None:
            m = m.with_threshold(thr.get("min"), thr.get("max"))
        return m


def _p95(x: Array) -> float:
    return float(np.quantile(x, 0.95))


def _mean(x: Array) -> float:
    return float(np.mean(x))


def _name(intervention: InterventionLike) -> str:
    if isinstance(intervention, str):
        return intervention
    if isinstance(intervention, Mapping):
        return f"word swaps ({len(intervention)} words)"
    return getattr(intervention, "__name__", type(intervention).__name__)


def audit(
    model: Any,
    texts: Iterable[str],
    intervention: InterventionLike = "gender",
    relevant: InterventionLike | None = None,
    groups: Sequence[Any] | None = None,
    *,
    random_state: int = 0,
    n_bootstrap: int = 200,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
) -> TrustReport:
    """Audit a text classifier for invariance under ``intervention`` and response to ``relevant``.

    Each text is paired with its counterfactual under the intervention (see :func:`counterfactual_pairs`);
    texts the intervention leaves unchanged are left out (the report's meta says how many). On the changed
    texts, with p = P(positive class):

    - ``text.flip_rate``: share whose predicted class changes;
    - ``text.output_change``: signed mean change. For a gender intervention it is oriented from the male to
      the female version of each text (p(female) − p(male), using the text's pronouns and names), so a
      model that favours one gender does not average to 0 over a mixed corpus; otherwise p(cf) − p(text);
    - ``text.output_change_abs`` and ``text.output_change_p95``: mean and 95th percentile of |Δp| per text;
    - ``[group]`` variants of the flip rate and the mean |Δp| when ``groups`` (one label per text) is given;
    - ``text.relevant_output_change_abs``: mean |Δp| under the ``relevant`` intervention (e.g. the skill
      words of the biography benchmark), so invariance is judged selectively: a model that ignores the text
      is invariant to everything and has 0 here.

    Intervals are 95% percentile bootstraps over texts, each metric on its own stream derived from
    ``random_state`` and its name.

    Parameters
    ----------
    model : object
        Anything with ``predict_proba(list_of_strings)`` (binary, or several classes: the flip is of the
        argmax, the change is of the positive class's probability).
    texts : list of str
    intervention, relevant : str, dict or callable
        See :func:`counterfactual_pairs`.
    groups : sequence, optional
        One label per text (e.g. its template or its demographic group).
    random_state : int
        Seed of the bootstrap.
    n_bootstrap : int
        Bootstrap resamples per interval.
    thresholds : dict, optional
        ``{"text.flip_rate": {"max": 0.05}, ...}``; failing ones make ``report.passed`` False.

    Examples
    --------
    >>> import causaltrust as ct
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> train, test = ct.text.load_biographies(400, 200, random_state=0)
    >>> clf = make_pipeline(CountVectorizer(), LogisticRegression()).fit(train.text.tolist(), train.label)
    >>> rep = ct.text.audit(clf, test.text.tolist(), intervention="gender", relevant="skill")
    >>> rep.metric("text.flip_rate").value > 0.1
    True
    """
    items = _as_texts(texts, "texts")
    if not items:
        raise DataError("text audit: texts is empty; pass at least two texts")
    if groups is not None:
        groups = list(groups)
        if len(groups) != len(items):
            raise DataError(
                f"text audit: groups has {len(groups)} labels for {len(items)} texts; give one per text"
            )
    if n_bootstrap < 0:
        raise DataError(f"n_bootstrap must be non-negative, got {n_bootstrap}")
    thr = dict(thresholds or {})
    for name in thr:
        metric_info(name)  # unknown names raise with the list of known ones
    pairs = apply_intervention(intervention, items)
    keep = np.array([p.changed for p in pairs])
    if not keep.any():
        raise DataError(
            f"text audit: the intervention {_name(intervention)!r} changed none of the {len(items)} texts; "
            "there is nothing to compare (check the intervention, or that the texts mention it)"
        )
    idx = np.flatnonzero(keep)
    batch = [pairs[i].text for i in idx] + [pairs[i].counterfactual for i in idx]
    relevant_pairs = apply_intervention(relevant, items) if relevant is not None else []
    rel_idx = (
        np.flatnonzero([p.changed for p in relevant_pairs]) if relevant is not None else np.array([], int)
    )
    batch += [relevant_pairs[i].counterfactual for i in rel_idx]
    # Factual texts of the relevant pairs that are not already in the batch.
    missing = [i for i in rel_idx if not keep[i]]
    batch += [items[i] for i in missing]
    # One predict_proba call: embedding models batch everything together.
    score, label = predict_positive(model, batch)
    k = len(idx)
    p0, p1 = score[:k], score[k : 2 * k]
    l0, l1 = label[:k], label[k : 2 * k]
    direction = np.array([pairs[i].direction for i in idx])
    oriented = np.where(direction < 0, p0 - p1, p1 - p0)
    delta = np.abs(p1 - p0)
    flips = (l0 != l1).astype(np.float64)
    mk = _Metrics(random_state, n_bootstrap, thr)
    boot = "mean over changed texts; bootstrap over texts"
    sign_note = "p(female version) - p(male version)" if _is_gender(intervention) else "p(cf) - p(text)"
    metrics = [
        mk.make("text.flip_rate", flips, _mean, boot),
        mk.make("text.output_change", oriented, _mean, f"{sign_note}; {boot}"),
        mk.make("text.output_change_abs", delta, _mean, boot),
        mk.make("text.output_change_p95", delta, _p95, "95th percentile over changed texts; bootstrap"),
    ]
    if groups is not None:
        g = np.array([groups[i] for i in idx], dtype=object)
        for level in sorted({str(x) for x in g}):
            sel = np.array([str(x) == level for x in g])
            metrics.append(mk.make(f"text.flip_rate[{level}]", flips[sel], _mean, boot))
            metrics.append(mk.make(f"text.output_change_abs[{level}]", delta[sel], _mean, boot))
    notes = [
        f"{len(idx)} of {len(items)} texts were changed by the intervention {_name(intervention)!r}; the "
        "metrics are over those texts",
    ]
    if _is_gender(intervention):
        notes.append(
            "gender swaps use a declared lexicon; an ambiguous 'her' becomes 'his' or 'him' by a rule on the "
            "next word (accuracy on Winogender and WinoBias in benchmarks/RESULTS.md)"
        )
    if relevant is not None:
        if len(rel_idx) == 0:
            notes.append(f"the relevant intervention {_name(relevant)!r} changed none of the texts")
        else:
            pos = {i: j for j, i in enumerate(idx)}
            base = 2 * k + len(rel_idx)
            extra = {i: base + j for j, i in enumerate(missing)}
            f0 = np.array([score[pos[i]] if i in pos else score[extra[i]] for i in rel_idx])
            f1 = score[2 * k : 2 * k + len(rel_idx)]
            metrics.append(
                mk.make(
                    "text.relevant_output_change_abs",
                    np.abs(f1 - f0),
                    _mean,
                    f"mean |change| over the {len(rel_idx)} texts {_name(relevant)!r} changed; bootstrap",
                )
            )
    meta: dict[str, Any] = {
        "spec": f"text audit ({_name(intervention)})",
        "model": type(model).__name__,
        "kind": "text",
        "intervention": _name(intervention),
        "relevant": None if relevant is None else _name(relevant),
        "n_texts": len(items),
        "n_changed": len(idx),
        "n_relevant_changed": len(rel_idx),
        "random_state": random_state,
        "text_examples": [
            {
                "text": pairs[idx[j]].text,
                "counterfactual": pairs[idx[j]].counterfactual,
                "change": float(p1[j] - p0[j]),
            }
            for j in np.argsort(-delta, kind="stable")[:5]
        ],
    }
    licence = getattr(model, "licence_", None)
    if licence:
        meta["model_licence"] = licence
        notes.append(str(licence))
    return TrustReport(tuple(metrics), tuple(notes), meta)


def _is_gender(intervention: InterventionLike) -> bool:
    return isinstance(intervention, str) and intervention in ("gender", "gender_words")
