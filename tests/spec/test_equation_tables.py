"""Issue 30's evaluation shortcuts give the bits of the equation as written: per-category tables of
categorical-only parts, and operations written over their own temporaries (never over a parent or a noise)."""

from __future__ import annotations

import numpy as np
import pytest

from causaltrust.spec._equations import Expr, NoiseTerm, Op, VarInfo, compile_equation

RNG = np.random.default_rng(30)
N = 1_000
X = RNG.normal(size=N)
W = RNG.normal(size=N) * 2
E_CODES = RNG.integers(0, 3, size=N)  # categorical E with categories [0, 5, 10]
R_CODES = RNG.integers(0, 3, size=N)  # categorical R with categories ["white", "black", "asian"]
E = np.array([0.0, 5.0, 10.0])[E_CODES]
R = np.array(["white", "black", "asian"], dtype=object)[R_CODES]
INFOS = {
    "X": VarInfo("continuous"),
    "W": VarInfo("continuous"),
    "E": VarInfo("categorical", (0, 5, 10)),
    "R": VarInfo("categorical", ("white", "black", "asian")),
    "Y": VarInfo("continuous"),
}
ENV = {"X": X, "W": W, "E": E_CODES, "R": R_CODES}


def _tables(expr: Expr) -> list[str]:
    """Names of the variables whose tables the nodes of ``expr`` carry."""
    out, stack = [], [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Op):
            if node.table is not None:
                out.append(node.table[0])
            stack.extend(node.args)
        elif isinstance(node, NoiseTerm):
            stack.extend((node.loc, node.scale))
    return out


# (equation, the same in NumPy as written, the variables whose parts become tables)
TABLED = [
    ("X + 0.8*(E == 5) - 0.5*(E == 10)", X + 0.8 * (E == 5) - 0.5 * (E == 10), ["E", "E"]),
    ('4.0 - 0.5*(R == "black") - 0.35*(R == "asian")',
     4.0 - 0.5 * (R == "black") - 0.35 * (R == "asian"), ["R"]),
    ("X + where(E == 5, 0.7, 0) * W", X + np.where(E == 5, 0.7, 0.0) * W, ["E"]),
    ("0.1 * E + X", 0.1 * E + X, ["E"]),
    ("sqrt(abs(E - 5)) / 3 * X", np.sqrt(np.abs(E - 5)) / 3 * X, ["E"]),
    ("max(E, 4) - min(E, 6) + (E > 4 and E < 10)",
     np.maximum(E, 4) - np.minimum(E, 6) + ((E > 4) & (E < 10)), ["E"]),
    ('X * (R != "white") + (E == 10) * W', X * (R != "white") + (E == 10) * W, ["R", "E"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected", "tabled"), TABLED, ids=[c[0] for c in TABLED])
def test_categorical_parts_are_tables_with_the_same_bits(text, expected, tabled):
    eq = compile_equation("Y", text, INFOS)
    assert sorted(_tables(eq.expr)) == sorted(tabled)
    got = eq.expr.evaluate(ENV, {})
    assert got.dtype == np.float64
    assert np.array_equal(got, expected)  # bit for bit, not approximately


@pytest.mark.parametrize(
    ("text", "expected", "tabled"),
    [
        # tanh, exp and ** may round differently on few values than on many: they stay per unit (the product
        # inside exp is exact, so it alone is a table)
        ("tanh(E) + X", np.tanh(E) + X, []),
        ("exp(0.1 * E) * X", np.exp(0.1 * E) * X, ["E"]),
        ("E ** 2 + X", E**2 + X, []),
    ],
)
def test_functions_not_exactly_rounded_are_evaluated_per_unit(text, expected, tabled):
    eq = compile_equation("Y", text, INFOS)
    assert _tables(eq.expr) == tabled
    assert np.array_equal(eq.expr.evaluate(ENV, {}), expected)


def test_codes_beyond_the_categories_and_one_number_are_evaluated_as_written():
    eq = compile_equation("Y", "X + 0.8*(E == 5) - 0.5*(E == 10)", INFOS)
    codes = np.array([0, 1, 2, 3, 1])  # code 3: a category this equation does not know (a shift's)
    x = X[:5]
    expected = x + 0.8 * (codes == 1) - 0.5 * (codes == 2)
    assert np.array_equal(eq.expr.evaluate({"X": x, "E": codes}, {}), expected)
    assert np.array_equal(eq.expr.evaluate({"X": x, "E": 1}, {}), x + 0.8)  # a do() value: one code


def test_temporaries_are_reused_but_parents_and_noise_are_not_written():
    eq = compile_equation("Y", "2*X + X*W - X / W + normal(0, 1) - 3", INFOS)
    eps = RNG.normal(size=N)
    before = {k: v.copy() for k, v in ENV.items() if k in ("X", "W")}, eps.copy()
    got = eq.expr.evaluate(ENV, {0: eps})
    assert np.array_equal(got, 2 * X + X * W - X / W + eps - 3)
    assert all(np.array_equal(ENV[k], v) for k, v in before[0].items())
    assert np.array_equal(eps, before[1])
    plain = compile_equation("Y", "normal(0, 1) + X", INFOS)  # the noise term hands out the draw itself
    assert np.array_equal(plain.expr.evaluate(ENV, {0: eps}), eps + X)
    assert np.array_equal(eps, before[1])
