"""BLAS threads for small problems.

ADMM on a small problem, or the null spaces of many small constraint blocks,
are long loops of small matrix operations; multi-threaded BLAS only adds
synchronisation there (measured 15-60x slower on a loaded two-core machine for
a 504 x 36 SVD). Large problems keep every thread.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import lru_cache

from threadpoolctl import ThreadpoolController

__all__ = ["blas_threads_for", "single_blas_thread"]

#: Problems whose Lie-derivative matrix has fewer entries run single-threaded.
SMALL_PROBLEM_ENTRIES = 500_000


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # Finding the loaded BLAS libraries reads /proc; do it once per process.
    return ThreadpoolController()


def single_blas_thread():
    """Context manager: one BLAS thread (the libraries are looked up once)."""
    return _controller().limit(limits=1, user_api="blas")


def blas_threads_for(n_entries: int):
    """Context manager: one BLAS thread for small problems, else unchanged."""
    if n_entries < SMALL_PROBLEM_ENTRIES:
        return single_blas_thread()
    return nullcontext()
