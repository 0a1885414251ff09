"""Text track benchmark (issues 14 and 15): interventions, the text audit, and the invariant text learners.

Measures, in one run on this machine:

1. "her" rule and whole-sentence accuracy of ``ct.text.swap_gender`` on Winogender and WinoBias;
2. pair generation (texts/s) of ``ct.text.counterfactual_pairs`` against a plain word-for-word dictionary
   swap (``re.sub`` over the same lexicon, no grammar: the floor any swap costs);
3. audit throughput with MiniLM: ``ct.text.audit`` of an embedding classifier (cold embedding cache) against
   sentence-transformers' own ``encode`` of the same factual and counterfactual texts plus the same head;
4. the accuracy / invariance front of ERM, CDA, entity masking and the consistency regulariser on the built-in
   biography benchmark (gender tracks the label in training only), seeds 0-2, heads on MiniLM embeddings, a
   constant model (ignores the text) and a bag-of-words ERM for reference, then LoRA fine-tuning of MiniLM's
   top layer (one seed, a smaller training set) with training throughput.

Usage: ``PYTHONPATH=src python benchmarks/text.py [--quick] [--threads N] [--no-finetune] [--write]``
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
import pandas as pd

import causaltrust as ct

SECTION = "## Text interventions, text audit and invariant text learners (issues 14 and 15)"


def her_accuracy() -> pd.DataFrame:
    acc = ct.text.gender_swap_accuracy()
    return acc.groupby("source").agg(
        directions=("correct", "size"),
        sentence_exact=("correct", "mean"),
        her_tokens_sentences=("her_correct", "count"),
        her_correct=("her_correct", "mean"),
    )


def pair_throughput(texts: list[str]) -> dict[str, float]:
    from causaltrust.text._lexicon import GENDER_PAIRS

    table = {m: f for m, f in GENDER_PAIRS} | {f: m for m, f in GENDER_PAIRS} | {"her": "his", "his": "her"}
    pattern = re.compile(
        r"\b(" + "|".join(sorted(map(re.escape, table), key=len, reverse=True)) + r")\b", re.I
    )

    def naive(t: str) -> str:
        return pattern.sub(lambda m: table.get(m.group().lower(), m.group()), t)

    t0 = time.perf_counter()
    df = ct.text.counterfactual_pairs(texts, intervention="gender")
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    [naive(t) for t in texts]
    peer = time.perf_counter() - t0
    assert len(df) == len(texts)
    return {
        "texts": len(texts),
        "ours_texts_per_s": len(texts) / ours,
        "naive_texts_per_s": len(texts) / peer,
    }


def audit_overhead(texts: list[str], train: pd.DataFrame, threads: int) -> dict[str, float]:
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    clf = ct.text.EmbeddingClassifier(n_threads=threads).fit(train.text.tolist(), train.label)
    head: LogisticRegression = clf.estimator_
    st = SentenceTransformer(str(ct.text.minilm_path()), device="cpu")
    pairs = ct.text.counterfactual_pairs(texts)
    both = pairs.text.tolist() + pairs.counterfactual.tolist()
    ct.text.minilm_encoder().encode(["warm up"])
    st.encode(["warm up"])
    results = {}
    for _ in range(2):  # alternate to share the machine's load fairly; keep the better of two
        ct.text.minilm_encoder().clear_cache()
        t0 = time.perf_counter()
        r = ct.text.audit(clf, texts, intervention="gender", random_state=0)
        results.setdefault("ours", []).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ct.text.torch_threads(threads):
            emb = st.encode(both, batch_size=64)
        head.predict_proba(emb)
        results.setdefault("peer", []).append(time.perf_counter() - t0)
    ours, peer = min(results["ours"]), min(results["peer"])
    return {
        "texts": len(texts),
        "encoded": len(both),
        "audit_s": ours,
        "st_encode_plus_head_s": peer,
        "overhead": ours / peer - 1.0,
        "flip_rate": r.metric("text.flip_rate").value,
    }


def encode_overhead(texts: list[str], threads: int, reps: int = 5) -> dict[str, float]:
    """Our MiniLM encoder (cache off) against sentence-transformers' encode, alternating, best and median."""
    from sentence_transformers import SentenceTransformer

    ours = ct.text.MiniLMEncoder(cache=False, n_threads=threads)
    st = SentenceTransformer(str(ct.text.minilm_path()), device="cpu")
    ours.encode(texts[:8])
    st.encode(texts[:8])
    t_ours, t_st = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        a = ours.encode(texts)
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ct.text.torch_threads(threads):
            b = st.encode(texts, batch_size=64)
        t_st.append(time.perf_counter() - t0)
    return {
        "texts": len(texts),
        "reps": reps,
        "ours_best_s": min(t_ours),
        "st_best_s": min(t_st),
        "ratio_best": min(t_ours) / min(t_st),
        "ratio_median": float(np.median(t_ours) / np.median(t_st)),
        "max_abs_diff": float(np.abs(a - b).max()),
    }


class Constant:
    """Predicts the training prevalence for every text: perfectly invariant, and useless."""

    classes_ = np.array([0, 1])

    def fit(self, texts, y):
        self.p_ = float(np.mean(y))
        return self

    def predict_proba(self, texts):
        p = np.full(len(texts), self.p_)
        return np.column_stack([1 - p, p])

    def predict(self, texts):
        return (self.predict_proba(texts)[:, 1] >= 0.5).astype(int)


