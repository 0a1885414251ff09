"""Naive vs deconfounded reward models on observational feedback with a known causal reward (issue 17).

Run: ``.venv/bin/python benchmarks/reward.py [--seeds 0 1 2] [--rows 1500] [--no-write]``.

For each confounding strength and seed, the simulator draws observed posts (confounders select the attributes
and raise engagement), every reward model is fitted on MiniLM embeddings of the texts, and is scored on fresh
candidate texts drawn independently of the confounders: Spearman correlation with the true causal reward, and the
true reward of the best-of-n text it would pick. Methods, all given the same confounder columns except the naive
one: naive (outcome on embeddings), "adjust" (confounders appended as extra regressors, the usual regression
adjustment), "outcome" (outcome residualised on the confounders, cross-fitted), "dml" (outcome and embeddings
residualised, cross-fitted: ``ct.text.RewardModel``'s default). Writes the ``## Deconfounded rewards (issue 17)``
section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import RidgeCV

import _results
import causaltrust as ct

CONF = ["peak_hour", "audience"]
STRENGTHS = (0.0, 0.5, 1.0, 2.0)


class Adjust:
    """Regression adjustment: outcome on [embedding, confounders]; the reward is the embedding part."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder

    def fit(self, texts: list[str], y: np.ndarray, *, confounders: pd.DataFrame) -> Adjust:
        emb = self.encoder.encode(texts)
        conf = confounders[CONF].to_numpy(float)
        conf = (conf - conf.mean(0)) / conf.std(0)
        self.ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(np.hstack([emb, conf]), y)
        self.d = emb.shape[1]
        return self

    def predict(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.encoder.encode(texts) @ self.ridge.coef_[: self.d])


def best_of_n(pred: np.ndarray, truth: np.ndarray, n: int, draws: int, rng: np.random.Generator) -> float:
    """Mean true reward of the candidate with the highest predicted reward among ``n`` drawn at random."""
    idx = np.stack([rng.choice(len(pred), size=n, replace=False) for _ in range(draws)])
    pick = idx[np.arange(draws), np.argmax(pred[idx], axis=1)]
    return float(truth[pick].mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rows", type=int, default=1500)
    ap.add_argument("--candidates", type=int, default=300)
    ap.add_argument("--n", type=int, default=16, help="best-of-n")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    enc = ct.text.minilm_encoder()
    t0 = time.perf_counter()
    rows = []
    for s in STRENGTHS:
        sim = ct.text.FeedbackSimulator(confounding=s)
        for seed in args.seeds:
            data = sim.sample(args.rows, random_state=seed)
            cand = sim.candidates(args.candidates, random_state=10_000 + seed)
            models: dict[str, Any] = {
                "naive": ct.text.RewardModel(encoder=enc, random_state=seed),
                "adjust": Adjust(enc),
                "outcome": ct.text.RewardModel(CONF, encoder=enc, residualize="outcome", random_state=seed),
                "dml": ct.text.RewardModel(CONF, encoder=enc, random_state=seed),
            }
            rng_draw = np.random.default_rng(seed)
            oracle = best_of_n(cand.true_reward, cand.true_reward, args.n, 2000, np.random.default_rng(seed))
            random_pick = float(cand.true_reward.mean())
            for name, model in models.items():
                if name == "naive":
                    model.fit(data.texts, data.outcome)
                else:
                    model.fit(data.texts, data.outcome, confounders=data.confounders)
                pred = model.predict(cand.texts)
                rng_draw = np.random.default_rng(seed)
                bon = best_of_n(pred, cand.true_reward, args.n, 2000, rng_draw)
                rows.append(
                    {
                        "confounding": s,
                        "seed": seed,
                        "method": name,
                        "spearman": float(spearmanr(pred, cand.true_reward)[0]),
                        "best_of_n": bon,
                        "gain_share": (bon - random_pick) / (oracle - random_pick),
                    }
                )
            print(f"  confounding {s}, seed {seed}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    order = ["naive", "adjust", "outcome", "dml"]

    def table(col: str) -> str:
        g = df.groupby(["confounding", "method"])[col]
        mean, sd = g.mean().unstack()[order], g.std(ddof=1).unstack()[order]
        lines = ["| confounding | " + " | ".join(order) + " |", "|---|" + "---|" * len(order)]
        for s in mean.index:
            cells = [f"{mean.loc[s, m]:.3f} ± {sd.loc[s, m]:.3f}" for m in order]
            lines.append(f"| {s:g} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    by = df.pivot_table(index=["confounding", "seed"], columns="method", values="best_of_n")
    rel = ((by["dml"] - by["naive"]) / by["naive"].abs()).groupby("confounding").mean()
    text = "\n".join(
        [
            "## Deconfounded rewards (issue 17)",
            "",
            f"Command: `.venv/bin/python benchmarks/reward.py {' '.join(sys.argv[1:] if argv is None else argv)}` "
            f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, shared machine; "
            f"{time.perf_counter() - t0:.0f} s in all). Simulator `ct.text.FeedbackSimulator` (template posts; "
            "true reward: question +0.8, call to action +0.5, personal +0.4, long −0.4, enthusiasm 0, topic ±0.2; "
            "confounders peak hour and audience select long/enthusiastic/question/call-to-action posts and raise "
            f"engagement, both scaled by the confounding strength). {args.rows} observed posts per seed, seeds "
            f"{args.seeds}, MiniLM embeddings, scored on {args.candidates} candidate texts drawn independently of "
            "the confounders. Mean ± sd over seeds.",
            "",
            "Spearman correlation between the reward and the true causal reward of the candidates:",
            "",
            table("spearman"),
            "",
            f"True reward of the best-of-{args.n} pick (2000 draws of {args.n} candidates):",
            "",
            table("best_of_n"),
            "",
            f"Share of the oracle's best-of-{args.n} gain over a random pick that each reward achieves:",
            "",
            table("gain_share"),
            "",
            "Relative best-of-n improvement of dml over naive, by strength: "
            + ", ".join(f"{s:g}: {v:+.0%}" for s, v in rel.items())
            + ".",
            "",
            "Where dml does not win: the simulator's confounding is additive and linear in the confounders, so "
            "plain regression adjustment ('adjust', the confounders as extra regressors) is correctly specified "
            "and matches dml (largest gap in mean Spearman over strengths: "
            f"{(df.groupby(['confounding', 'method'])['spearman'].mean().unstack()[['dml', 'adjust']].diff(axis=1).abs().max().iloc[-1]):.3f}); "
            "dml's cross-fitted nuisance models only pay off when g(C) is nonlinear, which this run does not "
            "test. Residualising the outcome alone ('outcome') loses a little as confounding grows, because the "
            "embeddings themselves depend on the confounders.",
            "",
            "Published reference: DeconfoundLM (arXiv 2025, 'Aligning Language Models with Observational Data') "
            "reports more than 16% improvement over baselines under entangled confounding in simulation. Their "
            "code is not released and their simulator differs, so this is not a like-for-like comparison.",
        ]
    )
    print(text)
    if not args.no_write:
        _results.write_section(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
