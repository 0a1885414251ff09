"""``causaltrust lm-audit``: the stereotype path vs the referent path inside a causal language model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

import causaltrust as ct
from causaltrust.cli import _io
from causaltrust.cli._app import SeedOpt, _check_min, _user_errors, app
from causaltrust.cli._text_audit import write_and_print

__all__ = ["lm_audit"]

_BOUND = re.compile(r"^\s*([\w.\[\]-]+)\s*(>=|<=|=)\s*(\S+)\s*$")


def _bounds(items: list[str]) -> dict[str, dict[str, float]]:
    """``METRIC<=MAX``, ``METRIC=MAX`` (the same) or ``METRIC>=MIN``, repeatable."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        m = _BOUND.match(item)
        try:
            value = float(m.group(3)) if m else float("nan")
        except ValueError:
            value = float("nan")
        if m is None or value != value:
            raise ct.DataError(
                f"--threshold {item!r}: expected METRIC<=MAX or METRIC>=MIN, e.g. "
                "--threshold text.stereotype_effect<=0.1 --threshold text.referent_agreement>=0.95"
            )
        out.setdefault(m.group(1), {})["min" if m.group(2) == ">=" else "max"] = value
    return out


def _load(model: str, device: str) -> tuple[Any, Any]:
    if model == "smollm2":
        return ct.text.load_smollm2(device=device)
    path = Path(model)
    if not path.is_dir() or not (path / "config.json").is_file():
        raise ct.DataError(
            f"--model {model!r}: give 'smollm2' or a local transformers model folder (with config.json and "
            "tokenizer files); nothing is downloaded"
        )
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ImportError("lm-audit needs transformers; run: pip install 'causaltrust[text]'") from exc
    # safetensors only and no repository code: reading a model folder never runs code from it (issue 32)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    try:
        loaded: Any = AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True, use_safetensors=True, trust_remote_code=False
        )
    except OSError as exc:
        raise ct.DataError(
            f"--model {model!r}: no loadable model.safetensors ({exc}); lm-audit reads safetensors weights "
            "only, never pickled ones"
        ) from None
    lm = loaded.to(device).eval()
    return tokenizer, lm


@app.command("lm-audit")
def lm_audit(
    model: Annotated[
        str, typer.Option("--model", help="'smollm2' (offline, bundled) or a local transformers folder.")
    ] = "smollm2",
    split: Annotated[
        str, typer.Option("--split", help="heldout, dev or all: which templates to audit.")
    ] = "heldout",
    sources: Annotated[
        str, typer.Option("--sources", help="Comma-separated prompt sets: winogender, winobias.")
    ] = "winogender,winobias",
    max_prompts: Annotated[
        int | None,
        typer.Option(
            "--max-prompts", help="At most this many prompts per source, at least 1 (whole templates)."
        ),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", help="METRIC<=MAX or METRIC>=MIN, repeatable; exit 1 when one fails."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the report (.html or .json).")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Template bootstrap resamples (at least 1).")
    ] = 1000,
    device: Annotated[str, typer.Option("--device", help="Torch device, e.g. cpu or cuda.")] = "cpu",
    seed: SeedOpt = 0,
) -> None:
    """Audit a causal LM: stereotype effect (occupation → pronoun), referent agreement, perplexity.

    Exits 1 when a --threshold fails, 2 on bad input. The seed draws the prompts' split and the bootstrap.

    Example: causaltrust lm-audit --model smollm2 --threshold text.referent_agreement>=0.95 -o lm.html
    """
    console = Console()
    with _user_errors():
        _io.check_suffix(out, "--out", (".html", ".json"))
        if split not in ("heldout", "dev", "all"):
            raise ct.DataError(f"--split must be heldout, dev or all, got {split!r}")
        _check_min(bootstrap, "--bootstrap", 1)
        if max_prompts is not None:
            _check_min(max_prompts, "--max-prompts", 1)
        bounds = _bounds(threshold or [])
        names = tuple(s.strip() for s in sources.split(",") if s.strip())
        prompts = ct.text.lm_prompts(names, max_per_source=max_prompts, random_state=seed)
        tokenizer, lm = _load(model, device)
        report = ct.text.lm_audit(
            lm, tokenizer, prompts, split=None if split == "all" else split, n_bootstrap=bootstrap,
            device=device, thresholds=bounds, label=model, random_state=seed,
        )  # fmt: skip
    write_and_print(console, report, out)
