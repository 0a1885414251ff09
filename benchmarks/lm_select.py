"""Choose causal LoRA settings on development templates only, then judge the choice once on held-out ones.

Run (issue 28, day 3)::

    .venv/bin/python benchmarks/lm_select.py --grid up2-pw1 up2-pw10 --threads 1   # one process per config
    .venv/bin/python benchmarks/lm_select.py --choose          # the rule below, on the saved dev rows
    .venv/bin/python benchmarks/lm_select.py --final           # held-out audit of the chosen checkpoint
    .venv/bin/python benchmarks/lm_select.py --all             # all three in one process (saved rows reused)

The development occupations of ``benchmarks/lm_front.py`` are split once more, by occupation (seeded, per
source): **dev-train** (two thirds) trains every configuration, **dev-val** (the rest; all its Winogender
prompts and 30 of its WinoBias templates) judges them. Each configuration of ``GRID`` is trained once for
``MAX_STEPS`` steps (or its own ``steps``); every ``EVERY`` steps the adapted model is audited on dev-val (``lm_audit``,
paired with the unmodified model's dev-val audit by ``lm_compare``) and its LoRA weights are saved, so the number
of steps is chosen for free. Perplexity during the choice is measured on ``PROXY_SENTENCES`` CrowS-Pairs
sentences (seeded sample) and on ``NEUTRAL_PROXY`` (40 sentences written here), **not** on the neutral corpus
the held-out audit reports, so neither the prompts nor the perplexity text of the final audit take part in the
choice.

Rule: among checkpoints whose dev-val referent agreement falls by at most 2 points and whose perplexity rises by
at most 5% on both proxies (point estimates), the largest dev-val stereotype reduction; ties go to fewer steps. ``--final`` rebuilds that checkpoint (the same LoRA weights, merged), audits it once on the
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
MAX_STEPS = 40  # unless a configuration names its own "steps"
EVERY = 10  # a checkpoint every EVERY steps
PROXY_SENTENCES = 80
BATCH, RANK = 4, 4
# the upper half of SmolLM2's 30 blocks (backward stops there). At 2 torch threads on the loaded machine a step
# cost 13 CPU s here against 21 on every block; at 1 thread both cost about 3 CPU s (idle threads spin).
UPPER = tuple(range(15, 30))
# name -> causal_finetune settings; every one is judged on dev-val only
GRID: dict[str, dict[str, Any]] = {
    # the first two ran for MAX_STEPS; the rest were added after them, on their dev-val rows only
    "up2-pw1": {"layers": UPPER, "lr": 2e-3, "preserve_weight": 1.0},
    "up2-pw10": {"layers": UPPER, "lr": 2e-3, "preserve_weight": 10.0},
    "up4-pw10": {"layers": UPPER, "lr": 4e-3, "preserve_weight": 10.0, "steps": 80},
    "all2-pw10": {"layers": None, "lr": 2e-3, "preserve_weight": 10.0, "steps": 80},
    "up8-pw10": {"layers": UPPER, "lr": 8e-3, "preserve_weight": 10.0, "steps": 60},
}


def inner_split(dev: pd.DataFrame, held: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """dev-train (two thirds of each source's development occupations, every prompt) and dev-val (the rest:
    all its Winogender prompts, 30 of its WinoBias templates).

    Development occupations that also appear among the held-out prompts are dropped, so nothing trained or
    chosen here has seen a held-out occupation. Day 3 ran when ``lm_prompts`` split occupations per source (8
    such occupations with seed 0, e.g. "nurse": WinoBias dev, Winogender held-out); it now splits them once
    across the sources, and the drop is a guard.
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


