"""BLAS threads for small problems.

ADMM on a small problem is a long loop of small matrix operations; multi-
threaded BLAS only adds synchronisation there (measured 15-60x slower on a
loaded two-core machine for a 504 x 36 SVD). Large problems keep every thread.
"""

from __future__ import annotations

from contextlib import nullcontext

from threadpoolctl import threadpool_limits

__all__ = ["blas_threads_for"]

#: Problems whose Lie-derivative matrix has fewer entries run single-threaded.
SMALL_PROBLEM_ENTRIES = 500_000


def blas_threads_for(n_entries: int):
    """Context manager: one BLAS thread for small problems, else unchanged."""
    if n_entries < SMALL_PROBLEM_ENTRIES:
        return threadpool_limits(limits=1, user_api="blas")
    return nullcontext()
