"""Causal mediation of gender bias inside SmolLM2-135M (Vig et al., 2020 setup) on Winogender prompts.

Run: ``.venv/bin/python benchmarks/mediation.py [--prompts 100] [--speed-prompts 2] [--no-write]``.

Prompts are Winogender sentences cut just before the pronoun ("The technician told the customer that"); the
intervention is Vig et al.'s set-gender: the occupation is replaced by the anti-stereotypical gendered noun
("The
woman told the customer that"), and y = P(anti-stereotypical pronoun) / P(stereotypical pronoun) of the next
token
(he/she, his/her or him/her by the template's pronoun case; stereotype from the BLS % female shipped with
Winogender). Only occupations that are one SmolLM2 token are kept, so every pair is token-aligned (Vig et al.
kept
single-token professions for GPT-2 too).

Per-head natural indirect effects patch each head's output at every position; per-layer indirect and direct
effects
patch the residual stream at the occupation position (as Vig et al.'s neuron interventions). Work is saved per
chunk of prompts under ``reports/mediation/`` so an interrupted run resumes. The speed-up of batching and of
reusing the clean run's activations below the patched layer is measured on the first prompts, same machine,
same
run. Writes the ``## Mediation inside SmolLM2 (issue 16)`` section of benchmarks/RESULTS.md and
``docs/mediation_heatmap.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import _results
import causaltrust as ct

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "mediation"  # replaced by --out
PNG = ROOT / "docs" / "mediation_heatmap.png"
PRONOUNS = {"nom": ("he", "she"), "poss": ("his", "her"), "acc": ("him", "her")}


def winogender_prompts(tokenizer: Any, n: int) -> pd.DataFrame:
    """Up to ``n`` token-aligned (factual, counterfactual, anti, stereo) prompts from Winogender, deterministic."""
    wg = ct.text.load_winogender()
    stats = pd.read_csv(ct.text.data_path("winogender", "occupations-stats.tsv"), sep="\t")
    female = dict(zip(stats["occupation"], stats["bls_pct_female"] > 50, strict=True))
    rows = []
    male = wg[wg["gender"] == "male"].sort_values(["template_id", "participant"])
    for r in male.itertuples():
        m = re.search(r"\b(he|his|him)\b", r.sentence)
        if m is None or m.start() == 0:
            continue
        prompt = r.sentence[: m.start()].rstrip()
        occ = r.occupation
        if not re.search(rf"\b{re.escape(occ)}\b", prompt):
            continue
        fem = bool(female[occ])
        masc, femn = PRONOUNS[r.pronoun_type]
        anti, stereo = (masc, femn) if fem else (femn, masc)
        cf = re.sub(rf"\b{re.escape(occ)}\b", "man" if fem else "woman", prompt, count=1)
        if len(tokenizer(prompt)["input_ids"]) != len(tokenizer(cf)["input_ids"]):
            continue  # multi-token occupation: not token-aligned
        rows.append(
            {
                "factual": prompt,
                "counterfactual": cf,
                "anti": anti,
                "stereo": stereo,
                "occupation": occ,
                "female_stereotyped": fem,
                "someone": r.participant == "someone",
            }
        )
    df = pd.DataFrame(rows)
    # specific participants first, then the "someone" versions, so the prompts cover as many templates as
    # possible
    df = df.sort_values("someone", kind="stable").head(n).reset_index(drop=True)
    return df


KINDS = {
    "heads": {"components": ["head"], "effects": ("indirect",)},
    "layers": {"components": ["layer"], "positions": "changed"},
}


def _chunk_path(name: str, start: int, size: int) -> Path:
    return OUT / f"{name}_{start:04d}_{size}.npz"


def compute_chunks(
    lm: Any, tok: Any, prompts: pd.DataFrame, chunk: int, deadline: datetime | None, reverse: bool = False
) -> int:
    """Heads then layers for each chunk of prompts, each saved as it finishes (an interrupted run resumes).

    No chunk is started after ``deadline``; returns how many prompts have both results.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    done = 0
    starts = list(range(0, len(prompts), chunk))
    for start in reversed(starts) if reverse else starts:
        part = prompts.iloc[start : start + chunk]
        for name, kw in KINDS.items():
            path = _chunk_path(name, start, len(part))
            if path.exists():
                continue
            if deadline is not None and datetime.now(UTC) > deadline:
                print(f"  deadline reached: stopping after {done} prompts", flush=True)
                return done
            pairs = list(zip(part["factual"], part["counterfactual"], strict=True))
            targets = list(zip(part["anti"], part["stereo"], strict=True))
            res = ct.text.mediation(lm, pairs, tokenizer=tok, targets=targets, **kw)
            np.savez(
                path,
                log_y_factual=res.log_y_factual,
                log_y_counterfactual=res.log_y_counterfactual,
                log_y_indirect=res.log_y_indirect,
                log_y_direct=res.log_y_direct,
                seconds=np.array([res.seconds]),
                n_forward=np.array([res.n_forward]),
                token_layers=np.array([res.token_layers]),
            )
            print(f"  {name}: prompts {start}-{start + len(part) - 1}, {res.seconds:.0f} s", flush=True)
        done += len(part)
    return done


