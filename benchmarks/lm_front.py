"""The selective-invariance front inside SmolLM2-135M (issue 28): every intervention x 3 strengths, held out.

Run: ``.venv/bin/python benchmarks/lm_front.py [--winobias 40] [--threads 2] [--out DIR] [--no-write]``.

Everything the interventions need is chosen on **development** templates (occupations disjoint from the
held-out ones): the top heads come from ``ct.text.mediation`` on development prompts, the erasers are fitted on
development texts, and the erased layers stop before the first top mediating head. The strengths are fixed
here, before any held-out number is seen. Each point is then audited with ``ct.text.lm_audit`` on the held-out
templates and compared with the unmodified model by a paired template bootstrap (``ct.text.lm_compare``).

Interventions (each a reversible context manager; the model is the same object throughout):

* ``ablate-mean k`` / ``ablate-resample k``: the top-k development heads' outputs replaced by their mean /
  by resampled values over neutral development prompts, at every position.
* ``leace-all a``: LEACE fitted on explicit-gender contrasts ("The woman ..." vs "The man ..."), applied at
  every position of the chosen layers with strength a: the "erase everything" reference.
* ``selective a``: the same eraser, applied only at positions whose token is not an explicitly gendered
  word, so what "woman" says survives while what "nurse" suggests is erased.
* ``selective-occ a``: LEACE fitted on occupation positions with the occupation's stereotype as the concept,
  applied at non-gendered positions.
* ``ablate-selective k``: mean ablation of the top-k heads of ``ct.text.select_heads`` on development prompts
  (stereotype path's indirect-effect share minus the referent path's), added on day 2.
* ``selective-sink a`` / ``leace-all-sink a``: as ``selective`` / ``leace-all`` but leaving the first position
  (the attention sink, which sees only the first token) untouched. Added after the first run showed that the
  erasures multiply perplexity: a change informed by held-out numbers, reported as such.

Each point is saved under ``--out`` as it finishes, so an interrupted run resumes. Writes the
``## Selective invariance inside SmolLM2 (issue 28)`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
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
STRENGTHS = {
    "ablate-mean": (2, 5, 10),
    "ablate-resample": (2, 5, 10),
    "leace-all": (0.5, 0.8, 1.0),
    "selective": (0.5, 0.8, 1.0),
    "selective-occ": (0.5, 0.8, 1.0),
    "selective-sink": (0.5, 0.8, 1.0),
    "leace-all-sink": (0.5, 0.8, 1.0),
    "ablate-selective": (2, 5, 10),
}
ORDER = (
    "selective", "leace-all", "ablate-mean", "selective-occ", "ablate-resample", "selective-sink",
    "leace-all-sink", "ablate-selective",
)  # fmt: skip


def _tiny() -> tuple[Any, Any]:
    """Smoke test: a random 4-layer Llama with SmolLM2's tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    path = ct.text.smollm2_path()
    tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2,
    )  # fmt: skip
    torch.manual_seed(0)
    return tok, LlamaForCausalLM(cfg).eval()


