"""Per-example gradients of the DP-SGD classifiers: the closed form in use vs ``torch.func`` (vmap of grad).

Both give each example's own gradient of the logistic (or softmax) loss for the dense ReLU networks of
``DPLogisticRegression`` / ``DPMLPClassifier``. The script checks they agree (to float32 rounding) and times
one DP-SGD step's gradient computation at the batch sizes the learners use. Run::

    PYTHONPATH=src python benchmarks/per_example_grads.py
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch

from causaltrust.learners._dp import _per_example_grads
from causaltrust.learners._torch import init_layers


def _func_grads(
    params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, n_out: int
) -> list[torch.Tensor]:
    from torch.func import grad, vmap

    def loss(ps: tuple[torch.Tensor, ...], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        h = xi[None, :]
        for i in range(0, len(ps), 2):
            h = h @ ps[i].T + ps[i + 1]
            if i < len(ps) - 2:
                h = torch.relu(h)
        if n_out == 1:
            return torch.nn.functional.binary_cross_entropy_with_logits(h[0, 0], yi)
        return torch.nn.functional.cross_entropy(h, yi[None])

    return list(vmap(grad(loss), in_dims=(None, 0, 0))(tuple(params), x, y))


def _time(fn: object, repeat: int = 50) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    torch.set_num_threads(1)  # as the learners train
    gen = torch.Generator().manual_seed(0)
    print("model        batch  closed form (ms)  torch.func (ms)  ratio  max |diff|")
    for name, hidden in (("logistic", ()), ("mlp(32,)", (32,))):
        for batch in (64, 256, 1024):
            d = 12
            params = init_layers(torch, (d, *hidden, 1), gen, dtype=torch.float32, style="sgd")
            x = torch.randn(batch, d, generator=gen)
            y = (torch.rand(batch, generator=gen) < 0.5).float()
            with torch.no_grad():
                closed = _per_example_grads(torch, params, x, y, 1)
            func = _func_grads([p.detach() for p in params], x, y, 1)
            diff = max(float((a - b).abs().max()) for a, b in zip(closed, func, strict=True))
            with torch.no_grad():
                t_closed = _time(functools.partial(_per_example_grads, torch, params, x, y, 1))
            t_func = _time(functools.partial(_func_grads, [p.detach() for p in params], x, y, 1))
            print(
                f"{name:<12} {batch:>5}  {1e3 * t_closed:>16.3f}  {1e3 * t_func:>15.3f}  "
                f"{t_func / t_closed:>5.1f}  {diff:.1e}"
            )
    assert np.isfinite(diff)


if __name__ == "__main__":
    main()
