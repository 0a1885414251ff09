"""The equation language of trust specs: parsed to an AST, checked, compiled, evaluated on whole columns.

User text is never handed to ``eval`` or ``exec``. :func:`compile_equation` walks Python's own AST of the
text, accepts a small whitelist (arithmetic, comparisons, ``and/or/not``, a few functions, noise terms and
the discrete draws ``bernoulli``/``categorical``/``poisson``) and builds a tree of :class:`Expr` nodes whose
``evaluate`` works on NumPy arrays. Anything else is a :class:`~causaltrust.exceptions.SpecError` that names
the variable, the column in the equation and what is allowed.

Noise terms are location-scale: ``normal(mu, sd) = mu + sd * eps`` with a standard ``eps``, so the engine
can abduct ``eps`` from an observed value and replay it under other parents (counterfactuals).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from causaltrust.exceptions import DataError, SpecError

__all__ = [
    "DISCRETE",
    "FUNCTIONS",
    "NOISE",
    "AdditiveForm",
    "CompiledEquation",
    "Expr",
    "NoiseTerm",
    "VarInfo",
    "compile_equation",
    "result_fits",
]

Array = np.ndarray
Value = Array | float


def _sigmoid(x: Any) -> Any:
    # scipy.special imported on first use: it costs seconds at start-up (every CLI call loads specs).
    from scipy.special import expit

    return expit(x)


FUNCTIONS: dict[str, tuple[Callable[..., Value], int, int | None]] = {
    # name: (implementation, min args, max args)
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "abs": (np.abs, 1, 1),
    "tanh": (np.tanh, 1, 1),
    "sigmoid": (_sigmoid, 1, 1),
    "min": (lambda *a: _reduce(np.minimum, a), 2, None),
    "max": (lambda *a: _reduce(np.maximum, a), 2, None),
    "where": (lambda c, a, b: _where(c, a, b), 3, 3),
}
NOISE = ("normal", "uniform", "laplace")
DISCRETE = ("bernoulli", "categorical", "poisson")
_ALLOWED_TEXT = (
    "numbers, parent variable names, + - * / **, comparisons (== != < <= > >=, giving 0/1), and/or/not, "
    f"functions {', '.join(FUNCTIONS)}, noise terms normal(mu, sd), uniform(a, b), laplace(mu, b), and as "
    "the whole equation of a binary, categorical or count variable bernoulli(p), categorical([p0, p1, ...]), "
    "categorical(logits=[...]) or poisson(rate)"
)


def _where(cond: Value, a: Value, b: Value) -> Value:
    out: Array = np.where(np.asarray(cond) != 0, a, b)
    return out


def _reduce(fn: Callable[[Value, Value], Value], args: Sequence[Value]) -> Value:
    out = args[0]
    for a in args[1:]:
        out = fn(out, a)
    return out


@dataclass(frozen=True)
class VarInfo:
    """What the compiler must know about a variable an equation may reference."""

    type: Literal["continuous", "binary", "categorical"]
    categories: tuple[object, ...] = ()
    #: a ``count`` variable (stored as continuous): the one type ``poisson(rate)`` may draw
    count: bool = False

    @property
    def string_categories(self) -> bool:
        return any(isinstance(c, str) for c in self.categories)


class Expr:
    """A node of a compiled equation. ``evaluate`` maps column values (and noise draws) to an array."""

    names: frozenset[str] = frozenset()
    has_noise: bool = False

    def evaluate(self, env: Mapping[str, Array], noise: Mapping[int, Array]) -> Value:
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: float

    def evaluate(self, env: Mapping[str, Array], noise: Mapping[int, Array]) -> Value:
        return self.value


@dataclass(frozen=True, eq=False)
class Name(Expr):
    """A parent's value. Categorical parents are stored as integer codes; ``lookup`` maps them to values."""

    name: str
    lookup: Array | None = None
    names: frozenset[str] = field(default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset({self.name}))

    def evaluate(self, env: Mapping[str, Array], noise: Mapping[int, Array]) -> Value:
        v = env[self.name]
        return v if self.lookup is None else self.lookup[v]


