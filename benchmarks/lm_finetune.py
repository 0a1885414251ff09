"""Causal LoRA fine-tuning vs counterfactual data augmentation inside SmolLM2-135M (issue 28, day 2).

Run: ``.venv/bin/python benchmarks/lm_finetune.py [--steps 30] [--threads 2] [--front-out DIR] [--no-write]``.

Both objectives of ``ct.text.causal_finetune`` get the same LoRA budget (rank, target modules, steps, batch,
learning rate, seed) and train on the **development** prompts of ``benchmarks/lm_front.py`` only (occupations
disjoint from the held-out ones). Every setting is fixed here before any held-out number is seen. Each
fine-tuned model is audited with ``ct.text.lm_audit`` on the held-out prompts of the front and compared with
the unmodified model by the paired template bootstrap of ``ct.text.lm_compare``; the unmodified model's audit
is read from the front's output folder when it is there (same prompts, checked by ``lm_compare``).

The section also carries the front's ``ablate-selective`` points (heads chosen by
``ct.text.select_heads`` on development prompts) when ``benchmarks/lm_front.py --only ablate-selective`` has
saved them in ``--front-out``. Writes ``## Selective invariance inside SmolLM2, day 2 (issue 28)`` of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

import _results
import causaltrust as ct
import lm_front

ROOT = Path(__file__).resolve().parent.parent
# (objective, steps): chosen before any held-out audit; the "strength" of a fine-tuning point is its steps
SETTINGS = (("causal", 12), ("cda", 12), ("causal", 30), ("cda", 30))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--winobias", type=int, default=30, help="WinoBias templates per split, as in lm_front")
    ap.add_argument("--batch", type=int, default=4, help="prompts per step (four texts each)")
    ap.add_argument("--rank", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--front-out", type=Path, default=ROOT / "reports" / "lm_front")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "lm_finetune")
    ap.add_argument("--only", nargs="*", default=None, help="settings to run, e.g. causal:15 (default all)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="smoke test on a random 4-layer Llama")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--report-only",
        type=Path,
        default=None,
        metavar="RUN_LOG",
        help="no model: write the section from the points saved in --out and the timings in RUN_LOG (the "
        "output of the run that computed them under /usr/bin/time -v)",
    )
    args = ap.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    load_avg = os.getloadavg()[0]
    print(f"load average {load_avg:.1f} at the start", flush=True)
    t0 = time.perf_counter()
    dev, held = lm_front._prompts(args.winobias, args.seed)
    print(f"{len(dev)} development and {len(held)} held-out prompts", flush=True)
    tok, lm = (None, None) if args.report_only else lm_front._tiny() if args.tiny else ct.text.load_smollm2()
    load_s = time.perf_counter() - t0
    print(f"loaded in {load_s:.0f} s", flush=True)
    kw = {"split": None, "n_bootstrap": 1000, "batch_size": 32}
    base = None
    for folder in (args.front_out, out):
        if (folder / "baseline.json").exists() and not args.tiny:
            cand = ct.TrustReport.from_json((folder / "baseline.json").read_text())
            if cand.meta["per_prompt"]["prompt"] == held["prompt"].tolist():
                base, base_from = cand, folder / "baseline.json"
                break
    if base is None:
        if args.report_only:
            raise SystemExit("--report-only: no saved baseline.json for these prompts")
        t = time.perf_counter()
        base = ct.text.lm_audit(lm, tok, held, label="none", **kw)
        base.meta["seconds"] = time.perf_counter() - t
        base_from = out / "baseline.json"
        base_from.write_text(base.to_json())
    points = [lm_front._point(base, None, "none", 0, float(base.meta["seconds"]))]
    fits: dict[str, dict[str, Any]] = {}
    wanted = [s for s in SETTINGS if args.only is None or f"{s[0]}:{s[1]}" in args.only]
    for objective, steps in wanted:
        name = f"lora-{objective}"
        path, fpath = out / f"{name}_{steps}.json", out / f"{name}_{steps}.fit.json"
        if path.exists() and fpath.exists() and not args.tiny:
            rep = ct.TrustReport.from_json(path.read_text())
            fits[f"{name} {steps}"] = json.loads(fpath.read_text())
        elif args.report_only:
            continue
        else:
            ft = ct.text.causal_finetune(
                lm, tok, dev, objective=objective, split=None, steps=steps, batch_size=args.batch,
                rank=args.rank, lr=args.lr, random_state=args.seed,
            )  # fmt: skip
            hist = ft.history
            fit = {
                "seconds": ft.provenance["seconds"],
                "trainable_params": ft.provenance["trainable_params"],
                "first": hist.iloc[: max(1, steps // 5)].mean(numeric_only=True).to_dict(),
                "last": hist.iloc[-max(1, steps // 5) :].mean(numeric_only=True).to_dict(),
            }
            print(f"{name} {steps}: trained in {fit['seconds']:.0f} s; loss {fit['first']} -> {fit['last']}")
            t = time.perf_counter()
            rep = ct.text.lm_audit(ft.model, tok, held, label=f"{name} {steps}", **kw)
            rep.meta["seconds"] = time.perf_counter() - t
            del ft
            if not args.tiny:
                path.write_text(rep.to_json())
                fpath.write_text(json.dumps(fit))
            fits[f"{name} {steps}"] = fit
        points.append(lm_front._point(rep, base, name, steps, float(rep.meta["seconds"])))
        p = points[-1]
        print(
            f"{name} {steps}: reduction {lm_front._fmt(p['stereotype_reduction'], True)} %, agreement "
            f"{lm_front._fmt(p['agreement_change_points'])} pts, perplexity "
            f"{lm_front._fmt(p['perplexity_change'], True)} %",
            flush=True,
        )
    heads_csv = args.front_out / "dev_heads_selective.csv"
    for k in lm_front.STRENGTHS["ablate-selective"]:
        f = args.front_out / f"ablate-selective_{k}.json"
        if f.exists() and not args.tiny:
            rep = ct.TrustReport.from_json(f.read_text())
            points.append(lm_front._point(rep, base, "ablate-selective", k, float(rep.meta["seconds"])))
    total_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.report_only:
        load_s, total_s, peak_mb, load_avg, argv = _timings(args.report_only)
        if "--threads" in argv:  # the header names the run's thread count, not this process's
            torch.set_num_threads(int(argv[argv.index("--threads") + 1]))
    text = section(points, fits, base, args, argv, load_s, total_s, peak_mb, load_avg, heads_csv, base_from)
    print(text)
    if not args.no_write and not args.tiny:
        _results.write_section(text + "\n")
    return 0


def _timings(log_path: Path) -> tuple[float, float, float, float, list[str]]:
    """Model load, wall time, peak memory, load average and arguments of the run that wrote ``log_path``."""
    import re

    log = log_path.read_text(errors="replace")
    found = [
        re.search(p, log)
        for p in (
            r"loaded in (\d+) s",
            r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)",
            r"Maximum resident set size \(kbytes\): (\d+)",
            r'Command being timed: ".*?lm_finetune\.py ?(.*?)"',
        )
    ]
    if found[0] is None:
        raise SystemExit(f"{log_path}: the run did not load its model")
    # a run still going (or killed) has no /usr/bin/time summary: its wall time and memory are NaN
    load, wall, rss, cmd = (m.group(1) if m is not None else "nan" for m in found)
    total = sum(float(x) * 60**i for i, x in enumerate(reversed(wall.split(":"))))
    if cmd == "nan":
        cmd = " ".join(sys.argv[1:])
    avg = re.search(r"load average ([\d.]+) at the start", log)
    return float(load), total, float(rss) / 1024, float(avg.group(1)) if avg else float("nan"), cmd.split()


def _meets(p: dict[str, Any]) -> bool:
    red, agr, ppl = (
        p.get("stereotype_reduction"),
        p.get("agreement_change_points"),
        p.get("perplexity_change"),
    )
    return bool(red and 0.8 <= red[0] <= 1.2 and agr[0] >= -2 and ppl[0] <= 0.05)


def section(
    points: list[dict[str, Any]], fits: dict[str, dict[str, Any]], base: Any, args: Any, argv: Any,
    load_s: float, total_s: float, peak_mb: float, load_avg: float, heads_csv: Path, base_from: Path,
) -> str:  # fmt: skip
    import torch

    fmt = lm_front._fmt
    cmd = " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "## Selective invariance inside SmolLM2, day 2 (issue 28)",
        "",
        f"Command: `.venv/bin/python benchmarks/lm_finetune.py {cmd}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, cpu, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"os.cpu_count()={os.cpu_count()}, "
        + (
            f"load average {load_avg:.1f} at the start"
            if load_avg == load_avg
            else "load average not logged by the run; `uptime` showed 20 to 26 during it"
        )
        + (": a shared machine, so wall times are upper bounds)" if not load_avg <= 2 else ")"),
        "",
        (
            f"Wall time {total_s:.0f} s"
            if total_s == total_s
            else "Wall time not known (the run had not finished when this section was written)"
        )
        + f" (model load {load_s:.0f} s; saved points in `{args.out}` are reused), peak "
        f"resident memory {peak_mb:.0f} MB. Unmodified model's audit: `{base_from}`. Held-out audit: "
        f"{base.meta['n_prompts']} prompts ({base.meta['n_templates']} templates), occupations disjoint from "
        f"the development prompts that every method trains or chooses on. LoRA: rank {args.rank} on q_proj and "
        f"v_proj of every block, AdamW lr {args.lr}, {args.batch} prompts a step, seed {args.seed}, the same for "
        "both objectives; the strength column is the number of steps.",
        "",
        "| method | strength | stereotype effect (mean log-ratio) | reduction % (paired) | referent agreement % | "
        "Δ agreement (points) | perplexity | Δ perplexity % | train s | audit s | meets bar |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        red, agr, ppl = (
            p.get("stereotype_reduction"),
            p.get("agreement_change_points"),
            p.get("perplexity_change"),
        )
        fit = fits.get(f"{p['intervention']} {p['strength']}")
        train_s = f"{fit['seconds']:.0f}" if fit else "—"
        lines.append(
            f"| {p['intervention']} | {p['strength']} | {fmt(p['text.stereotype_effect'])} | "
            f"{fmt(red, True) if red else '—'} | {fmt(p['text.referent_agreement'], True)} | "
            f"{fmt(agr) if agr else '—'} | {fmt(p['text.perplexity'])} | {fmt(ppl, True) if ppl else '—'} | "
            f"{train_s} | {p['seconds']:.0f} | "
            f"{'yes' if _meets(p) else ('—' if red is None else 'no')} |"
        )
    meets = [f"{p['intervention']} {p['strength']}" for p in points if _meets(p)]
    lines += [
        "",
        "**Verdict.** "
        + (
            f"{', '.join(meets)} meet the bar (≥ 80% cut of the held-out stereotype effect, referent agreement "
            "within 2 points, perplexity within 5%; point estimates, intervals in the table)."
            if meets
            else "No method here meets the bar (≥ 80% cut of the held-out stereotype effect, referent agreement "
            "within 2 points, perplexity within 5%; point estimates)."
        ),
        "",
    ]
    if fits:
        lines += [
            "Training losses (mean of the first and last fifth of the steps, on the training batches):",
            "",
        ]
        for key, fit in fits.items():
            parts = ", ".join(
                f"{k} {fit['first'][k]:.4g} → {fit['last'][k]:.4g}" for k in fit["first"] if k != "step"
            )
            lines.append(f"- {key}: {parts}; {fit['trainable_params']} trainable parameters")
        lines.append("")
    if heads_csv.exists():
        ranked = pd.read_csv(heads_csv)
        top = ranked.head(5)
        lines.append(
            "Heads chosen by `ct.text.select_heads` on development prompts (stereotype share − referent share): "
            + ", ".join(
                f"L{r.layer}.H{r.head} ({r.stereotype_share:+.2f} − {r.referent_share:+.2f})"
                for r in top.itertuples()
            )
            + "; `ablate-selective k` mean-ablates the top k (from `benchmarks/lm_front.py --only "
            "ablate-selective`)."
        )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