def _prompts(n_winobias: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    p = ct.text.lm_prompts(random_state=seed)
    parts = []
    for split in ("dev", "heldout"):
        q = p[p["split"] == split]
        wg, wb = q[q["source"] == "winogender"], q[q["source"] == "winobias"]
        keep = wb.drop_duplicates("template").sample(min(n_winobias, len(wb)), random_state=seed)
        parts.append(pd.concat([wg, keep]).reset_index(drop=True))
    return parts[0], parts[1]


def choose_heads(lm: Any, tok: Any, dev: pd.DataFrame, n: int, out: Path) -> tuple[pd.DataFrame, Any]:
    """Per-head indirect effects of occupation → "person" on ``n`` aligned development prompts."""
    path = out / "dev_heads.csv"
    if path.exists():
        return pd.read_csv(path), None
    rows = [
        r for r in dev.itertuples() if len(tok(r.prompt)["input_ids"]) == len(tok(r.neutral)["input_ids"])
    ]
    rows = rows[:n]
    targets = [(r.male, r.female) if r.stereotype == "female" else (r.female, r.male) for r in rows]
    res = ct.text.mediation(
        lm, [(r.prompt, r.neutral) for r in rows], tokenizer=tok, targets=targets,
        components=["head"], effects=("indirect",),
    )  # fmt: skip
    df = res.ranked("head")
    df.to_csv(path, index=False)
    return df, res


def last_vs_all(lm: Any, tok: Any, dev: pd.DataFrame, heads: list[tuple[int, int]], n: int) -> pd.DataFrame:
    """Set-gender pairs (occupation → anti-stereotypical "man"/"woman"): NIE of ``heads`` patched at every
    position vs at the last position only, mean log-ratio and mean ratio."""
    rows = [
        r for r in dev.itertuples() if len(tok(r.prompt)["input_ids"]) == len(tok(r.male_ref)["input_ids"])
    ]
    rows = rows[:n]
    pairs = [(r.prompt, r.male_ref if r.stereotype == "female" else r.female_ref) for r in rows]
    targets = [(r.male, r.female) if r.stereotype == "female" else (r.female, r.male) for r in rows]
    layers = sorted({layer for layer, _ in heads})
    out = []
    for positions in ("all", "last"):
        res = ct.text.mediation(
            lm, pairs, tokenizer=tok, targets=targets, components=["head"], layers=layers,
            effects=("indirect",), positions=positions,
        )  # fmt: skip
        df = res.to_frame()
        for layer, head in heads:
            r = df[(df["layer"] == layer) & (df["head"] == head)].iloc[0]
            out.append(
                {"head": f"L{layer}.H{head}", "positions": positions, "NIE (ratio)": r["indirect"],
                 "NIE (log-ratio)": r["indirect_log"], "TE (log-ratio)": res.log_total[0]}
            )  # fmt: skip
    return pd.DataFrame(out)


def choose_selective_heads(lm: Any, tok: Any, dev: pd.DataFrame, n: int, out: Path) -> pd.DataFrame:
    """``ct.text.select_heads`` on ``n`` development prompts per path, cached in ``out``."""
    path = out / "dev_heads_selective.csv"
    if path.exists():
        return pd.read_csv(path)
    ranked = ct.text.select_heads(lm, tok, dev, split=None, n_prompts=n)
    ranked.to_csv(path, index=False)
    print(f"select_heads: {ranked.attrs}", flush=True)
    return ranked


def build(
    lm: Any, tok: Any, dev: pd.DataFrame, heads: list[tuple[int, int]], n_layers: int, seed: int,
    names: tuple[str, ...] = ORDER, selective_heads: list[tuple[int, int]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Interventions by name → a factory of strength, all fitted on development prompts."""
    stop = min(layer for layer, _ in heads[:3])
    layers = list(range(0, max(stop, 1), 2))
    keep = ct.text.gendered_token_ids(tok)
    reference = list(dev["neutral"])
    fitted: dict[Any, Any] = {}

    def ablation(method: str, k: int, chosen: list[tuple[int, int]] | None = None) -> Any:
        key = (method, k, chosen is None)
        if key not in fitted:
            fitted[key] = ct.text.HeadAblation(
                lm, (heads if chosen is None else chosen)[:k], method=method, random_state=seed
            ).fit(tok, reference)
        return fitted[key]

    made: dict[str, Any] = {
        "layers": layers,
        "ablate-mean": lambda k: ablation("mean", int(k)),
        "ablate-resample": lambda k: ablation("resample", int(k)),
        "ablate-selective": lambda k: ablation("mean", int(k), selective_heads),
    }
    if not any(n.startswith(("leace", "selective")) for n in names):
        return made  # nothing to erase: skip the erasers' activations
    texts = [*dev["female_ref"], *dev["male_ref"]]
    words = ["woman"] * len(dev) + ["man"] * len(dev)
    acts, owner = ct.text.residual_activations(
        lm, tok, texts, layers, positions="from_word", from_words=words
    )
    z = (owner < len(dev)).astype(int)
    gender = {v: ct.text.LeaceEraser().fit(acts[v], z) for v in layers}
    occ_acts, occ_owner = ct.text.residual_activations(
        lm, tok, list(dev["prompt"]), layers, positions="from_word", from_words=list(dev["occupation"])
    )
    occ_z = (dev["stereotype"].to_numpy()[occ_owner] == "female").astype(int)
    occupation = {v: ct.text.LeaceEraser().fit(occ_acts[v], occ_z) for v in layers}
    return {
        **made,
        "leace-all": lambda a: ct.text.ResidualErasure(lm, gender, alpha=a),
        "selective": lambda a: ct.text.ResidualErasure(lm, gender, alpha=a, keep_tokens=keep),
        "selective-occ": lambda a: ct.text.ResidualErasure(lm, occupation, alpha=a, keep_tokens=keep),
        "selective-sink": lambda a: ct.text.ResidualErasure(
            lm, gender, alpha=a, keep_tokens=keep, keep_first=1
        ),
        "leace-all-sink": lambda a: ct.text.ResidualErasure(lm, gender, alpha=a, keep_first=1),
    }


def _point(rep: Any, base: Any, name: str, strength: Any, seconds: float) -> dict[str, Any]:
    row: dict[str, Any] = {"intervention": name, "strength": strength, "seconds": seconds}
    for m in ("text.stereotype_effect", "text.stereotype_effect_geometric", "text.stereotype_effect_ratio",
              "text.referent_agreement", "text.perplexity"):  # fmt: skip
        x = rep.metric(m)
        row[m] = (x.value, x.low, x.high)
    if base is not None:
        row.update(ct.text.lm_compare(base, rep, n_bootstrap=1000))
    return row


def _fmt(t: tuple[float, float, float], pct: bool = False, digits: int = 3) -> str:
    k = 100 if pct else 1
    return f"{k * t[0]:.{digits}g} [{k * t[1]:.{digits}g}, {k * t[2]:.{digits}g}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--winobias", type=int, default=30, help="WinoBias templates per split (all Winogender)")
    ap.add_argument("--heads-prompts", type=int, default=8, help="development prompts for head choice")
    ap.add_argument(
        "--select-prompts", type=int, default=16, help="development prompts per path for select_heads"
    )
    ap.add_argument("--profile-prompts", type=int, default=4, help="prompts of the before/after profile")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default=None, help="torch device (default: cuda when present, else cpu)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "lm_front")
    ap.add_argument("--only", nargs="*", default=None, help="interventions to run (default: all)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="smoke test on a random 4-layer Llama")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--report-only",
        type=Path,
        default=None,
        metavar="RUN_LOG",
        help="no model: rebuild the section from the points saved in --out and the timings in RUN_LOG (the "
        "output of the run that computed them under /usr/bin/time -v)",
    )
    ap.add_argument(
        "--claim-heads",
        nargs="*",
        default=None,
        metavar="L.H",
        help="only compute the last-position vs all-position check for these heads (e.g. issue 16's 26.2 25.2)",
    )
    args = ap.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    dev, held = _prompts(args.winobias, args.seed)
    print(f"{len(dev)} development and {len(held)} held-out prompts", flush=True)
    if args.report_only:
        return report_only(args, argv, out, held)
    tok, lm = _tiny() if args.tiny else ct.text.load_smollm2(device=device)
    lm = lm.to(device)
    load_s = time.perf_counter() - t0
    print(f"loaded in {load_s:.0f} s", flush=True)
    if args.claim_heads is not None:
        claim = [(int(a), int(b)) for a, b in (h.split(".") for h in args.claim_heads)]
        t = time.perf_counter()
        lva = last_vs_all(lm, tok, dev, claim, 20)
        lva["seconds"] = time.perf_counter() - t
        lva.to_csv(out / "last_vs_all_claim.csv", index=False)
        print(lva, flush=True)
        return 0

    ranked, _ = choose_heads(lm, tok, dev, args.heads_prompts, out)
    heads = [(int(r.layer), int(r.head)) for r in ranked.head(10).itertuples()]
    print("top development heads:", heads[:5], flush=True)
    lva_path = out / "last_vs_all.csv"
    if lva_path.exists():
        lva = pd.read_csv(lva_path)
    else:
        lva = last_vs_all(lm, tok, dev, heads[:3], 20)
        lva.to_csv(lva_path, index=False)
    print(lva, flush=True)
    names = tuple(n for n in ORDER if args.only is None or n in args.only)
    selective = None
    if "ablate-selective" in names:
        sel = choose_selective_heads(lm, tok, dev, args.select_prompts, out)
        selective = [(int(r.layer), int(r.head)) for r in sel.head(10).itertuples()]
        print("top development heads by stereotype - referent share:", selective[:5], flush=True)
    t_fit = time.perf_counter()
    made = build(lm, tok, dev, heads, lm.config.num_hidden_layers, args.seed, names, selective)
    fit_s = time.perf_counter() - t_fit
    print(f"interventions fitted in {fit_s:.0f} s; erased layers {made['layers']}", flush=True)

    kw = {"split": None, "n_bootstrap": 1000, "batch_size": 32, "device": device}
    base_path = out / "baseline.json"
    if base_path.exists():
        base = ct.TrustReport.from_json(base_path.read_text())
    else:
        t = time.perf_counter()
        base = ct.text.lm_audit(lm, tok, held, label="none", mediation_prompts=args.profile_prompts, **kw)
        base.meta["seconds"] = time.perf_counter() - t
        base_path.write_text(base.to_json())
    points = [_point(base, None, "none", 0, float(base.meta["seconds"]))]
    print(f"baseline: {points[0]}", flush=True)
    for name in names:
        for strength in STRENGTHS[name]:
            path = out / f"{name}_{strength}.json"
            if path.exists():
                rep = ct.TrustReport.from_json(path.read_text())
            else:
                t = time.perf_counter()
                profile = args.profile_prompts if (name, strength) == ("selective", 1.0) else 0
                with made[name](strength):
                    rep = ct.text.lm_audit(
                        lm, tok, held, label=f"{name} {strength}", mediation_prompts=profile, **kw
                    )
                rep.meta["seconds"] = time.perf_counter() - t
                path.write_text(rep.to_json())
            points.append(_point(rep, base, name, strength, float(rep.meta["seconds"])))
            p = points[-1]
            print(
                f"{name} {strength}: reduction {_fmt(p['stereotype_reduction'], True)} %, agreement "
                f"{_fmt(p['agreement_change_points'])} pts, perplexity {_fmt(p['perplexity_change'], True)} %, "
                f"{p['seconds']:.0f} s",
                flush=True,
            )
    total_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (out / "front.json").write_text(json.dumps(points, default=float))
    (out / "timing.json").write_text(
        json.dumps(
            {"load_s": load_s, "fit_s": fit_s, "total_s": total_s, "peak_mb": peak_mb, "load_avg": load_avg}
        )
    )
    reports = {p_: ct.TrustReport.from_json((out / f).read_text()) for p_, f in
               [("none", "baseline.json")] + [(f"{n} {s}", f"{n}_{s}.json") for n in names for s in STRENGTHS[n]]
               if (out / f).exists()}  # fmt: skip
    ct.report.write_lm_front(reports, out / "front.html")
    text = section(
        points, lva, base, args, argv, load_s, fit_s, total_s, peak_mb, load_avg, made, heads, device
    )
    print(text)
    if not args.no_write and not args.tiny:
        _results.write_section(text + "\n")
    return 0


def front_png(points: list[dict[str, Any]], path: Path) -> None:
    """The front as a PNG for the README: referent agreement against the stereotype effect, 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.4), dpi=110)
    families = list(dict.fromkeys(p["intervention"] for p in points))
    for i, fam in enumerate(families):
        ps = [p for p in points if p["intervention"] == fam]
        x = np.array([100 * p["text.referent_agreement"][0] for p in ps])
        y = np.array([p["text.stereotype_effect"][0] for p in ps])
        xerr = np.array([[x[j] - 100 * p["text.referent_agreement"][1], 100 * p["text.referent_agreement"][2] - x[j]]
                         for j, p in enumerate(ps)]).T  # fmt: skip
        yerr = np.array([[y[j] - p["text.stereotype_effect"][1], p["text.stereotype_effect"][2] - y[j]]
                         for j, p in enumerate(ps)]).T  # fmt: skip
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="o-" if len(ps) > 1 else "s", ms=5, capsize=2,
                    color=f"C{i}", label=fam, alpha=0.85)  # fmt: skip
        for p, xv, yv in zip(ps, x, y, strict=True):
            if len(ps) > 1:
                ax.annotate(
                    str(p["strength"]), (xv, yv), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
    ax.axhline(0, color="#999", lw=0.8, ls="--")
    ax.set_xlabel("referent agreement, % (fair path: keep high)")
    ax.set_ylabel("stereotype effect, mean log-ratio (→ 0)")
    ax.set_title("SmolLM2-135M, held-out templates: interventions × strengths", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def report_only(args: Any, argv: Any, out: Path, held: pd.DataFrame) -> int:
    """Rebuild the front and the RESULTS.md section from saved points, without loading the model."""
    import re

    log = args.report_only.read_text(errors="replace")

    def grab(pattern: str, default: float | None = None) -> float:
        m = re.search(pattern, log)
        if m is None:
            if default is not None:
                return default
            raise SystemExit(f"{args.report_only}: no match for {pattern!r}")
        return float(m.group(1))

    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", log)
    if wall is None:
        raise SystemExit(f"{args.report_only}: no /usr/bin/time -v output")
    total_s = sum(float(x) * 60**i for i, x in enumerate(reversed(wall.group(1).split(":"))))
    timing = {
        "load_s": grab(r"loaded in (\d+) s"),
        "fit_s": grab(r"interventions fitted in (\d+) s"),
        "total_s": total_s,
        "peak_mb": grab(r"Maximum resident set size \(kbytes\): (\d+)") / 1024,
        "load_avg": grab(r"load average ([\d.]+) at the start", float("nan")),
    }
    m = re.search(r'Command being timed: ".*?lm_front\.py ?(.*?)"', log)
    cmd = m.group(1) if m else None
    threads = re.search(r"--threads (\d+)", cmd or "")
    if threads:  # the header names the run's thread count, not this process's
        import torch

        torch.set_num_threads(int(threads.group(1)))
    ranked = pd.read_csv(out / "dev_heads.csv")
    heads = [(int(r.layer), int(r.head)) for r in ranked.head(10).itertuples()]
    stop = min(layer for layer, _ in heads[:3])
    made = {"layers": list(range(0, max(stop, 1), 2))}
    base = ct.TrustReport.from_json((out / "baseline.json").read_text())
    points = [_point(base, None, "none", 0, float(base.meta["seconds"]))]
    reports = {"none": base}
    for name in ORDER:
        for strength in STRENGTHS[name]:
            path = out / f"{name}_{strength}.json"
            if path.exists():
                rep = ct.TrustReport.from_json(path.read_text())
                reports[f"{name} {strength}"] = rep
                points.append(_point(rep, base, name, strength, float(rep.meta["seconds"])))
    lva = pd.read_csv(out / "last_vs_all.csv")
    if (out / "last_vs_all_claim.csv").exists():
        lva = pd.concat([pd.read_csv(out / "last_vs_all_claim.csv").drop(columns="seconds"), lva])
    ct.report.write_lm_front(reports, out / "front.html")
    if not args.no_write:
        front_png(points, ROOT / "docs" / "lm_front.png")
    device = "cpu"
    text = section(
        points, lva, base, args, argv, timing["load_s"], timing["fit_s"], timing["total_s"], timing["peak_mb"],
        timing["load_avg"], made, heads, device, cmd,
    )  # fmt: skip
    print(text)
    if not args.no_write:
        _results.write_section(text + "\n")
    return 0


def section(
    points: list[dict[str, Any]], lva: pd.DataFrame, base: Any, args: Any, argv: Any, load_s: float,
    fit_s: float, total_s: float, peak_mb: float, load_avg: float, made: dict[str, Any],
    heads: list[tuple[int, int]], device: str, cmd: str | None = None,
) -> str:  # fmt: skip
    import torch

    if cmd is None:
        cmd = " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "## Selective invariance inside SmolLM2 (issue 28)",
        "",
        f"Command: `.venv/bin/python benchmarks/lm_front.py {cmd}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"os.cpu_count()={os.cpu_count()}, "
        + (
            f"load average {load_avg:.1f} at the start"
            if math.isfinite(load_avg)
            else "load average not recorded by the run; `uptime` showed 17 to 23 during it"
        )
        + (
            ": the machine was shared with other jobs, so wall times are upper bounds)"
            if not math.isfinite(load_avg) or load_avg > 2
            else ")"
        ),
        "",
        f"Wall time: {total_s:.0f} s in all (model load {load_s:.0f} s, fitting {fit_s:.0f} s, the rest audits "
        f"and mediation; points already saved in `{args.out}` are reused, not recomputed); peak resident "
        f"memory {peak_mb:.0f} MB. No fine-tuning step is part of the front (LoRA is not implemented).",
        "",
        f"Model: {ct.text.SMOLLM2_NOTE}.",
        "",
        f"Held-out audit: {base.meta['n_prompts']} prompts de-duplicated by text ({base.meta['n_templates']} "
        f"templates; all held-out Winogender templates and {args.winobias} held-out WinoBias templates), "
        "occupations disjoint from development. Top development heads by indirect effect (occupation → "
        f"'person'): {', '.join(f'L{a}.H{b}' for a, b in heads[:5])}; erased layers {made['layers']} (every "
        "second layer below the first of the top-3 heads).",
        "",
        "| intervention | strength | stereotype effect (mean log-ratio) | geometric-mean ratio − 1 | "
        "arithmetic-mean ratio − 1 | reduction % (paired) | referent agreement % | Δ agreement (points) | "
        "perplexity | Δ perplexity % | audit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    meets = []
    for p in points:
        red = p.get("stereotype_reduction")
        agr = p.get("agreement_change_points")
        ppl = p.get("perplexity_change")
        lines.append(
            f"| {p['intervention']} | {p['strength']} | {_fmt(p['text.stereotype_effect'])} | "
            f"{_fmt(p['text.stereotype_effect_geometric'])} | {_fmt(p['text.stereotype_effect_ratio'])} | "
            f"{_fmt(red, True) if red else '—'} | {_fmt(p['text.referent_agreement'], True)} | "
            f"{_fmt(agr) if agr else '—'} | {_fmt(p['text.perplexity'])} | "
            f"{_fmt(ppl, True) if ppl else '—'} | {p['seconds']:.0f} |"
        )
        if red and 0.8 <= red[0] <= 1.2 and agr[0] >= -2 and ppl[0] <= 0.05:
            meets.append(f"{p['intervention']} {p['strength']}")
    sel = [p for p in points if str(p["intervention"]).startswith("selective")]
    verdict = "**Verdict.** " + (
        f"Yes: {', '.join(meets)} cut the held-out stereotype effect by ≥ 80% with referent agreement "
        "within 2 points and perplexity within 5% (point estimates; intervals in the table)."
        if meets
        else "No intervention met the bar (≥ 80% cut of the held-out stereotype effect with referent "
        "agreement within 2 points and perplexity within 5%, point estimates)."
    )
    if sel:
        best = max(sel, key=lambda p: p["stereotype_reduction"][0])
        verdict += (
            f" The largest cut by a selective erasure is {best['intervention']} {best['strength']}: "
            f"{_fmt(best['stereotype_reduction'], True)} %, agreement {_fmt(best['agreement_change_points'])} "
            f"points, perplexity {_fmt(best['perplexity_change'], True)} %."
        )
    full = [p for p in points if p["intervention"] == "leace-all"]
    if full:
        verdict += (
            " Full erasure (leace-all) at strength 1: agreement "
            + _fmt(full[-1]["agreement_change_points"])
            + " points, stereotype cut "
            + _fmt(full[-1]["stereotype_reduction"], True)
            + " %."
        )
    lines += ["", verdict, ""]
    prof = base.meta.get("mediation")
    if prof:
        grid = np.array(prof["head_log_indirect"])
        top = np.dstack(np.unravel_index(np.argsort(-np.abs(grid).ravel())[:3], grid.shape))[0]
        lines.append(
            f"Mediation profile before (occupation → 'person', {prof['n_pairs']} held-out prompts, mean "
            f"log-ratio TE {prof['total_log']:+.3f}): top heads "
            + ", ".join(f"L{a}.H{b} ({grid[a, b]:+.3f})" for a, b in top)
            + ". The profile after the selective erasure at strength 1 is on the report page."
        )
        lines.append("")
    lines += [
        "### Where the effect of the set-gender intervention enters the prediction (issue 16's claim, corrected)",
        "",
        "Patching a head's output at the last position only vs at every position, on 20 development prompts "
        "(occupation → anti-stereotypical 'man'/'woman', y = P(anti)/P(stereo)):",
        "",
        "| " + " | ".join(lva.columns) + " |",
        "|" + "---|" * len(lva.columns),
        *(
            "| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |"
            for r in lva.itertuples(index=False)
        ),
        "",
        f"Report page: `{args.out}/front.html`. GPU: none was available to this session, so there is no GPU "
        "timing.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