@dataclass(frozen=True, eq=False)
class Op(Expr):
    fn: Callable[..., Value]
    args: tuple[Expr, ...]
    names: frozenset[str] = field(default=frozenset())
    has_noise: bool = False
    #: ``(name, values)`` when the node depends on one categorical variable only, through exactly rounded
    #: arithmetic: its value per category code, looked up by code (set by :func:`_tabulate`).
    table: tuple[str, Array] | None = field(default=None, repr=False, compare=False)
    #: ``(first, name, values)`` when the node is ``first ± t1 ± t2 ...`` with every ``t`` a table of the same
    #: variable, finite, and at most one of them nonzero per code: then it is ``first + values[code]``, the
    #: same bits (set by :func:`_merge_chains`).
    chain: tuple[Expr, str, Array] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset().union(*(a.names for a in self.args)))
        object.__setattr__(self, "has_noise", any(a.has_noise for a in self.args))

    def evaluate(self, env: Mapping[str, Array], noise: Mapping[int, Array]) -> Value:
        if self.table is not None:
            looked = _lookup(self.table, env)
            if looked is not None:
                return looked  # one pass, the same numbers as the arithmetic per unit
        if self.chain is not None:
            first, name, values = self.chain
            looked = _lookup((name, values), env)
            if looked is not None:
                x = first.evaluate(env, noise)
                if result_fits(looked, x):
                    return np.add(x, looked, out=looked)
        args = [a.evaluate(env, noise) for a in self.args]
        if self.fn in _IN_PLACE:
            out = _scratch(self.args, args)
            if out is not None:
                return self.fn(args[0], args[1], out=out)
        return self.fn(*args)


def _lookup(table: tuple[str, Array], env: Mapping[str, Array]) -> Array | None:
    """The table's values at each unit's code; None for a number (a do() value), a non-integer column or a
    code beyond the equation's categories (a shift's), which are evaluated as written."""
    name, values = table
    codes = env[name]
    if isinstance(codes, np.ndarray) and codes.ndim > 0 and codes.dtype.kind in "iu":
        try:
            out: Array = values.take(codes)
        except IndexError:
            return None
        return out
    return None


# Binary ufuncs that may write their result over an operand that is a temporary of this evaluation (what NumPy
# does for ``a + b + c`` in Python code): the same numbers, one array fewer per operation.
_IN_PLACE = frozenset({np.add, np.subtract, np.multiply, np.divide})


def _scratch(nodes: Sequence[Expr], values: Sequence[Any]) -> Array | None:
    """An operand that the operation may overwrite: a float64 array an :class:`Op` child just made (never a
    parent's column or a noise draw, which :class:`Name` and :class:`NoiseTerm` hand out), with the other
    operand one number or an array of its shape, so the result has its shape and dtype."""
    for i, (node, v) in enumerate(zip(nodes, values, strict=True)):
        if not (
            isinstance(node, Op)
            and isinstance(v, np.ndarray)
            and v.dtype == np.float64
            and v.ndim > 0
            and v.flags.owndata
            and v.flags.writeable
        ):
            continue
        if result_fits(v, values[1 - i]):
            return v
    return None


def result_fits(out: Array, other: Any) -> bool:
    """Whether ``out ∘ other`` has ``out``'s shape and dtype: ``other`` is one number or an array of its
    shape."""
    if isinstance(other, np.ndarray):
        return other.shape == out.shape and other.dtype.kind in "fbiu" and other.dtype.itemsize <= 8
    return isinstance(other, float | int) and not isinstance(other, bool)


@dataclass(frozen=True, eq=False)
class NoiseTerm(Expr):
    """``loc + scale * eps`` with ``eps`` standard normal, uniform(0, 1) or standard Laplace."""

    kind: Literal["normal", "uniform", "laplace"]
    loc: Expr
    scale: Expr
    index: int
    names: frozenset[str] = field(default=frozenset())
    has_noise: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", self.loc.names | self.scale.names)

    def draw(self, n: int, rng: np.random.Generator) -> Array:
        if self.kind == "normal":
            return rng.standard_normal(n)
        if self.kind == "uniform":
            return rng.random(n)
        return rng.laplace(0.0, 1.0, n)

    @property
    def eps_mean(self) -> float:
        return 0.5 if self.kind == "uniform" else 0.0

    def evaluate(self, env: Mapping[str, Array], noise: Mapping[int, Array]) -> Value:
        eps = noise[self.index]
        loc = self.loc.evaluate(env, noise)
        scale = self.scale.evaluate(env, noise)
        if not isinstance(scale, float) and np.any(scale < 0):
            # A constant negative scale is refused when the spec loads; one that depends on the parents
            # can only be caught here, on the units where it is negative.
            neg = np.asarray(scale < 0)
            what = "b < a" if self.kind == "uniform" else "its scale is negative"
            raise DataError(
                f"{self.kind}(...): {what} for {int(neg.sum())} of {neg.size} units (e.g. "
                f"{float(np.asarray(scale)[neg][0]):.3g}); a noise scale cannot be negative: wrap it in "
                "abs(...) or make it positive for every value of the parents"
            )
        if isinstance(loc, float) and loc == 0.0:
            return eps if isinstance(scale, float) and scale == 1.0 else scale * eps
        return loc + scale * eps