def assemble(lm: Any, tok: Any, prompts: pd.DataFrame, name: str, chunk: int) -> Any:
    """Join the saved chunks of ``name`` into one MediationResult over the prompts they cover."""
    kw = KINDS[name]
    parts, rows = [], []
    for start in range(0, len(prompts), chunk):
        path = _chunk_path(name, start, len(prompts.iloc[start : start + chunk]))
        if not path.exists():
            continue  # a chunk not computed (deadline): the result covers the chunks that were
        z = np.load(path, allow_pickle=False)
        parts.append({k: z[k] for k in z.files})
        rows.extend(range(start, min(start + chunk, len(prompts))))
    prompts = prompts.iloc[rows].reset_index(drop=True)
    template = ct.text.mediation(
        lm,
        [(prompts["factual"].iloc[0], prompts["counterfactual"].iloc[0])],
        tokenizer=tok,
        targets=[(prompts["anti"].iloc[0], prompts["stereo"].iloc[0])],
        **{**kw, "effects": ("indirect",), "layers": [0]},
    )  # cheap: only for the metadata (model name, notes, sizes)
    return dataclasses.replace(
        template,
        components=_components(kw["components"], template.n_layers, template.n_heads),
        log_y_factual=np.concatenate([p["log_y_factual"] for p in parts]),
        log_y_counterfactual=np.concatenate([p["log_y_counterfactual"] for p in parts]),
        log_y_indirect=np.concatenate([p["log_y_indirect"] for p in parts]),
        log_y_direct=np.concatenate([p["log_y_direct"] for p in parts]),
        pairs=tuple(zip(prompts["factual"], prompts["counterfactual"], strict=True)),
        seconds=float(sum(p["seconds"][0] for p in parts)),
        n_forward=int(sum(p["n_forward"][0] for p in parts)),
        token_layers=int(sum(p["token_layers"][0] for p in parts)),
        stats={"reuse": True, "batch_size": 64, "effects": tuple(kw.get("effects", ("indirect", "direct")))},
    )


def _components(kinds: Any, n_layers: int, n_heads: int) -> pd.DataFrame:
    rows = []
    for kind in dict.fromkeys(kinds):
        for layer in range(n_layers):
            rows.extend((kind, layer, h) for h in range(n_heads)) if kind == "head" else rows.append(
                (kind, layer, None)
            )
    df = pd.DataFrame(rows, columns=["kind", "layer", "head"])
    df["head"] = df["head"].astype("Int64")
    return df