# The second perplexity text of the choice: 40 plain factual sentences in the neutral corpus's style, written
# for this benchmark (no people, no gendered words) and disjoint from text/data/neutral/neutral.txt. Added after
# the first two configurations had run: their CrowS-Pairs perplexity *fell* while day 2's held-out perplexity on
# the neutral corpus rose with training, so CrowS-Pairs alone looked like a poor stand-in for the bar's corpus.
NEUTRAL_PROXY = (
    "Ice floats on water because it is less dense than the liquid around it.",
    "The bridge crosses the bay in four long spans supported by concrete towers.",
    "A compass needle points north because it lines up with the magnetic field of the earth.",
    "Tomatoes ripen faster when they are kept in a warm room next to bananas.",
    "The library opens at nine in the morning and closes at six in the evening.",
    "Sound travels faster through water than through air.",
    "The old mill used the force of the river to turn a heavy stone wheel.",
    "Salt lowers the freezing point of water, so it is spread on icy roads in winter.",
    "A spider builds its web from silk that it produces in glands near the end of its body.",
    "The recipe calls for two cups of flour, one egg and a pinch of salt.",
    "Light from the sun takes about eight minutes to reach the earth.",
    "The village market sells fresh fruit, cheese and bread every Saturday.",
    "Mountains in the far north are covered with snow for most of the year.",
    "A battery stores chemical energy and releases it as an electric current.",
    "The ferry crossing was delayed because of strong winds and high waves.",
    "Rainbows appear when sunlight is split into colours by drops of water in the air.",
    "The garden has a small pond where frogs lay their eggs in early spring.",
    "Glass is made by heating sand with soda and lime until the mixture melts.",
    "The clock in the tower has not been wound for many years.",
    "Owls hunt at night and can turn their heads much further than most birds.",
    "A square has four equal sides and four right angles.",
    "The road follows the coast for several miles before it turns inland.",
    "Wood shrinks as it dries, so boards are left to season before they are used.",
    "The moon has no air, so there is no wind and no weather on its surface.",
    "Fresh snow reflects most of the sunlight that falls on it.",
    "The path through the forest is marked with small painted signs on the trees.",
    "Plants take in carbon dioxide and release oxygen during the day.",
    "The harbour is sheltered from storms by a long stone wall.",
    "Iron rusts when it is exposed to water and oxygen for a long time.",
    "A good map shows rivers, roads, hills and the names of the towns.",
    "The soup needs to simmer for an hour before the vegetables are soft.",
    "Whales breathe air through a blowhole on the top of their heads.",
    "The tunnel was dug through solid rock over a period of six years.",
    "Clouds form when warm, moist air rises and cools.",
    "The orchard produces apples, pears and plums in late summer.",
    "A thermometer measures how hot or cold something is.",
    "The canal links the two rivers and carries boats loaded with grain.",
    "Sand dunes move slowly as the wind carries grains from one side to the other.",
    "The bakery opens early so that the bread is ready before breakfast.",
    "Magnets attract iron and steel but not copper or aluminium.",
)


def _ppl(model: Any, tok: Any, texts: Any) -> float:
    nll, n = ct.text.sequence_nll(model, tok, list(texts))
    return float(np.exp(nll.sum() / n.sum()))


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
    base_ppl = _base_neutral_ppl(lm, tok, out)
    for name in names:
        cfg = GRID[name]
        done = out / f"dev_{name}.csv"
        if done.exists() and len(pd.read_csv(done)) == cfg.get("steps", MAX_STEPS) // EVERY:
            print(f"{name}: saved rows reused ({done})", flush=True)
            continue
        rows: list[dict[str, Any]] = []
        t0 = time.process_time()

        def checkpoint(
            step: int, net: Any, name: str = name, rows: list[dict[str, Any]] = rows, t0: float = t0
        ) -> None:
            if step % EVERY:
                return
            train_cpu = time.process_time() - t0 - sum(r["audit_cpu_s"] for r in rows)
            c = time.process_time()
            torch.save(get_peft_model_state_dict(net), out / f"{name}_{step}.pt")
            rep = ct.text.lm_audit(net, tok, val, label=f"{name} {step}", **kw)
            cmp = ct.text.lm_compare(base, rep, n_bootstrap=300)
            neutral = _ppl(net, tok, NEUTRAL_PROXY) / base_ppl - 1
            rows.append(
                {"config": name, "step": step, "train_cpu_s": train_cpu,
                 "audit_cpu_s": time.process_time() - c, **_flat(cmp), "neutral_proxy_change": neutral}
            )  # fmt: skip
            pd.DataFrame(rows).to_csv(out / f"dev_{name}.csv", index=False)
            r = rows[-1]
            print(
                f"{name} step {step}: dev-val cut {100 * r['stereotype_reduction']:.1f}% agreement "
                f"{r['agreement_change_points']:+.1f} pts proxy ppl {100 * r['perplexity_change']:+.1f}% "
                f"neutral proxy {100 * neutral:+.1f}% "
                f"(train CPU {train_cpu:.0f} s)",
                flush=True,
            )

        extra = {k: v for k, v in cfg.items() if k in ("target_modules",)}
        ct.text.causal_finetune(
            lm, tok, train, objective="causal", split=None, steps=cfg.get("steps", MAX_STEPS), batch_size=BATCH,
            rank=RANK,
            layers=cfg["layers"], lr=cfg["lr"], preserve_weight=cfg["preserve_weight"], random_state=0,
            callback=checkpoint, **extra,
        )  # fmt: skip