@dataclass(frozen=True)
class AdditiveForm:
    """``value = h(parents) + sum_j coef_j * noise_j``: the form counterfactual abduction can invert.

    ``constant`` is True when every coefficient, location and scale is a number (homoscedastic), so the
    total noise ``value - h`` can be carried over to other parents unchanged.
    """

    h: Expr
    terms: tuple[tuple[Expr, NoiseTerm], ...]
    constant: bool


@dataclass(frozen=True)
class CompiledEquation:
    """A checked, compiled equation of one variable."""

    variable: str
    text: str
    kind: Literal["deterministic", "additive", "nonadditive", "bernoulli", "categorical", "poisson"]
    parents: tuple[str, ...]
    expr: Expr | None = None  # the whole right-hand side (continuous / deterministic kinds)
    additive: AdditiveForm | None = None
    p: Expr | None = None  # bernoulli probability
    rate: Expr | None = None  # poisson rate
    probs: tuple[Expr, ...] = ()  # categorical probabilities (or logits)
    logits: bool = False
    noise_terms: tuple[NoiseTerm, ...] = ()
    infos: tuple[tuple[str, VarInfo], ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled tree holds closures; pickles carry the text and recompile it (same checks, same tree).
        return (compile_equation, (self.variable, self.text, dict(self.infos)))


# Limits of the equation language (DESIGN.md "Equation language"): beyond them a spec is refused with a
# SpecError rather than exhausting the stack or the memory while it loads or samples.
MAX_EQUATION_CHARS = 20_000
MAX_EQUATION_DEPTH = 200


def _depth(root: Expr) -> int:
    """Depth of an expression tree, computed without recursion."""
    best, stack = 0, [(root, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        if isinstance(node, Op):
            stack.extend((a, d + 1) for a in node.args)
        elif isinstance(node, NoiseTerm):
            stack.extend(((node.loc, d + 1), (node.scale, d + 1)))
    return best


class _Compiler:
    def __init__(self, variable: str, text: str, variables: Mapping[str, VarInfo]) -> None:
        self.variable = variable
        self.text = text
        self.variables = variables
        self.noise_terms: list[NoiseTerm] = []
        self.names_seen: list[str] = []

    # -- errors -------------------------------------------------------------------------------------
    def error(self, node: ast.AST | None, what: str, fix: str | None = None) -> SpecError:
        col = getattr(node, "col_offset", None)
        where = f" at column {col + 1}" if col is not None else ""
        caret = f"\n    {self.text}\n    {' ' * col}^" if col is not None else ""
        msg = (
            f"equation of {self.variable!r}{where}: {what}.{caret}\n"
            f"  {fix or 'Allowed: ' + _ALLOWED_TEXT + '.'}"
        )
        return SpecError(msg)

    # -- entry --------------------------------------------------------------------------------------
    def compile(self) -> CompiledEquation:
        if len(self.text) > MAX_EQUATION_CHARS:
            raise SpecError(
                f"equation of {self.variable!r} is {len(self.text):,} characters long; the limit is "
                f"{MAX_EQUATION_CHARS:,} (split it over intermediate variables)"
            )
        try:
            eq = self._compile()
        except (RecursionError, MemoryError):
            raise SpecError(
                f"equation of {self.variable!r} is nested too deeply to parse; the limit is "
                f"{MAX_EQUATION_DEPTH} levels (split it over intermediate variables)"
            ) from None
        except OverflowError:
            raise SpecError(
                f"equation of {self.variable!r}: a number is too large for a float (above 1.8e308)"
            ) from None
        for root in (eq.expr, eq.p, eq.rate, *eq.probs):
            if root is not None and _depth(root) > MAX_EQUATION_DEPTH:
                raise SpecError(
                    f"equation of {self.variable!r} nests {_depth(root)} operations deep; the limit is "
                    f"{MAX_EQUATION_DEPTH} (a long sum such as a + b + c + ... nests one level per term): "
                    "split it over intermediate variables"
                )
        roots = [eq.expr, eq.p, eq.rate, *eq.probs]
        if eq.additive is not None:
            roots += [eq.additive.h, *(c for c, _ in eq.additive.terms)]
        for root in roots:
            if root is not None:
                _tabulate(root, self.variables)
                _merge_chains(root)
        return eq

    def _compile(self) -> CompiledEquation:
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            col = (exc.offset or 1) - 1
            raise SpecError(
                f"equation of {self.variable!r} at column {col + 1}: not a valid expression "
                f"({exc.msg}).\n    {self.text.strip()}\n    {' ' * col}^\n  Allowed: {_ALLOWED_TEXT}."
            ) from None
        self.text = self.text.strip()
        body = tree.body
        info = self.variables[self.variable]
        if isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and body.func.id in DISCRETE:
            return self._discrete(body, info)
        expr = self.expr(body)
        parents = tuple(dict.fromkeys(self.names_seen))
        if info.type == "categorical" and info.string_categories:
            raise self.error(
                body,
                f"{self.variable!r} has string categories, so its equation must be categorical([...])",
                "Write e.g. categorical([0.5, 0.3, 0.2]) or categorical(logits=[...]) with one entry per "
                "category.",
            )
        if not expr.has_noise:
            return CompiledEquation(self.variable, self.text, "deterministic", parents, expr=expr)
        if info.count:
            raise self.error(
                body,
                f"{self.variable!r} is a count; a noise term would make it a real number",
                "Draw it with poisson(rate), e.g. poisson(exp(0.5 + 0.3*X)), or declare it continuous.",
            )
        if info.type != "continuous":
            raise self.error(
                body,
                f"{self.variable!r} is {info.type}; noise terms belong to continuous variables",
                "Use bernoulli(p) for a binary variable and categorical([...]) for a categorical one.",
            )
        form = _additive_form(expr)
        kind: Literal["additive", "nonadditive"] = "additive" if form is not None else "nonadditive"
        return CompiledEquation(
            self.variable, self.text, kind, parents, expr=expr, additive=form,
            noise_terms=tuple(self.noise_terms),
        )  # fmt: skip

    def _discrete(self, call: ast.Call, info: VarInfo) -> CompiledEquation:
        name = call.func.id  # type: ignore[attr-defined]
        if name == "poisson":
            return self._poisson(call, info)
        if name == "bernoulli":
            if info.type != "binary":
                raise self.error(call, f"bernoulli(p) draws 0/1, but {self.variable!r} is {info.type}")
            if len(call.args) != 1 or call.keywords:
                raise self.error(call, "bernoulli takes exactly one argument, the probability p")
            p = self.expr(call.args[0])
            if p.has_noise:
                raise self.error(call.args[0], "the probability of bernoulli(p) cannot contain noise")
            return CompiledEquation(
                self.variable, self.text, "bernoulli", tuple(dict.fromkeys(self.names_seen)), p=p
            )
        if info.type != "categorical":
            raise self.error(call, f"categorical(...) draws a category, but {self.variable!r} is {info.type}")
        logits = False
        if call.keywords:
            if len(call.keywords) != 1 or call.keywords[0].arg not in ("logits", "p") or call.args:
                raise self.error(call, "categorical takes one list: categorical([p0, ...]) or logits=[...]")
            logits = call.keywords[0].arg == "logits"
            arg = call.keywords[0].value
        else:
            if len(call.args) != 1:
                raise self.error(call, "categorical takes one list: categorical([p0, ...]) or logits=[...]")
            arg = call.args[0]
        if not isinstance(arg, ast.List):
            raise self.error(arg, "categorical needs a literal list [p0, p1, ...], one entry per category")
        if len(arg.elts) != len(info.categories):
            raise self.error(
                arg,
                f"{len(arg.elts)} entries for {len(info.categories)} categories {list(info.categories)}",
                "Give exactly one probability (or logit) per declared category, in the declared order.",
            )
        probs = tuple(self.expr(e) for e in arg.elts)
        if any(p.has_noise for p in probs):
            raise self.error(arg, "category probabilities cannot contain noise")
        if not logits:
            for e, p in zip(arg.elts, probs, strict=True):
                if isinstance(p, Const) and p.value < 0:
                    raise self.error(e, f"probability {p.value} is negative")
            consts = [p.value for p in probs if isinstance(p, Const)]
            if len(consts) == len(probs):
                total = float(sum(consts))
                if abs(total - 1.0) > 1e-6:
                    raise self.error(
                        arg,
                        f"the probabilities sum to {total:g}, not 1",
                        "Give probabilities that sum to 1, or use categorical(logits=[...]) for weights.",
                    )
        return CompiledEquation(
            self.variable, self.text, "categorical", tuple(dict.fromkeys(self.names_seen)),
            probs=probs, logits=logits,
        )  # fmt: skip

    # -- expressions --------------------------------------------------------------------------------
    def _poisson(self, call: ast.Call, info: VarInfo) -> CompiledEquation:
        if not info.count:
            raise self.error(
                call,
                f"poisson(rate) draws a count, but {self.variable!r} is {info.type}",
                "Declare the variable 'type: count' (a non-negative integer).",
            )
        if len(call.args) != 1 or call.keywords:
            raise self.error(call, "poisson takes exactly one argument, the rate (mean) of the count")
        rate = _fold(self.expr(call.args[0]))
        if rate.has_noise:
            raise self.error(call.args[0], "the rate of poisson(rate) cannot contain noise")
        if isinstance(rate, Const) and not (np.isfinite(rate.value) and rate.value >= 0.0):
            raise self.error(
                call.args[0],
                f"the rate of poisson(rate) is {rate.value}; a rate is a finite number >= 0",
                "Give a non-negative rate, e.g. poisson(exp(...)) for a log-linear one.",
            )
        return CompiledEquation(
            self.variable, self.text, "poisson", tuple(dict.fromkeys(self.names_seen)), rate=rate
        )

    def expr(self, node: ast.AST) -> Expr:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                if isinstance(node.value, str):
                    raise self.error(
                        node,
                        f"the string {node.value!r} can only be compared with a categorical variable",
                        'Write e.g. (race == "white").',
                    )
                raise self.error(node, f"the constant {node.value!r} is not a number")
            return Const(float(node.value))
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            ops: dict[type, Callable[[Value, Value], Value]] = {
                ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                ast.Div: np.divide, ast.Pow: np.power,
            }  # fmt: skip
            fn = ops.get(type(node.op))
            if fn is None:
                raise self.error(node, f"the operator {type(node.op).__name__} is not allowed")
            return _fold(Op(fn, (self.expr(node.left), self.expr(node.right))))
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand)
            if isinstance(node.op, ast.USub):
                return _fold(Op(np.negative, (operand,)))
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not):
                return _fold(Op(_logical_not, (operand,)))
            raise self.error(node, f"the operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.BoolOp):
            fn2 = _logical_and if isinstance(node.op, ast.And) else _logical_or
            out = self.expr(node.values[0])
            for v in node.values[1:]:
                out = Op(fn2, (out, self.expr(v)))
            return _fold(out)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        kinds = {
            ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
            ast.List: "lists (only inside categorical([...]))", ast.IfExp: "if-expressions (use where)",
            ast.ListComp: "comprehensions", ast.Dict: "dicts", ast.Tuple: "tuples",
            ast.NamedExpr: "assignments", ast.Starred: "starred arguments",
        }  # fmt: skip
        what = kinds.get(type(node), f"{type(node).__name__} expressions")
        raise self.error(node, f"{what} are not allowed")

    def name(self, node: ast.Name) -> Expr:
        ident = node.id
        if ident.startswith("__"):
            raise self.error(node, f"the name {ident!r} is not allowed (dunder names are never evaluated)")
        if ident in FUNCTIONS or ident in NOISE or ident in DISCRETE:
            raise self.error(node, f"{ident!r} is a function; call it, e.g. {ident}(...)")
        if ident == self.variable:
            raise self.error(node, f"{ident!r} refers to itself", "An equation uses its parents only.")
        info = self.variables.get(ident)
        if info is None:
            known = ", ".join(sorted(v for v in self.variables if v != self.variable))
            functions = ", ".join(FUNCTIONS)
            # A spec whose only variable is this one has no name to offer: say so, not "()".
            fix = (
                f"Use a declared variable ({known}) or an allowed function ({functions})."
                if known
                else f"No other variable is declared: declare {ident!r} under variables, or use an allowed "
                f"function ({functions})."
            )
            raise self.error(node, f"unknown name {ident!r}", fix)
        self.names_seen.append(ident)
        if info.type == "categorical":
            if info.string_categories:
                raise self.error(
                    node,
                    f"{ident!r} has string categories and can only be compared with a literal",
                    f"Write e.g. ({ident} == {info.categories[0]!r}).",
                )
            return Name(ident, lookup=np.asarray(info.categories, dtype=float))
        return Name(ident)

    def compare(self, node: ast.Compare) -> Expr:
        ops: dict[type, Callable[[Value, Value], Value]] = {
            ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less,
            ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
        }  # fmt: skip
        left_node = node.left
        out: Expr | None = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            fn = ops.get(type(op))
            if fn is None:
                raise self.error(node, f"the comparison {type(op).__name__} is not allowed")
            part = self._categorical_compare(left_node, op, right_node) or self._categorical_compare(
                right_node, op, left_node, swapped=True
            )
            if part is None:
                part = Op(_as_float(fn), (self.expr(left_node), self.expr(right_node)))
            out = part if out is None else Op(_logical_and, (out, part))
            left_node = right_node
        assert out is not None
        return _fold(out)

    def _categorical_compare(
        self, var_node: ast.AST, op: ast.cmpop, lit_node: ast.AST, *, swapped: bool = False
    ) -> Expr | None:
        # (E == 1) and (race == "white") compare integer codes: no lookup, and literals are checked.
        if not (isinstance(var_node, ast.Name) and isinstance(lit_node, ast.Constant)):
            return None
        info = self.variables.get(var_node.id)
        if info is None or info.type != "categorical" or var_node.id == self.variable:
            if isinstance(lit_node.value, str):
                return None  # the string constant error is raised by expr()
            return None
        if not isinstance(op, ast.Eq | ast.NotEq):
            if info.string_categories:
                raise self.error(var_node, f"{var_node.id!r} has string categories: only == and != apply")
            return None
        value = lit_node.value
        matches = [i for i, c in enumerate(info.categories) if c == value and type(c) is not bool]
        if not matches:
            raise self.error(
                lit_node,
                f"{value!r} is not a category of {var_node.id!r} (categories: {list(info.categories)})",
                "Compare with a declared category, or add it under 'categories:' (a shift may add one).",
            )
        self.names_seen.append(var_node.id)
        code = float(matches[0])
        fn = np.equal if isinstance(op, ast.Eq) else np.not_equal
        del swapped
        return Op(_as_float(fn), (Name(var_node.id), Const(code)))

    def call(self, node: ast.Call) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise self.error(node, "only calls of allowed functions by name are allowed")
        fname = node.func.id
        if node.keywords:
            raise self.error(node, f"{fname}() takes no keyword arguments")
        if fname in DISCRETE:
            kind = {"bernoulli": "binary", "categorical": "categorical", "poisson": "count"}[fname]
            raise self.error(
                node,
                f"{fname}(...) must be the whole equation of a {kind} variable",
                "Draw it in a variable of its own and use that variable here.",
            )
        if fname in NOISE:
            if len(node.args) != 2:
                raise self.error(node, f"{fname} takes two arguments")
            a, b = (self.expr(x) for x in node.args)
            if a.has_noise or b.has_noise:
                raise self.error(node, "noise parameters cannot contain noise")
            if fname == "uniform":
                loc, scale = a, _fold(Op(np.subtract, (b, a)))
            else:
                loc, scale = a, b
            if isinstance(scale, Const) and scale.value < 0:
                raise self.error(node, f"the scale of {fname} is negative")
            term = NoiseTerm(fname, loc, scale, len(self.noise_terms))  # type: ignore[arg-type]
            self.noise_terms.append(term)
            return term
        spec = FUNCTIONS.get(fname)
        if spec is None:
            raise self.error(node, f"the function {fname!r} is not allowed")
        fn, lo, hi = spec
        if len(node.args) < lo or (hi is not None and len(node.args) > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}"
            raise self.error(node, f"{fname} takes {want} argument(s), got {len(node.args)}")
        return _fold(Op(fn, tuple(self.expr(a) for a in node.args)))


class _AsFloat:
    """A comparison giving 0.0/1.0. A class, not a closure: compiled specs must pickle (SCM.save)."""

    def __init__(self, fn: Callable[[Value, Value], Value]) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "cmp")

    def __call__(self, a: Value, b: Value) -> Value:
        out = self.fn(a, b)
        return out.astype(np.float64) if isinstance(out, np.ndarray) else float(out)


def _as_float(fn: Callable[[Value, Value], Value]) -> Callable[[Value, Value], Value]:
    return _AsFloat(fn)


def _logical_and(a: Value, b: Value) -> Value:
    return np.logical_and(np.asarray(a) != 0, np.asarray(b) != 0).astype(np.float64)


def _logical_or(a: Value, b: Value) -> Value:
    return np.logical_or(np.asarray(a) != 0, np.asarray(b) != 0).astype(np.float64)


def _logical_not(a: Value) -> Value:
    return (np.asarray(a) == 0).astype(np.float64)


# Functions whose result is exactly rounded (IEEE arithmetic, comparisons, selections): evaluated on one
# value or on a million, each element gets the same bits. exp, log, tanh, sigmoid and ** are left out: their
# SIMD and scalar code paths may differ in the last place.
_EXACT: frozenset[Callable[..., Any]] = frozenset(
    {np.add, np.subtract, np.multiply, np.divide, np.negative, np.abs, np.sqrt, _logical_and, _logical_or,
     _logical_not, FUNCTIONS["min"][0], FUNCTIONS["max"][0], FUNCTIONS["where"][0]}
)  # fmt: skip


def _exact(node: Expr) -> bool:
    if isinstance(node, Op):
        return (node.fn in _EXACT or isinstance(node.fn, _AsFloat)) and all(_exact(a) for a in node.args)
    return isinstance(node, Const | Name)


def _walk(root: Expr, visit: Callable[[Op], bool]) -> None:
    """Call ``visit`` on every :class:`Op` of ``root`` (noise terms' parameters included), top down; the
    arguments of a node whose visit returns False are not visited."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, NoiseTerm):
            stack.extend((node.loc, node.scale))
        elif isinstance(node, Op) and visit(node):
            stack.extend(node.args)


def _tabulate(root: Expr, variables: Mapping[str, VarInfo]) -> None:
    """Give every largest noise-free subtree of ``root`` that depends on one categorical variable only,
    through exactly rounded functions, its value per category code (:attr:`Op.table`).

    ``0.8*(E == 1)`` is then one lookup by code per unit instead of a comparison, a conversion and a product:
    the same numbers, as each unit's value is the same function of its code.
    """

    def visit(node: Op) -> bool:
        if node.has_noise or len(node.names) != 1:
            return True
        (name,) = node.names
        info = variables.get(name)
        if info is None or info.type != "categorical" or not info.categories or not _exact(node):
            return True
        codes = np.arange(len(info.categories), dtype=np.int64)
        try:
            with np.errstate(all="ignore"):
                values = node.evaluate({name: codes}, {})
        except (ArithmeticError, IndexError, TypeError, ValueError):  # evaluated per unit, as written
            return True
        if isinstance(values, np.ndarray) and values.shape == codes.shape and values.dtype == np.float64:
            object.__setattr__(node, "table", (name, values))
            return False  # the table covers the subtree
        return True

    _walk(root, visit)


def _merge_chains(root: Expr) -> None:
    """Give each ``first ± t1 ± t2 ...`` of ``root`` whose terms are tables of one variable, finite, with at
    most one nonzero per code, the table of their signed sum (:attr:`Op.chain`): one lookup, one addition.

    Exact: ``x - t`` is ``x + (-t)``, and ``(x + a) + b = x + (a + b)`` in IEEE arithmetic whenever ``a`` or
    ``b`` is a zero of either sign (adding a zero changes no nonzero sum, and a sum of zeros is -0 only when
    every zero is), so by induction over the terms the chain is ``x`` plus the one nonzero term of the code.
    """

    def visit(node: Op) -> bool:
        terms: list[tuple[bool, tuple[str, Array]]] = []
        cur: Expr = node
        while (
            isinstance(cur, Op)
            and cur.fn in (np.add, np.subtract)
            and cur.table is None
            and isinstance(cur.args[1], Op)
            and cur.args[1].table is not None
            and (not terms or cur.args[1].table[0] == terms[0][1][0])
        ):
            terms.append((cur.fn is np.subtract, cur.args[1].table))
            cur = cur.args[0]
        if len(terms) < 2:
            return True
        signed = [-values if minus else values for minus, (_, values) in reversed(terms)]
        stacked = np.vstack(signed)
        if not (np.isfinite(stacked).all() and ((stacked != 0).sum(axis=0) <= 1).all()):
            return True
        total = signed[0]
        for values in signed[1:]:
            total = total + values
        object.__setattr__(node, "chain", (cur, terms[0][1][0], total))
        return True

    _walk(root, visit)


def _fold(expr: Expr) -> Expr:
    """Constant-fold a node whose arguments are all numbers (so 0.5*2 costs nothing per row)."""
    if isinstance(expr, Op) and all(isinstance(a, Const) for a in expr.args):
        with np.errstate(all="ignore"):
            return Const(float(expr.fn(*(a.value for a in expr.args))))  # type: ignore[attr-defined]
    return expr


def _additive_form(expr: Expr) -> AdditiveForm | None:
    """Split ``expr`` into h(parents) + sum coef*noise, or None when noise enters non-additively."""
    terms: list[tuple[float, Expr]] = []
    _flatten_sum(expr, 1.0, terms)
    det: list[tuple[float, Expr]] = []
    noisy: list[tuple[Expr, NoiseTerm]] = []
    for sign, term in terms:
        if not term.has_noise:
            det.append((sign, term))
            continue
        split = _coef_times_noise(term)
        if split is None:
            return None
        coef, noise = split
        coef = _fold(Op(np.multiply, (Const(sign), coef))) if sign != 1.0 else coef
        noisy.append((coef, noise))
    h: Expr = Const(0.0)
    for sign, term in det:
        h = _fold(Op(np.add if sign > 0 else np.subtract, (h, term))) if not _is_zero(h) else (
            term if sign > 0 else _fold(Op(np.negative, (term,)))
        )  # fmt: skip
    constant = all(
        isinstance(c, Const) and isinstance(n.loc, Const) and isinstance(n.scale, Const) for c, n in noisy
    )
    return AdditiveForm(h=h, terms=tuple(noisy), constant=constant)


def _is_zero(e: Expr) -> bool:
    return isinstance(e, Const) and e.value == 0.0


def _flatten_sum(expr: Expr, sign: float, out: list[tuple[float, Expr]]) -> None:
    if isinstance(expr, Op) and expr.fn is np.add:
        _flatten_sum(expr.args[0], sign, out)
        _flatten_sum(expr.args[1], sign, out)
    elif isinstance(expr, Op) and expr.fn is np.subtract:
        _flatten_sum(expr.args[0], sign, out)
        _flatten_sum(expr.args[1], -sign, out)
    elif isinstance(expr, Op) and expr.fn is np.negative:
        _flatten_sum(expr.args[0], -sign, out)
    else:
        out.append((sign, expr))


def _coef_times_noise(term: Expr) -> tuple[Expr, NoiseTerm] | None:
    if isinstance(term, NoiseTerm):
        return Const(1.0), term
    if isinstance(term, Op) and term.fn is np.negative:
        inner = _coef_times_noise(term.args[0])
        return None if inner is None else (_fold(Op(np.negative, (inner[0],))), inner[1])
    if isinstance(term, Op) and term.fn in (np.multiply, np.divide):
        a, b = term.args
        if term.fn is np.multiply and not a.has_noise:
            inner = _coef_times_noise(b)
            return None if inner is None else (_fold(Op(np.multiply, (a, inner[0]))), inner[1])
        if not b.has_noise:
            inner = _coef_times_noise(a)
            if inner is None:
                return None
            return _fold(Op(term.fn, (inner[0], b))), inner[1]
    return None


def compile_equation(variable: str, text: str, variables: Mapping[str, VarInfo]) -> CompiledEquation:
    """Parse and check ``text`` as the equation of ``variable``.

    Parameters
    ----------
    variable : str
        The variable the equation defines.
    text : str
        The right-hand side, e.g. ``"bernoulli(sigmoid(-0.5 + 1.5*A))"``.
    variables : mapping of str to VarInfo
        Every variable the equation may reference, with its type and categories.

    Returns
    -------
    CompiledEquation

    Raises
    ------
    SpecError
        Naming the variable, the column and what is allowed.

    Examples
    --------
    >>> eq = compile_equation("Y", "2*X + normal(0, 1)", {"X": VarInfo("continuous"),
    ...                                                  "Y": VarInfo("continuous")})
    >>> eq.kind, eq.parents
    ('additive', ('X',))
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"equation of {variable!r} is empty; write an expression such as 'normal(0, 1)'")
    eq = _Compiler(variable, text, variables).compile()
    # Keep only what the equation references (plus itself) so pickles stay small.
    # Looked up, not filtered from all variables: a scan per equation made loading quadratic.
    keep = sorted({variable, *eq.parents})
    infos = tuple((k, variables[k]) for k in keep if k in variables)
    object.__setattr__(eq, "infos", infos)
    return eq