def evaluate(clf, test: pd.DataFrame) -> dict[str, float]:
    texts = test.text.tolist()
    rep = ct.text.audit(clf, texts, relevant="skill", n_bootstrap=0)
    p = clf.predict_proba(texts)[:, 1]
    return {
        "shifted_acc": float(np.mean((p >= 0.5) == test.label.to_numpy())),
        "flip_rate": rep.metric("text.flip_rate").value,
        "output_change": rep.metric("text.output_change").value,
        "output_change_abs": rep.metric("text.output_change_abs").value,
        "output_change_p95": rep.metric("text.output_change_p95").value,
        "relevant_change_abs": rep.metric("text.relevant_output_change_abs").value,
    }


def front(seeds: list[int], n_train: int, n_test: int, threads: int) -> pd.DataFrame:
    from sklearn.feature_extraction.text import CountVectorizer

    rows = []
    for seed in seeds:
        train, test = ct.text.load_biographies(n_train, n_test, bias=0.8, random_state=seed)
        X, y = train.text.tolist(), train.label.to_numpy()
        # Embed every text the methods will see once (cached per text), so the fit times below are the
        # methods' own cost; the embedding time is reported separately.
        all_texts = X + ct.text.counterfactual_pairs(X).counterfactual.tolist()
        all_texts += [ct.text.neutralize_gender(t) for t in X]
        t0 = time.perf_counter()
        ct.text.minilm_encoder(n_threads=threads).encode(all_texts)
        embed_s = time.perf_counter() - t0
        models = {
            "constant (ignores text)": Constant(),
            "erm (bag of words)": ct.text.TextClassifier("erm", encoder=CountVectorizer()),
        }
        for m in ("erm", "cda", "entity", "consistency"):
            models[m] = ct.text.TextClassifier(m, n_threads=threads, random_state=seed)
        for name, clf in models.items():
            t0 = time.perf_counter()
            clf.fit(X, y)
            fit_s = time.perf_counter() - t0
            rows.append(
                {"seed": seed, "method": name, "fit_s": fit_s, "embed_s": embed_s, **evaluate(clf, test)}
            )
    return pd.DataFrame(rows)


def finetune(n_train: int, n_test: int, threads: int, epochs: int) -> pd.DataFrame:
    rows = []
    train, test = ct.text.load_biographies(n_train, n_test, bias=0.8, random_state=0)
    for m in ("erm", "cda", "consistency"):
        clf = ct.text.TextClassifier(m, finetune="lora", epochs=epochs, n_threads=threads, random_state=0)
        t0 = time.perf_counter()
        clf.fit(train.text.tolist(), train.label)
        fit_s = time.perf_counter() - t0
        seen = epochs * (
            n_train + clf.n_counterfactuals_ * (m == "cda")
        ) + epochs * clf.n_counterfactuals_ * (m == "consistency")
        rows.append(
            {"method": f"{m} (LoRA r=8, top layer)", "fit_s": fit_s, "train_texts_per_s": seen / fit_s}
            | evaluate(clf, test)
        )
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["shifted_acc", "flip_rate", "output_change", "output_change_abs", "output_change_p95",
            "relevant_change_abs", "fit_s"]  # fmt: skip
    g = df.groupby("method", sort=False)[cols]
    mean, sd = g.mean(), g.std(ddof=1)
    out = mean.copy()
    for c in ("shifted_acc", "flip_rate", "output_change_abs", "relevant_change_abs"):
        out[c] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean[c], sd[c], strict=True)]
    return out


def markdown(df: pd.DataFrame) -> str:
    """A GitHub table (no tabulate dependency)."""
    df = df.reset_index() if df.index.name or not isinstance(df.index, pd.RangeIndex) else df

    def cell(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-finetune", action="store_true")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 of the front")
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--finetune-n", type=int, default=400)
    ap.add_argument("--write", action="store_true", help="write the section of benchmarks/RESULTS.md")
    ap.add_argument("--encode-only", action="store_true", help="only the encoder vs sentence-transformers")
    args = ap.parse_args()
    if args.encode_only:
        _, test = ct.text.load_biographies(10, 300, random_state=0)
        both = test.text.tolist() + [ct.text.swap_gender(t) for t in test.text]
        print(encode_overhead(both, args.threads))
        return
    n_train, n_test = (600, 300) if args.quick else (args.n_train, args.n_test)
    seeds = [0] if args.quick else list(range(args.seeds))
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    out = []

    acc = her_accuracy()
    print(acc.round(4))
    out.append(("### Gender swap accuracy (reference swaps in Winogender and WinoBias)", acc.round(4)))

    train, test = ct.text.load_biographies(n_train, n_test, random_state=0)
    corpus = test.text.tolist() * 5 + ct.text.load_winogender().sentence.tolist()
    pt = pair_throughput(corpus)
    print(pt)
    out.append(("### Pair generation", pd.DataFrame([pt]).round(1)))

    ao = audit_overhead(test.text.tolist(), train, args.threads)
    print(ao)
    out.append(
        ("### Audit throughput with MiniLM vs sentence-transformers encode", pd.DataFrame([ao]).round(3))
    )

    fr = front(seeds, n_train, n_test, args.threads)
    summary = summarise(fr)
    print(summary)
    out.append(
        (f"### Accuracy / invariance front (seeds {seeds}, n_train={n_train}, n_test={n_test})", summary)
    )

    if not args.no_finetune:
        ft = finetune(min(n_train, args.finetune_n), n_test, args.threads, epochs=2)
        print(ft.round(3))
        out.append(
            (f"### LoRA fine-tuning (seed 0, n_train={min(n_train, args.finetune_n)}, 2 epochs)", ft.round(3))
        )

    body = "\n".join(f"{h}\n\n{markdown(t)}\n" for h, t in out)
    print(body)
    if args.write:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).parent))
        from _results import write_section

        command = "PYTHONPATH=src python benchmarks/text.py " + " ".join(sys.argv[1:])
        write_section(f"{SECTION}\n\nCommand: `{command}` (torch threads: {args.threads}).\n\n{body}")


if __name__ == "__main__":
    main()
