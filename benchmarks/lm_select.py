"""Choose causal LoRA settings on development templates only, then judge the choice once on held-out ones.

Run (issue 28, day 3)::

    .venv/bin/python benchmarks/lm_select.py --grid up2-pw1 up2-pw10 --threads 1   # one process per config
    .venv/bin/python benchmarks/lm_select.py --choose          # the rule below, on the saved dev rows
    .venv/bin/python benchmarks/lm_select.py --final           # held-out audit of the chosen checkpoint

The development occupations of ``benchmarks/lm_front.py`` are split once more, by occupation (seeded, per
source): **dev-train** (two thirds) trains every configuration, **dev-val** (the rest; all its Winogender
prompts and 30 of its WinoBias templates) judges them. Each configuration of ``GRID`` is trained once for
``MAX_STEPS`` steps; at every step in ``CHECKPOINTS`` the adapted model is audited on dev-val (``lm_audit``,
paired with the unmodified model's dev-val audit by ``lm_compare``) and its LoRA weights are saved, so the number
of steps is chosen for free. Perplexity during the choice is measured on ``PROXY_SENTENCES`` CrowS-Pairs
sentences (seeded sample), **not** on the neutral corpus the held-out audit reports, so neither the prompts nor
the perplexity text of the final audit take part in the choice.

Rule (fixed before any run): among checkpoints whose dev-val referent agreement falls by at most 2 points and
whose proxy perplexity rises by at most 5% (point estimates), the largest dev-val stereotype reduction; ties go
to fewer steps. ``--final`` rebuilds that checkpoint (the same LoRA weights, merged), audits it once on the
held-out prompts of the front and writes ``## Selective invariance inside SmolLM2, day 3 (issue 28)`` of
benchmarks/RESULTS.md with ``lm_compare`` intervals against the unmodified model.
"""

from __future__ import annotations

import argparse
import copy
import json
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
import lm_front

ROOT = Path(__file__).resolve().parent.parent
MAX_STEPS = 40
CHECKPOINTS = (10, 20, 30, 40)
PROXY_SENTENCES = 80
BATCH, RANK = 4, 4
# the upper half of SmolLM2's 30 blocks: backward stops there (13 vs 21 CPU s a step, measured)
UPPER = tuple(range(15, 30))
# name -> causal_finetune settings; every one is judged on dev-val only
GRID: dict[str, dict[str, Any]] = {
    "up2-pw1": {"layers": UPPER, "lr": 2e-3, "preserve_weight": 1.0},
    "up2-pw10": {"layers": UPPER, "lr": 2e-3, "preserve_weight": 10.0},
    "up4-pw10": {"layers": UPPER, "lr": 4e-3, "preserve_weight": 10.0},
    "all2-pw10": {"layers": None, "lr": 2e-3, "preserve_weight": 10.0},
    "up2-pw10-o": {
        "layers": UPPER,
        "lr": 2e-3,
        "preserve_weight": 10.0,
        "target_modules": ("q_proj", "v_proj", "o_proj"),
    },
}


