"""SCM.fit runs single-threaded with one thread-pool scan kept per process (issue 30)."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from causaltrust.scm._fit import _threads


def test_every_thread_pool_is_limited_to_one_thread_on_every_call() -> None:
    before = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    for _ in range(2):  # the second call reuses the kept scan
        with _threads():
            inside = threadpool_info()
            assert inside, "no BLAS / OpenMP pool found: the test would check nothing"
            assert {p["filepath"]: p["num_threads"] for p in inside} == {p["filepath"]: 1 for p in inside}
    # and every pool gets its thread count back afterwards
    after = {p["filepath"]: p["num_threads"] for p in threadpool_info()}
    assert {k: after[k] for k in before} == before
