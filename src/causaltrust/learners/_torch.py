"""The torch plumbing of the DP and invariance families: import, thread limits, layers, the training loop.

torch is an optional extra: it is imported inside :func:`import_torch`, never at module level. Fitted
weights leave torch as NumPy arrays (:func:`to_numpy_layers`) and prediction runs in NumPy
(:func:`mlp_forward`), so a fitted estimator predicts and saves without torch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils._param_validation import HasMethods

__all__ = [
    "LAYER_WIDTHS",
    "import_torch",
    "init_layers",
    "mlp_forward",
    "to_numpy_layers",
    "torch_threads",
    "train_loop",
    "widths",
]

Array = np.ndarray


class _LayerWidths(HasMethods):
    """scikit-learn constraint: hidden layer widths, a sequence of positive ints (or one int).

    A subclass of ``HasMethods`` only because scikit-learn's ``make_constraint`` accepts instances of its
    own constraint classes; the test is this class's own.
    """

    def __init__(self) -> None:
        super().__init__([])

    def is_satisfied_by(self, val: Any) -> bool:
        if isinstance(val, int | np.integer) and not isinstance(val, bool):
            return int(val) >= 1
        if not isinstance(val, tuple | list):
            return False
        return all(isinstance(h, int | np.integer) and not isinstance(h, bool) and int(h) >= 1 for h in val)

    def __str__(self) -> str:
        return "a tuple of positive ints (the hidden layer widths; () for a linear model)"


#: The constraint of every ``hidden`` parameter.
LAYER_WIDTHS = _LayerWidths()


def widths(hidden: Any) -> tuple[int, ...]:
    """``hidden`` as a tuple of layer widths."""
    return (int(hidden),) if isinstance(hidden, Integral) else tuple(int(h) for h in hidden)


def import_torch(owner: str, *, extra: str = "torch") -> Any:
    """``torch``, or an ImportError naming ``owner`` and the install line of ``extra``."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{owner} trains with PyTorch, which is not installed: pip install 'causaltrust[{extra}]'"
        ) from exc
    return torch


@contextmanager
def torch_threads(torch: Any, n_threads: int | None, seed: int | None = None) -> Iterator[None]:
    """torch's intra-op thread count set to ``n_threads`` for the block (None: left as is), the caller's
    setting restored after; with ``seed``, torch's global generator is seeded inside and restored after
    (``fork_rng``), so nothing drawing from it can leak state either way."""
    previous = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        if seed is None:
            yield
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                yield
    finally:
        torch.set_num_threads(previous)


def init_layers(
    torch: Any,
    sizes: Sequence[int],
    gen: Any,
    *,
    dtype: Any,
    style: str = "linear",
) -> list[Any]:
    """Dense layers ``sizes[0] → … → sizes[-1]`` as ``[W0, b0, W1, b1, …]`` leaf tensors (W: out × in).

    Weights from ``nn.Linear``'s default range U(±1/sqrt(fan_in)), drawn from ``gen`` (no global state).
    ``style="linear"``: biases from the same range, as ``nn.Linear``. ``style="sgd"`` (the DP family):
    biases start at 0, and a convex model (no hidden layer) starts at the origin.
    """
    params: list[Any] = []
    convex = len(sizes) == 2
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        if style == "linear":
            w = torch.empty(fan_out, fan_in, dtype=dtype).uniform_(-bound, bound, generator=gen)
            b = torch.empty(fan_out, dtype=dtype).uniform_(-bound, bound, generator=gen)
        else:
            w = torch.zeros(fan_out, fan_in, dtype=dtype) if convex else (
                torch.rand(fan_out, fan_in, generator=gen, dtype=dtype) * 2.0 - 1.0) * bound  # fmt: skip
            b = torch.zeros(fan_out, dtype=dtype)
        params += [w.requires_grad_(), b.requires_grad_()]
    return params


def to_numpy_layers(params: Sequence[Any]) -> tuple[list[Array], list[Array]]:
    """``(coefs, intercepts)`` as float64 NumPy arrays, coefs transposed to in × out."""
    coefs = [params[i].detach().numpy().T.astype(np.float64) for i in range(0, len(params), 2)]
    intercepts = [params[i].detach().numpy().astype(np.float64) for i in range(1, len(params), 2)]
    return coefs, intercepts


def mlp_forward(h: Array, coefs: Sequence[Array], intercepts: Sequence[Array]) -> Array:
    """The ReLU network's output layer in NumPy (no torch needed to predict)."""
    last = len(coefs) - 1
    for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True)):
        h = h @ w + b
        if i < last:
            h = np.maximum(h, 0.0)
    return h


def train_loop(
    steps: int,
    batch: Callable[[int], Any],
    step: Callable[[int, Any], float | None],
) -> list[float]:
    """The one training loop: for each step, draw its batch and take the step; the step's loss values.

    ``batch(i)`` returns what step ``i`` trains on (a Poisson sample, per-environment minibatches, …) and
    ``step(i, b)`` computes the loss, updates the parameters and returns the loss (None when the step
    records none).
    """
    losses: list[float] = []
    for i in range(steps):
        loss = step(i, batch(i))
        if loss is not None:
            losses.append(loss)
    return losses