def inner_split(dev: pd.DataFrame, held: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """dev-train (two thirds of each source's development occupations, every prompt) and dev-val (the rest:
    all its Winogender prompts, 30 of its WinoBias templates).

    ``lm_prompts`` splits occupations per source, so an occupation held out in one source can be a development
    occupation of the other (8 of them with seed 0, e.g. "nurse": WinoBias dev, Winogender held-out). Those are
    dropped here, so nothing trained or chosen here has seen a held-out occupation.
    """
    dev = dev[~dev["occupation"].isin(set(held["occupation"]))]
    rng = np.random.default_rng(seed + 1)
    val_occ: set[str] = set()
    for source in sorted(dev["source"].unique()):
        occs = np.array(sorted(dev.loc[dev["source"] == source, "occupation"].unique()))
        val_occ |= set(rng.permutation(occs)[: round(len(occs) / 3)])
    is_val = dev["occupation"].isin(val_occ)
    train, val = dev[~is_val].reset_index(drop=True), dev[is_val]
    wg, wb = val[val["source"] == "winogender"], val[val["source"] == "winobias"]
    keep = wb[wb["template"].isin(wb.drop_duplicates("template").sample(30, random_state=seed)["template"])]
    return train, pd.concat([wg, keep]).reset_index(drop=True)


def proxy_corpus(seed: int) -> list[str]:
    """``PROXY_SENTENCES`` CrowS-Pairs sentences (seeded sample): perplexity text for the choice only."""
    path = Path(ct.text.__file__).parent / "data" / "crows_pairs" / "crows_pairs.csv"
    rows = pd.read_csv(path)
    return rows["sent_less"].sample(PROXY_SENTENCES, random_state=seed).tolist()


def _lora_config(cfg: dict[str, Any], n_layers: int) -> Any:
    from peft import LoraConfig

    layers = list(range(n_layers)) if cfg.get("layers") is None else list(cfg["layers"])
    return LoraConfig(
        r=RANK, lora_alpha=2 * RANK, target_modules=list(cfg.get("target_modules", ("q_proj", "v_proj"))),
        layers_to_transform=layers, lora_dropout=0.0, bias="none",
    )  # fmt: skip


def rebuild(lm: Any, name: str, step: int, out: Path) -> Any:
    """The merged model of checkpoint ``name`` at ``step`` from its saved LoRA weights."""
    import torch
    from peft import get_peft_model, set_peft_model_state_dict

    work = copy.deepcopy(lm)
    net = get_peft_model(work, _lora_config(GRID[name], len(lm.model.layers)))
    set_peft_model_state_dict(net, torch.load(out / f"{name}_{step}.pt", weights_only=True))
    merged = net.merge_and_unload().eval()
    for p in merged.parameters():
        p.requires_grad_(False)
    return merged


def run_grid(names: list[str], lm: Any, tok: Any, train: pd.DataFrame, val: pd.DataFrame, out: Path) -> None:
    import torch
    from peft import get_peft_model_state_dict

    corpus = proxy_corpus(0)
    kw = {"split": None, "corpus": corpus, "n_bootstrap": 300, "batch_size": 32}
    base_path = out / "dev_val_baseline.json"
    if base_path.exists():
        base = ct.TrustReport.from_json(base_path.read_text())
    else:
        base = ct.text.lm_audit(lm, tok, val, label="none", **kw)
        base_path.write_text(base.to_json())
    for name in names:
        cfg = GRID[name]
        rows: list[dict[str, Any]] = []
        t0 = time.process_time()

        def checkpoint(
            step: int, net: Any, name: str = name, rows: list[dict[str, Any]] = rows, t0: float = t0
        ) -> None:
            if step not in CHECKPOINTS:
                return
            train_cpu = time.process_time() - t0 - sum(r["audit_cpu_s"] for r in rows)
            c = time.process_time()
            torch.save(get_peft_model_state_dict(net), out / f"{name}_{step}.pt")
            rep = ct.text.lm_audit(net, tok, val, label=f"{name} {step}", **kw)
            cmp = ct.text.lm_compare(base, rep, n_bootstrap=300)
            rows.append(
                {"config": name, "step": step, "train_cpu_s": train_cpu,
                 "audit_cpu_s": time.process_time() - c, **_flat(cmp)}
            )  # fmt: skip
            pd.DataFrame(rows).to_csv(out / f"dev_{name}.csv", index=False)
            r = rows[-1]
            print(
                f"{name} step {step}: dev-val cut {100 * r['stereotype_reduction']:.1f}% agreement "
                f"{r['agreement_change_points']:+.1f} pts proxy ppl {100 * r['perplexity_change']:+.1f}% "
                f"(train CPU {train_cpu:.0f} s)",
                flush=True,
            )

        extra = {k: v for k, v in cfg.items() if k in ("target_modules",)}
        ct.text.causal_finetune(
            lm, tok, train, objective="causal", split=None, steps=MAX_STEPS, batch_size=BATCH, rank=RANK,
            layers=cfg["layers"], lr=cfg["lr"], preserve_weight=cfg["preserve_weight"], random_state=0,
            callback=checkpoint, **extra,
        )  # fmt: skip


def _flat(cmp: dict[str, tuple[float, float, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, (v, lo, hi) in cmp.items():
        out[k], out[f"{k}_low"], out[f"{k}_high"] = v, lo, hi
    return out


def choose(out: Path) -> pd.Series:
    """The rule of the module docstring, on every saved dev-val row."""
    rows = pd.concat([pd.read_csv(f) for f in sorted(out.glob("dev_*.csv"))], ignore_index=True)
    ok = rows[(rows["agreement_change_points"] >= -2) & (rows["perplexity_change"] <= 0.05)]
    if ok.empty:
        raise SystemExit("no checkpoint keeps agreement within 2 points and proxy perplexity within 5%")
    best = ok.sort_values(["stereotype_reduction", "step"], ascending=[False, True]).iloc[0]
    (out / "choice.json").write_text(json.dumps({"config": best["config"], "step": int(best["step"])}))
    print(rows.to_string(), f"\nchosen: {best['config']} at {int(best['step'])} steps", sep="\n")
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--grid", nargs="*", default=None, help=f"configurations to train, of {sorted(GRID)}")
    ap.add_argument("--choose", action="store_true")
    ap.add_argument("--final", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "lm_select")
    ap.add_argument("--front-out", type=Path, default=ROOT / "reports" / "lm_front")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    load_avg = os.getloadavg()[0]
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    _, held = lm_front._prompts(30, 0)
    dev_all = ct.text.lm_prompts(random_state=0, split="dev")
    train, val = inner_split(dev_all, held, 0)
    assert not set(train["occupation"]) & set(val["occupation"])
    assert not (set(train["occupation"]) | set(val["occupation"])) & set(held["occupation"])
    print(f"dev-train {len(train)} prompts, dev-val {len(val)} prompts, held-out {len(held)}", flush=True)
    if args.choose:
        choose(out)
        return 0
    tok, lm = ct.text.load_smollm2()
    if args.grid:
        run_grid(args.grid, lm, tok, train, val, out)
    if args.final:
        final(args, argv, lm, tok, held, train, val, out, load_avg, t_wall, t_cpu)
    return 0


def final(
    args: Any, argv: Any, lm: Any, tok: Any, held: pd.DataFrame, train: pd.DataFrame, val: pd.DataFrame,
    out: Path, load_avg: float, t_wall: float, t_cpu: float,
) -> None:  # fmt: skip
    import torch

    choice = json.loads((out / "choice.json").read_text())
    name, step = choice["config"], choice["step"]
    base = ct.TrustReport.from_json((args.front_out / "baseline.json").read_text())
    if base.meta["per_prompt"]["prompt"] != held["prompt"].tolist():
        raise SystemExit(f"{args.front_out / 'baseline.json'} is not on the front's held-out prompts")
    model = rebuild(lm, name, step, out)
    c = time.process_time()
    rep = ct.text.lm_audit(
        model, tok, held, split=None, n_bootstrap=1000, batch_size=32, label=f"{name} {step}"
    )
    rep.meta["seconds"] = time.process_time() - c
    (out / f"heldout_{name}_{step}.json").write_text(rep.to_json())
    point = lm_front._point(rep, base, f"lora-causal {name}", step, float(rep.meta["seconds"]))
    dev_rows = pd.concat([pd.read_csv(f) for f in sorted(out.glob("dev_*.csv"))], ignore_index=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = section(point, dev_rows, choice, args, argv, train, val, held, load_avg, peak_mb,
                   time.process_time() - t_cpu, time.perf_counter() - t_wall, torch.get_num_threads())  # fmt: skip
    print(text)
    if not args.no_write:
        _results.write_section(text + "\n")


def _meets(p: dict[str, Any]) -> bool:
    red, agr, ppl = p["stereotype_reduction"], p["agreement_change_points"], p["perplexity_change"]
    return bool(red[0] >= 0.8 and agr[0] >= -2 and ppl[0] <= 0.05)


def section(
    p: dict[str, Any], dev_rows: pd.DataFrame, choice: dict[str, Any], args: Any, argv: Any,
    train: pd.DataFrame, val: pd.DataFrame, held: pd.DataFrame, load_avg: float, peak_mb: float,
    cpu_s: float, wall_s: float, threads: int,
) -> str:  # fmt: skip
    fmt = lm_front._fmt
    cmd = " ".join(sys.argv[1:] if argv is None else argv)
    grid_txt = "; ".join(
        f"`{k}`: lr {v['lr']:g}, preserve weight {v['preserve_weight']:g}, "
        + ("all blocks" if v["layers"] is None else f"blocks {v['layers'][0]}–{v['layers'][-1]}")
        + f", {'/'.join(v.get('target_modules', ('q_proj', 'v_proj')))}"
        for k, v in GRID.items()
        if k in set(dev_rows["config"])
    )
    lines = [
        "## Selective invariance inside SmolLM2, day 3 (issue 28)",
        "",
        f"Commands: the grid `.venv/bin/python benchmarks/lm_select.py --grid NAME --threads 1 --out {args.out}`"
        f" (one process per configuration), then `--choose`, then `.venv/bin/python benchmarks/lm_select.py "
        f"{cmd}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, cpu, {threads} threads, "
        f"os.cpu_count()={os.cpu_count()}, load average {load_avg:.1f} at the start of the final run).",
        "",
        f"Choice on development occupations only: dev-train {len(train)} prompts "
        f"({train['occupation'].nunique()} occupations), dev-val {len(val)} prompts "
        f"({val['occupation'].nunique()} other occupations), proxy perplexity on {PROXY_SENTENCES} CrowS-Pairs "
        f"sentences (not the neutral corpus). LoRA rank {RANK}, {BATCH} prompts a step, seed 0, objective "
        f'"causal" (invariance and agreement weights 1). Grid: {grid_txt}. Checkpoints at {list(CHECKPOINTS)} '
        "steps. Rule, fixed before the runs: largest dev-val cut among checkpoints with agreement ≥ −2 points and "
        "proxy perplexity ≤ +5%.",
        "",
        "| config | steps | dev-val cut % | dev-val Δ agreement (points) | proxy Δ perplexity % | train CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for r in dev_rows.itertuples():
        mark = " **(chosen)**" if (r.config, r.step) == (choice["config"], choice["step"]) else ""
        lines.append(
            f"| {r.config}{mark} | {r.step} | "
            f"{fmt((r.stereotype_reduction, r.stereotype_reduction_low, r.stereotype_reduction_high), True)} | "
            f"{fmt((r.agreement_change_points, r.agreement_change_points_low, r.agreement_change_points_high))}"
            f" | {fmt((r.perplexity_change, r.perplexity_change_low, r.perplexity_change_high), True)} | "
            f"{r.train_cpu_s:.0f} |"
        )
    red, agr, ppl = p["stereotype_reduction"], p["agreement_change_points"], p["perplexity_change"]
    lines += [
        "",
        f"Held-out audit of the chosen checkpoint, once ({len(held)} prompts, "
        f"{held['template'].nunique()} templates; intervals: paired template bootstrap of `lm_compare` against "
        f"the unmodified model's audit `{args.front_out / 'baseline.json'}`):",
        "",
        "| method | steps | stereotype effect (mean log-ratio) | reduction % (paired) | referent agreement % | "
        "Δ agreement (points) | perplexity | Δ perplexity % | audit CPU s | meets bar |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {p['intervention']} | {p['strength']} | {fmt(p['text.stereotype_effect'])} | {fmt(red, True)} | "
        f"{fmt(p['text.referent_agreement'], True)} | {fmt(agr)} | {fmt(p['text.perplexity'])} | "
        f"{fmt(ppl, True)} | {p['seconds']:.0f} | {'yes' if _meets(p) else 'no'} |",
        "",
        f"This process: {cpu_s:.0f} CPU s ({wall_s:.0f} s wall), peak resident memory {peak_mb:.0f} MB "
        "(resource.getrusage).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
