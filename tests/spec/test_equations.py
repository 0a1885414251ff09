"""The equation language: each allowed construct evaluates as NumPy would; noise terms have the stated law."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.spec._equations import Const, Expr, NoiseTerm, Op, VarInfo, compile_equation

RNG = np.random.default_rng(12345)
N = 64
X = RNG.normal(size=N)
W = RNG.normal(size=N) * 2
B = (RNG.random(N) < 0.5).astype(float)
E_CODES = RNG.integers(0, 3, size=N)  # categorical E with categories [0, 5, 10]
R_CODES = RNG.integers(0, 3, size=N)  # categorical R with categories ["white", "black", "asian"]
E_VALUES = np.array([0.0, 5.0, 10.0])[E_CODES]
R_VALUES = np.array(["white", "black", "asian"], dtype=object)[R_CODES]

INFOS = {
    "X": VarInfo("continuous"),
    "W": VarInfo("continuous"),
    "B": VarInfo("binary", (0, 1)),
    "E": VarInfo("categorical", (0, 5, 10)),
    "R": VarInfo("categorical", ("white", "black", "asian")),
    "Y": VarInfo("continuous"),
}
ENV = {"X": X, "W": W, "B": B, "E": E_CODES, "R": R_CODES}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


CASES = [
    ("X + W", X + W),
    ("X - 2*W", X - 2 * W),
    ("X * W / 3", X * W / 3),
    ("X ** 2", X**2),
    ("-X", -X),
    ("+X", X),
    ("exp(X)", np.exp(X)),
    ("log(1 + X**2)", np.log(1 + X**2)),
    ("sqrt(abs(W))", np.sqrt(np.abs(W))),
    ("abs(W)", np.abs(W)),
    ("tanh(W)", np.tanh(W)),
    ("sigmoid(W)", _sigmoid(W)),
    ("min(X, W)", np.minimum(X, W)),
    ("max(X, W, 0.5)", np.maximum(np.maximum(X, W), 0.5)),
    ("min(X, 0)", np.minimum(X, 0)),
    ("where(X > 0, W, -W)", np.where(X > 0, W, -W)),
    ("where(B, X, 7)", np.where(B != 0, X, 7.0)),
    ("X > W", (X > W).astype(float)),
    ("X >= 0", (X >= 0).astype(float)),
    ("X < W", (X < W).astype(float)),
    ("X <= 0.1", (X <= 0.1).astype(float)),
    ("B == 1", (B == 1).astype(float)),
    ("B != 1", (B != 1).astype(float)),
    ("-1 < X < 1", ((X > -1) & (X < 1)).astype(float)),
    ("(X > 0) and (W > 0)", ((X > 0) & (W > 0)).astype(float)),
    ("(X > 0) or (W > 0)", ((X > 0) | (W > 0)).astype(float)),
    ("not (X > 0)", (~(X > 0)).astype(float)),
    ("not B", (B == 0).astype(float)),
    ("X and W", ((X != 0) & (W != 0)).astype(float)),
    ("2 * (X > 0) + 3 * (W > 0)", 2.0 * (X > 0) + 3.0 * (W > 0)),
    # Numeric categories enter arithmetic by value, comparisons by category.
    ("E", E_VALUES),
    ("0.1 * E + X", 0.1 * E_VALUES + X),
    ("E == 5", (E_VALUES == 5).astype(float)),
    ("5 == E", (E_VALUES == 5).astype(float)),
    ("E != 10", (E_VALUES != 10).astype(float)),
    ("E > 4", (E_VALUES > 4).astype(float)),
    ('(R == "white")', (R_VALUES == "white").astype(float)),
    ("(R == 'asian') * X", (R_VALUES == "asian").astype(float) * X),
    ('("black" != R)', (R_VALUES != "black").astype(float)),
    ('0.5 + 1.5*(R == "black") - (E == 10)', 0.5 + 1.5 * (R_VALUES == "black") - (E_VALUES == 10)),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_construct_evaluates_as_numpy(text, expected):
    eq = compile_equation("Y", text, INFOS)
    assert eq.kind == "deterministic"
    got = np.broadcast_to(eq.expr.evaluate(ENV, {}), (N,))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("text", "parents"),
    [
        ("X + W", ("X", "W")),
        ("W * X + X", ("W", "X")),
        ('(R == "white") + E', ("R", "E")),
        ("3 + normal(0, 1)", ()),
        ("bernoulli(sigmoid(X)) ", ("X",)),
    ],
)
def test_parents_are_the_names_used_in_order_of_appearance(text, parents):
    infos = {**INFOS, "Y": VarInfo("binary", (0, 1)) if "bernoulli" in text else VarInfo("continuous")}
    assert compile_equation("Y", text, infos).parents == parents


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.5 * 2", 1.0),
        ("2 ** 3 - 1", 7.0),
        ("sigmoid(0)", 0.5),
        ("max(1, 2, 3) + min(4, 5)", 7.0),
        ("exp(0) + log(1)", 1.0),
        ("3 > 2", 1.0),
        ("not 1", 0.0),
        ("where(0, 1, 2)", 2.0),
    ],
)
def test_constant_subexpressions_are_folded(text, value):
    eq = compile_equation("Y", text, INFOS)
    assert isinstance(eq.expr, Const)
    assert eq.expr.value == value
    assert eq.parents == ()


def test_folding_inside_a_larger_expression():
    eq = compile_equation("Y", "X * (2 * 3)", INFOS)
    consts = [a for a in eq.expr.args if isinstance(a, Const)]
    assert [c.value for c in consts] == [6.0]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("2*X + normal(0, 1)", "additive"),
        ("2*X - 0.5*normal(1, 2) + uniform(0, 1)", "additive"),
        ("X + normal(0, 1) * W", "additive"),  # heteroscedastic, still additive (not constant)
        ("exp(normal(0, 1)) * X", "nonadditive"),
        ("X * tanh(laplace(0, 1))", "nonadditive"),
        ("X + W", "deterministic"),
    ],
)
def test_equation_kinds(text, kind):
    assert compile_equation("Y", text, INFOS).kind == kind


def test_additive_form_is_constant_only_for_homoscedastic_noise():
    assert compile_equation("Y", "2*X + 0.5*normal(1, 2)", INFOS).additive.constant
    assert not compile_equation("Y", "2*X + W*normal(0, 1)", INFOS).additive.constant


def _sample_one(equation: str, n: int, seed: int = 0, **extra) -> np.ndarray:
    spec = {"target": "Y", "variables": {"Y": {"type": "continuous", "equation": equation, **extra}}}
    return ct.SCM.from_spec(spec).sample(n, random_state=seed)["Y"].to_numpy()


# Mean, variance and fourth central moment of each law: tolerances come from the sampling variance of
# the sample mean (var/n) and of the sample variance (about (mu4 - var**2)/n).
LAWS = [
    ("normal(1.5, 2)", 1.5, 4.0, 3 * 16.0),
    ("uniform(-1, 3)", 1.0, 16 / 12, 4**4 / 80),
    ("laplace(-0.5, 0.7)", -0.5, 2 * 0.49, 24 * 0.7**4),
    ("2 + 3*normal(0, 1)", 2.0, 9.0, 3 * 81.0),
]


@pytest.mark.parametrize(("text", "mean", "var", "mu4"), LAWS, ids=[law[0] for law in LAWS])
def test_noise_terms_have_the_stated_law(text, mean, var, mu4):
    n = 100_000
    y = _sample_one(text, n)
    assert abs(y.mean() - mean) < 5 * np.sqrt(var / n)
    assert abs(y.var() - var) < 5 * np.sqrt((mu4 - var**2) / n)


def test_uniform_stays_in_its_interval():
    y = _sample_one("uniform(-1, 3)", 20_000)
    assert y.min() >= -1
    assert y.max() <= 3


def test_bernoulli_and_categorical_frequencies():
    n = 100_000
    spec = {
        "target": "B",
        "variables": {
            "B": {"type": "binary", "equation": "bernoulli(0.3)"},
            "C": {
                "type": "categorical",
                "categories": ["a", "b", "c"],
                "equation": "categorical([0.2, 0, 0.8])",
            },
            "D": {
                "type": "categorical",
                "categories": [1, 2, 3],
                "equation": "categorical(logits=[0, 1, 2])",
            },
            "P": {"type": "categorical", "categories": [0, 1], "equation": "categorical(p=[0.25, 0.75])"},
        },
    }
    df = ct.SCM.from_spec(spec).sample(n, random_state=1)

    def close(freq, p):
        assert abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12

    close(df["B"].mean(), 0.3)
    close((df["C"] == "a").mean(), 0.2)
    assert (df["C"] == "b").sum() == 0  # probability 0 is never drawn
    soft = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    for level, p in zip([1, 2, 3], soft, strict=True):
        close((df["D"] == level).mean(), p)
    close((df["P"] == 1).mean(), 0.75)  # (constant probabilities must sum to 1: issue 32)


def test_string_categories_round_trip_through_sampling():
    spec = {
        "target": "Y",
        "variables": {
            "R": {
                "type": "categorical",
                "categories": ["white", "black"],
                "equation": "categorical([0.5, 0.5])",
            },
            "Y": {"type": "continuous", "equation": '3*(R == "black")'},
        },
    }
    df = ct.SCM.from_spec(spec).sample(500, random_state=0)
    assert set(df["R"]) == {"white", "black"}
    np.testing.assert_array_equal(df["Y"].to_numpy(), 3.0 * (df["R"] == "black").to_numpy())


def test_deterministic_binary_and_categorical_equations():
    spec = {
        "target": "B",
        "variables": {
            "X": {"type": "continuous", "equation": "normal(0, 1)"},
            "B": {"type": "binary", "equation": "X > 0"},
            "C": {"type": "categorical", "categories": [0, 10], "equation": "10 * (X > 0.5)"},
        },
    }
    df = ct.SCM.from_spec(spec).sample(1000, random_state=0)
    np.testing.assert_array_equal(df["B"].to_numpy(), (df["X"] > 0).astype(int).to_numpy())
    np.testing.assert_array_equal(df["C"].to_numpy(), np.where(df["X"] > 0.5, 10, 0))


# -- issue 30: categorical-only parts as tables, operations over their own temporaries (the same bits) -------
E, R = E_VALUES, R_VALUES  # the categorical columns' values, as the equations below name them


def _marked(expr: Expr, what: str = "table") -> list[str]:
    """Variables of the nodes of ``expr`` that carry a table (``what="table"``) or a merged chain."""
    out, stack = [], [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Op):
            if getattr(node, what) is not None:
                out.append(getattr(node, what)[1 if what == "chain" else 0])
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
    assert sorted(_marked(eq.expr)) == sorted(tabled)
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
    assert _marked(eq.expr) == tabled
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


def test_a_sum_of_tables_with_one_nonzero_per_code_is_one_lookup_with_every_bit_kept():
    x = np.array([-0.0, 0.0, np.inf, -np.inf, np.nan, 1e308, -0.8, 0.5] * 3)
    codes = np.repeat([0, 1, 2], 8)  # E == 5 is code 1, E == 10 code 2
    w = np.full(24, -0.0)
    env = {"X": x, "E": codes, "W": w}
    eq = compile_equation("Y", "X + 0.8*(E == 5) - 0.5*(E == 10) + W", INFOS)
    assert _marked(eq.expr, "chain") == ["E"]
    want = x + 0.8 * (codes == 1) - 0.5 * (codes == 2) + w
    assert np.array_equal(eq.expr.evaluate(env, {}).view(np.int64), want.view(np.int64))  # zeros' signs, NaN
    # Code 1 has two nonzero terms here: (x + a) + b may round differently from x + (a + b), so no merge.
    both = compile_equation("Y", "X + 0.8*(E == 5) + 0.3*(E > 4)", INFOS)
    assert _marked(both.expr, "chain") == []
    want = x + 0.8 * (codes == 1) + 0.3 * (np.array([0.0, 5.0, 10.0])[codes] > 4)
    assert np.array_equal(both.expr.evaluate(env, {}).view(np.int64), want.view(np.int64))
