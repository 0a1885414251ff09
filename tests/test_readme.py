"""The README is an executable contract: every fenced block and command line runs, in order, as written.

Python blocks run statement by statement in a temporary folder (the benchmark block as a script file in a
subprocess, as a user saves and runs it: that is what shows the ``if __name__ == "__main__":`` guard is
there); every ``causaltrust`` line of the bash block runs through the CLI. Every decimal number a comment of
a Python block states is checked against the value the code produced, to the precision it is written in
(0.16 means [0.155, 0.165]); a number no check covers fails the test, so a new claim cannot slip in
unchecked. Sizes: the tour, the model-file block and the numbers run as written. Sweeps, the demo and the
text sets are shrunk by the substitutions below (each must match the README exactly once), unless
``CAUSALTRUST_README_FULL=1`` (the README says so), which runs everything at the sizes written.
"""

from __future__ import annotations

import ast
import math
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FULL = os.environ.get("CAUSALTRUST_README_FULL") == "1"
_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")

# Reduced sizes (not with CAUSALTRUST_README_FULL=1): (block kind, text, replacement).
SHRINK = [
    (
        "python",
        'methods=["erm", "eg_dp", "irm", "dp_lr", "selective"], seeds=[0, 1, 2],',
        'methods=["erm", "selective"], seeds=[0],',
    ),
    (
        "python",
        'store="results.duckdb", n_jobs=2)',
        'store="results.duckdb", n_jobs=2, n_train=600, n_test=600, n_bootstrap=5, n_shadow=0,\n'
        "                       recourse_units=5)",
    ),
    ("python", "load_biographies(2000, 1000, random_state=0)", "load_biographies(80, 40, random_state=0)"),
]
SWEEP = ["--seeds", "1", "--n-train", "400", "--n-test", "400", "--shadows", "0", "--bootstrap", "5"]
SWEEP += ["--recourse", "5", "--jobs", "1"]
# Extra options per command (the CLI takes the last value of a repeated option).
SHRINK_CLI: dict[str, list[str]] = {
    "bench": SWEEP,
    "demo": [*SWEEP, "-m", "erm", "-m", "selective", "-o", "demo"],
    "audit": ["--bootstrap", "20"],
    "decompose": ["--bootstrap", "20", "--learner", "linear"],
    "discover": ["--bootstrap", "2"],
    "text-audit": ["--bootstrap", "20"],
    "simulate": ["-n", "2000"],
}


def _blocks() -> list[tuple[str, str, int]]:
    """``(kind, code, first line number)`` of every fenced python / bash block, in order."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"```(python|bash)\n(.*?)```", text, flags=re.S):
        out.append((m.group(1), m.group(2), text[: m.start()].count("\n") + 2))
    return out


def _comment(line: str) -> str:
    """The trailing ``#`` comment of a line of Python (outside strings), or ''."""
    for tok in _tokens(line):
        if tok.startswith("#"):
            return tok[1:].strip()
    return ""


def _tokens(line: str) -> list[str]:
    import io
    import tokenize

    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(line + "\n").readline)]
    except (tokenize.TokenError, IndentationError):
        return []


def _close(actual: float, written: str) -> bool:
    """``actual`` rounds to ``written`` at its precision (half a unit of its last digit)."""
    decimals = len(written.split(".")[1])
    return math.isfinite(actual) and abs(actual - float(written)) <= 0.5 * 10**-decimals + 1e-12


def _frame_effect(frame: pd.DataFrame, name: str) -> float:
    return float(frame.loc[frame["effect"] == name, "estimate"].item())


# Numbers in a comment that are not the statement's own value: (fragment of the line) -> number -> value.
CROSS: dict[str, Callable[[dict[str, Any], Any], dict[str, float]]] = {
    "ct.decompose_effects(scm": lambda ns, v: {
        "0.335": _frame_effect(v, "A.total"),
        "0.127": _frame_effect(v, "A.unfair"),
        "0.207": _frame_effect(v, "A.fair"),
    },
    "(ERM: 0.15)": lambda ns, v: {
        "0.15": ns["rep"].metric("robustness.spurious_path_effect").value,
    },
}


def _check_comment(line: str, value: Any, ns: dict[str, Any], where: str) -> int:
    """Check the numbers (and the literal value) a comment states; returns how many were checked."""
    comment = _comment(line)
    if not comment:
        return 0
    written = _DECIMAL.findall(comment)
    checked: dict[str, float] = {}
    for fragment, fn in CROSS.items():
        if fragment in line:
            checked.update(fn(ns, value))
    if isinstance(value, float | int) and not isinstance(value, bool) and written:
        checked.setdefault(written[0], float(value))
    if isinstance(value, str):
        assert comment.startswith(repr(value)), f"{where}: {value!r} but the comment says {comment!r}"
    if isinstance(value, tuple) and comment.startswith(("[", "(")):
        shown = ", ".join(repr(v) for v in value)
        assert comment.startswith(shown), f"{where}: {shown} but the comment says {comment!r}"
    unchecked = [w for w in written if w not in checked]
    assert not unchecked, f"{where}: no check covers the number(s) {unchecked} in {comment!r}"
    for w in written:
        assert _close(checked[w], w), f"{where}: the comment says {w}, the code gives {checked[w]:.6g}"
    return len(written)