def _base_neutral_ppl(lm: Any, tok: Any, out: Path) -> float:
    path = out / "dev_neutral_proxy_baseline.json"
    if not path.exists():
        path.write_text(json.dumps({"perplexity": _ppl(lm, tok, NEUTRAL_PROXY)}))
    return float(json.loads(path.read_text())["perplexity"])


def rescore(lm: Any, tok: Any, out: Path) -> None:
    """Add the neutral-proxy perplexity to saved dev rows computed before it existed (rebuilt checkpoints)."""
    base_ppl = _base_neutral_ppl(lm, tok, out)
    for f in sorted(out.glob("dev_*.csv")):
        rows = pd.read_csv(f)
        if "neutral_proxy_change" in rows and rows["neutral_proxy_change"].notna().all():
            continue
        rows["neutral_proxy_change"] = [
            _ppl(rebuild(lm, r.config, int(r.step), out), tok, NEUTRAL_PROXY) / base_ppl - 1
            for r in rows.itertuples()
        ]
        rows.to_csv(f, index=False)
        print(rows[["config", "step", "neutral_proxy_change"]].to_string(), flush=True)


def _flat(cmp: dict[str, tuple[float, float, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, (v, lo, hi) in cmp.items():
        out[k], out[f"{k}_low"], out[f"{k}_high"] = v, lo, hi
    return out


def choose(out: Path) -> pd.Series:
    """The rule of the module docstring, on every saved dev-val row."""
    rows = pd.concat([pd.read_csv(f) for f in sorted(out.glob("dev_*.csv"))], ignore_index=True)
    ok = rows[
        (rows["agreement_change_points"] >= -2)
        & (rows["perplexity_change"] <= 0.05)
        & (rows["neutral_proxy_change"] <= 0.05)
    ]
    if ok.empty:
        raise SystemExit("no checkpoint keeps agreement within 2 points and proxy perplexity within 5%")
    best = ok.sort_values(["stereotype_reduction", "step"], ascending=[False, True]).iloc[0]
    (out / "choice.json").write_text(json.dumps({"config": best["config"], "step": int(best["step"])}))
    print(rows.to_string(), f"\nchosen: {best['config']} at {int(best['step'])} steps", sep="\n")
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--grid", nargs="*", default=None, help=f"configurations to train, of {sorted(GRID)}")
    ap.add_argument("--all", action="store_true", help="every configuration, then --choose and --final")
    ap.add_argument("--choose", action="store_true")
    ap.add_argument("--rescore", action="store_true", help="add the neutral-proxy perplexity to saved rows")
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
    if args.all:
        args.grid, args.final = list(GRID), True
    if args.choose and not args.all:
        choose(out)
        return 0
    tok, lm = ct.text.load_smollm2()
    if args.rescore:
        rescore(lm, tok, out)
    if args.grid:
        run_grid(args.grid, lm, tok, train, val, out)
    if args.all:
        choose(out)
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
        f"sentences and on {len(NEUTRAL_PROXY)} neutral-style sentences written in the benchmark (not the neutral "
        "corpus). LoRA rank {RANK}, {BATCH} prompts a step, seed 0, objective "
        f'"causal" (invariance and agreement weights 1). Grid: {grid_txt}. Checkpoints every {EVERY} '
        "steps. Rule: largest dev-val cut among checkpoints with agreement ≥ −2 points and perplexity ≤ +5% on "
        "both proxies (the neutral-style proxy was added after the first two configurations ran; see "
        "`NEUTRAL_PROXY`).",
        "",
        "| config | steps | dev-val cut % | dev-val Δ agreement (points) | CrowS Δ perplexity % | "
        "neutral-proxy Δ perplexity % | train CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in dev_rows.itertuples():
        mark = " **(chosen)**" if (r.config, r.step) == (choice["config"], choice["step"]) else ""
        lines.append(
            f"| {r.config}{mark} | {r.step} | "
            f"{fmt((r.stereotype_reduction, r.stereotype_reduction_low, r.stereotype_reduction_high), True)} | "
            f"{fmt((r.agreement_change_points, r.agreement_change_points_low, r.agreement_change_points_high))}"
            f" | {fmt((r.perplexity_change, r.perplexity_change_low, r.perplexity_change_high), True)} | "
            f"{100 * r.neutral_proxy_change:.3g} | {r.train_cpu_s:.0f} |"
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