def speed(lm: Any, tok: Any, prompts: pd.DataFrame) -> list[dict[str, Any]]:
    """Per-head indirect effects on the same prompts three ways: batched + reuse, batched, one run at a time."""
    pairs = list(zip(prompts["factual"], prompts["counterfactual"], strict=True))
    targets = list(zip(prompts["anti"], prompts["stereo"], strict=True))
    out, ref = [], None
    for label, reuse, batch in (
        ("batched, reuse below the patch", True, 64),
        ("batched, full forward", False, 64),
        ("one run at a time, full forward", False, 1),
    ):
        res = ct.text.mediation(
            lm,
            pairs,
            tokenizer=tok,
            targets=targets,
            components=["head"],
            effects=("indirect",),
            reuse=reuse,
            batch_size=batch,
        )
        ref = res if ref is None else ref
        diff = float(np.nanmax(np.abs(res.log_y_indirect - ref.log_y_indirect)))
        out.append(
            {
                "config": label,
                "seconds": res.seconds,
                "forward": res.n_forward,
                "token_layers": res.token_layers,
                "max |Δ log y| vs first": diff,
            }
        )
        print(f"  speed: {label}: {res.seconds:.1f} s", flush=True)
    return out


def heatmap_png(res: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = res.heatmap("head")
    scale = float(np.nanmax(np.abs(grid)))
    fig, ax = plt.subplots(figsize=(4.6, 7.2), dpi=110)
    im = ax.imshow(grid, cmap="RdBu_r", vmin=-scale, vmax=scale, aspect="auto")
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_xticks(range(res.n_heads))
    ax.set_yticks(range(0, res.n_layers, 2))
    ax.set_title(
        f"SmolLM2-135M (dequantised Q4_1): mean indirect effect\nper head, {len(res.pairs)} Winogender prompts",
        fontsize=9,
    )
    fig.colorbar(im, ax=ax, shrink=0.6, label="NIE (relative change of y)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=100)
    ap.add_argument("--speed-prompts", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=10)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--deadline", help="UTC HH:MM after which no new chunk starts; results cover the chunks done"
    )
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument(
        "--reverse", action="store_true", help="compute the chunks last to first (a second worker)"
    )
    ap.add_argument(
        "--tiny", action="store_true", help="smoke test: a random 2-layer Llama, SmolLM2's tokenizer"
    )
    args = ap.parse_args(argv)
    import torch

    global OUT
    OUT = args.out or OUT
    if args.threads:
        torch.set_num_threads(args.threads)
    png = OUT / "heatmap.png" if args.no_write else PNG
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    if args.tiny:
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        path = ct.text.smollm2_path()
        tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        cfg = LlamaConfig(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
        lm = LlamaForCausalLM(cfg).eval()
    else:
        tok, lm = ct.text.load_smollm2()
    load_s = time.perf_counter() - t0
    print(f"loaded SmolLM2 in {load_s:.0f} s; {ct.text.SMOLLM2_NOTE}", flush=True)
    prompts = winogender_prompts(tok, args.prompts)
    print(f"{len(prompts)} token-aligned prompts, {prompts['occupation'].nunique()} occupations", flush=True)

    prompts.to_csv(OUT / "prompts.csv", index=False) if OUT.exists() else None
    sp_path = OUT / f"speed_{args.speed_prompts}.json"
    if sp_path.exists():
        sp = json.loads(sp_path.read_text())
    else:
        sp = speed(lm, tok, prompts.head(args.speed_prompts)) if args.speed_prompts else []
        OUT.mkdir(parents=True, exist_ok=True)
        sp_path.write_text(json.dumps(sp))
    deadline = None
    if args.deadline:
        hh, mm = (int(x) for x in args.deadline.split(":"))
        deadline = datetime.now(UTC).replace(hour=hh, minute=mm, second=0, microsecond=0)
    n_done = compute_chunks(lm, tok, prompts, args.chunk, deadline, reverse=args.reverse)
    if n_done == 0:
        print("no chunk finished; nothing to report")
        return 1
    heads = assemble(lm, tok, prompts, "heads", args.chunk)
    layers = assemble(lm, tok, prompts, "layers", args.chunk)
    ct.report.write_html(heads, OUT / "heads.html")
    ct.report.write_html(layers, OUT / "layers.html")
    heatmap_png(heads, png)

    te, lo, hi = heads.total
    top_heads = heads.ranked("head", 10)[
        ["rank", "layer", "head", "indirect", "indirect_low", "indirect_high"]
    ]
    top_layers = layers.ranked("layer", 8)[
        ["rank", "layer", "indirect", "indirect_low", "indirect_high", "direct"]
    ]
    head_layer = pd.Series(np.nansum(heads.heatmap("head"), axis=1))
    layer_share = head_layer.abs() / head_layer.abs().sum()
    mid = int(layer_share.iloc[heads.n_layers // 3 : 2 * heads.n_layers // 3].sum() * 100)
    per_fwd_ms = 1000 * heads.seconds / heads.n_forward
    per_tl_us = 1e6 * heads.seconds / heads.token_layers
    lines = [
        "## Mediation inside SmolLM2 (issue 16)",
        "",
        f"Command: `.venv/bin/python benchmarks/mediation.py {' '.join(sys.argv[1:] if argv is None else argv)}` ("
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()},"
        f" torch {torch.__version__}, {torch.get_num_threads()} threads, os.cpu_count()={os.cpu_count()}; load "
        f"average {load_start:.2f} at the start). "
        + (
            "**The machine was shared with other jobs (load average above the cores)**: read wall times as "
            "upper bounds and compare configurations through their ratios and per-forward-pass costs."
            if load_start > (os.cpu_count() or 1)
            else "No other job ran."
        ),
        "",
        f"Whole run (load, speed check, every chunk, reports): {time.perf_counter() - t0:.0f} s wall; "
        f"{n_done} prompts have both results in {OUT} (chunks already there are reused, not recomputed, so "
        "only a run into an empty folder times the whole job). Target: ≤ 600 s on 2 cores for 100 prompts.",
        "",
        f"Model: {ct.text.SMOLLM2_NOTE}. Loaded in {load_s:.0f} s.",
        "",
        f"Prompts: {len(heads.pairs)} of {len(prompts)} Winogender sentences cut before the pronoun, {prompts['occupation'].nunique()} "
        "single-token occupations, set-gender intervention (occupation → 'man' / 'woman', anti-stereotypical), "
        "y = P(anti-stereotypical pronoun) / P(stereotypical pronoun).",
        "",
        f"**Total effect** TE = {te:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}); median per prompt "
        f"{np.median(heads.total_per_pair):+.3f}; {np.mean(heads.total_per_pair > 0):.0%} of prompts > 0.",
        "",
        f"### Per-head natural indirect effects (every position), {heads.n_layers} × {heads.n_heads} heads",
        "",
        f"Wall time {heads.seconds:.0f} s for {heads.n_forward} forward passes ({heads.n_forward / heads.seconds:.1f} "
        f"per second; {per_fwd_ms:.1f} ms per patched pass, {per_tl_us:.1f} µs per token-layer), batched with "
        "reuse below the patch. Headline: " + heads.headline() + ".",
        "",
        f"Share of the summed |head NIE| by layer third: middle third (layers {heads.n_layers // 3}–"
        f"{2 * heads.n_layers // 3 - 1}) {mid}%, top 10 heads {heads.concentration('head', 10):.0%}.",
        "",
        _md(top_heads),
        "",
        "### Per-layer residual stream at the occupation position (indirect and direct)",
        "",
        f"Wall time {layers.seconds:.0f} s for {layers.n_forward} forward passes. " + layers.headline() + ".",
        "",
        _md(top_layers),
    ]
    if sp:
        base = sp[0]["seconds"]
        spdf = pd.DataFrame(sp)
        spdf["time ratio vs reuse"] = spdf["seconds"] / base
        lines += [
            "",
            f"### Speed-up of batching and reuse ({args.speed_prompts} prompts, every head, indirect only)",
            "",
            _md(spdf),
        ]
    lines += [
        "",
        "Comparison with Vig et al. (2020), GPT-2 small: they report the indirect effect of attention heads "
        "concentrated in a few heads of the middle layers. Our components differ: we patch each head's output, "
        "they patch its attention weights, and SmolLM2 is a dequantised 30-layer model, so only the shape of the "
        f"profile is comparable. Reports: `{OUT}/heads.html`, `{OUT}/layers.html`; heatmap `{png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}`.",
        "",
        "GPU: no device machine was lent to this task, so there is no GPU timing.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        _results.write_section(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