def _run_python(code: str, first_line: int, ns: dict[str, Any]) -> int:
    """Run a block statement by statement, checking each expression statement's comment."""
    lines = code.splitlines()
    n_checked = 0
    for stmt in ast.parse(code).body:
        where = f"README.md:{first_line + stmt.lineno - 1}"
        if isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), where, "eval"), ns)  # our own README
        else:
            exec(compile(ast.Module([stmt], []), where, "exec"), ns)  # our own README
            value = None
        for k, line in enumerate(lines[stmt.lineno - 1 : stmt.end_lineno]):
            n_checked += _check_comment(line, value if k == 0 else None, ns, where)
    return n_checked


def _shrink(kind: str, code: str) -> str:
    if FULL:
        return code
    for k, old, new in SHRINK:
        if k == kind and old in code:
            assert code.count(old) == 1, old
            code = code.replace(old, new)
    return code


def _cli_args(line: str) -> tuple[list[str], str]:
    args = shlex.split(line, comments=True)
    assert args[0] == "causaltrust", f"a README command line that is not causaltrust: {line!r}"
    if not FULL:
        args += SHRINK_CLI.get(args[1], [])
    return args[1:], _comment(line.replace("'", '"'))


def test_every_shrink_still_matches_the_readme():
    """A README edit that moves a shrunk size must update SHRINK, not silently run at full size."""
    text = README.read_text(encoding="utf-8")
    for _, old, _ in SHRINK:
        assert text.count(old) == 1, old
    commands = {
        shlex.split(line, comments=True)[1] for line in text.splitlines() if line.startswith("causaltrust ")
    }
    assert set(SHRINK_CLI) <= commands


def test_readme_runs_as_written(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from causaltrust.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    blocks = _blocks()
    assert [k for k, _, _ in blocks].count("python") >= 4
    n_numbers = 0
    for kind, code, first in blocks:
        started = time.perf_counter()
        code = _shrink(kind, code)
        if kind == "python" and 'if __name__ == "__main__":' in code:
            script = tmp_path / "bench.py"  # saved and run as the README says
            script.write_text(code, encoding="utf-8")
            env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
            res = subprocess.run(
                [sys.executable, str(script)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert res.returncode == 0, res.stderr[-3000:]
            _check_benchmark_script(tmp_path, res.stdout)
        elif kind == "python":
            n_numbers += _run_python(code, first, {"__name__": "readme"})
        else:
            for offset, line in enumerate(code.splitlines()):
                if not line.strip():
                    continue
                if line.startswith("make "):
                    _check_make_line(line)
                    continue
                args, comment = _cli_args(line)
                res = CliRunner().invoke(app, args)
                expected = int(m.group(1)) if (m := re.search(r"\bexits (\d):", comment)) else 0
                assert res.exit_code == expected, f"README.md:{first + offset}: {line}\n{res.output[-3000:]}"
                print(f"README.md:{first + offset}: {time.perf_counter() - started:.0f} s")  # where time goes
                started = time.perf_counter()
        print(f"README.md:{first} ({kind}): {time.perf_counter() - started:.0f} s")
    assert n_numbers >= 6  # the tour's claims were checked
    assert (tmp_path / "report.html").stat().st_size < 2_000_000


def _check_make_line(line: str) -> None:
    """The set-up commands are not re-run here: ``make test`` is what runs this test, and ``make run`` is
    ``causaltrust demo``, which the command-line block runs."""
    target = shlex.split(line, comments=True)[1]
    assert target in ("run", "test"), line
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    if target == "run":
        assert re.search(r"^run: venv\n\t\$\(BIN\)/causaltrust demo\n", makefile, flags=re.M)


def _check_benchmark_script(folder: Path, stdout: str) -> None:
    import causaltrust as ct

    led = ct.bench.Ledger.open(folder / "results.duckdb")
    cells = led.cells()
    assert (cells["status"] == "ok").all(), cells["error"].dropna().tolist()[:1]  # workers did not die
    assert stdout.count("Thresholds — the spec requires fairness.unfair_path_effect |value| ≤ 0.02.") == 1
    front = ct.bench.pareto_front(led.to_frame(), ["accuracy.interventional", "fairness.unfair_path_effect"])
    for method in front["method"]:
        assert method in stdout
