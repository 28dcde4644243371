"""Size estimates before building large objects, and what to do when too large.

Polynomial libraries grow like ``n^d / d!``: 6 states at degree 12 give 18 564
features, and a library matrix of 12 000 samples over them needs 1.7 GiB. The
functions here estimate the memory of the library matrix, of Lie-derivative
operators and of the dense blocks of the symmetric basis *from the sizes
alone* (exponent counting, no allocation), and raise :class:`SizeLimitError`
with the estimate and concrete remedies when it exceeds the limit.

The limit is half of the memory available when the check runs, or the value of the
environment variable ``SYMSINDY_MEMORY_LIMIT`` (bytes, or with a unit such as
``"8GB"`` or ``"500MB"``); :func:`memory_limit_override` changes it temporarily.
Work that fits but takes long gets a progress bar (:func:`progress`); work
beyond :func:`work_limit` (``SYMSINDY_MAX_FLOPS``) is refused the same way.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .polynomials import Monomials, n_monomials

__all__ = [
    "SizeLimitError",
    "SizeEstimate",
    "memory_limit",
    "memory_limit_override",
    "work_limit",
    "format_bytes",
    "library_matrix_estimate",
    "lie_derivative_estimate",
    "check_library_matrix",
    "check_lie_derivative",
    "check_dense_blocks",
    "progress",
]

#: Bytes per stored non-zero of a sparse operator while it is assembled
#: (coordinate triplets plus the compressed copy).
BYTES_PER_NONZERO = 40

#: Floating-point operations above which a loop shows a progress bar
#: (about a few seconds of single-threaded work).
PROGRESS_FLOPS = 2e10

#: Floating-point operations above which a computation is refused (about ten
#: minutes single-threaded); override with ``SYMSINDY_MAX_FLOPS``.
MAX_FLOPS = 2e12

_override: list[int] = []


class SizeLimitError(MemoryError):
    """A requested object would exceed the memory limit (see module docstring)."""


@dataclass(frozen=True)
class SizeEstimate:
    """Shape, stored entries and bytes of an object before it is built."""

    what: str
    shape: tuple[int, int]
    nnz: int
    nbytes: int

    def __str__(self) -> str:
        return (
            f"{self.what}: {self.shape[0]:,} x {self.shape[1]:,}, "
            f"{self.nnz:,} stored entries, about {format_bytes(self.nbytes)}"
        )


def format_bytes(nbytes: float) -> str:
    """``1.7 GiB`` style text.

    Examples
    --------
    >>> format_bytes(1.66 * 2**30)
    '1.7 GiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"  # pragma: no cover


def _parse_bytes(text: str) -> int:
    match = re.fullmatch(r"\s*([0-9.]+)\s*([kmgt]?i?b?)?\s*", text.lower())
    if not match:
        raise ValueError(
            f"SYMSINDY_MEMORY_LIMIT must be a number of bytes such as 8GB, got {text!r}"
        )
    unit = (match.group(2) or "").rstrip("b").rstrip("i")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[unit]
    return int(float(match.group(1)) * scale)


def memory_limit() -> int:
    """The memory (bytes) any single object may take (see module docstring).

    Examples
    --------
    >>> with memory_limit_override(2**30):
    ...     memory_limit()
    1073741824
    """
    if _override:
        return _override[-1]
    env = os.environ.get("SYMSINDY_MEMORY_LIMIT")
    if env:
        return _parse_bytes(env)
    return int(_available_memory() // 2)


def _available_memory() -> int:
    """Memory the system can give now (MemAvailable), else physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 2**30


def work_limit() -> float:
    """Floating-point operations one computation may take before it is refused.

    ``SYMSINDY_MAX_FLOPS`` overrides the default :data:`MAX_FLOPS`.
    """
    env = os.environ.get("SYMSINDY_MAX_FLOPS")
    return float(env) if env else MAX_FLOPS


@contextmanager
def memory_limit_override(nbytes: int):
    """Temporarily set the memory limit (bytes)."""
    _override.append(int(nbytes))
    try:
        yield
    finally:
        _override.pop()


# ------------------------------------------------------------------ estimates
def library_matrix_estimate(n_samples: int, n_features: int) -> SizeEstimate:
    """The dense library matrix ``Theta`` (float64)."""
    return SizeEstimate(
        "library matrix",
        (int(n_samples), int(n_features)),
        int(n_samples) * int(n_features),
        8 * int(n_samples) * int(n_features),
    )


def _monomials_with(basis: Monomials) -> int:
    """How many monomials of ``basis`` contain a given variable."""
    if basis.n_vars == 1:
        return sum(1 for k in range(basis.min_degree, basis.max_degree + 1) if k > 0)
    without = n_monomials(basis.n_vars - 1, basis.max_degree, basis.min_degree)
    return len(basis) - without


def lie_derivative_estimate(
    basis: Monomials, algebra, n_targets: int, vector_output: bool = True
) -> SizeEstimate:
    """Upper bound on the stacked Lie-derivative operator of ``algebra``.

    Each non-zero ``(j, m)`` of a generator's coefficients adds one entry per
    library monomial containing ``x_j`` to the derivative block of every target,
    and (vector output) ``f`` entries per variable of the monomial ``m`` to the
    Jacobian term. The bound is exact for matrix units (gl(n)).
    """
    from .lie_derivative import output_basis

    out = output_basis(basis, algebra)
    f, t = len(basis), int(n_targets)
    count = _monomials_with(basis)
    nonzero = algebra.coefficients != 0  # (q, n, m)
    nnz = int(nonzero.sum()) * t * count
    if vector_output:
        vars_per_monomial = (algebra.basis.exponents > 0).sum(axis=1)
        nnz += int((nonzero.sum(axis=(0, 1)) * vars_per_monomial).sum()) * f
    rows = algebra.dim * t * len(out)
    return SizeEstimate(
        f"Lie-derivative operator ({algebra.dim} generators, {basis.n_vars} states, "
        f"degree {basis.max_degree})",
        (rows, t * f),
        nnz,
        nnz * BYTES_PER_NONZERO + 8 * (rows + 1),
    )


# -------------------------------------------------------------------- checks
def _raise(estimate: SizeEstimate, advice: str) -> None:
    limit = memory_limit()
    if estimate.nbytes > limit:
        raise SizeLimitError(
            f"{estimate} - above the memory limit of {format_bytes(limit)}. "
            f"{advice} (or raise the limit with the environment variable "
            "SYMSINDY_MEMORY_LIMIT, e.g. SYMSINDY_MEMORY_LIMIT=64GB)."
        )


def check_library_matrix(n_samples: int, basis: Monomials) -> SizeEstimate:
    """Refuse a library matrix larger than the limit, saying what fits.

    Examples
    --------
    >>> with memory_limit_override(2**30):
    ...     check_library_matrix(12_000, Monomials(6, 12))
    Traceback (most recent call last):
    ...
    symsindy.size_guard.SizeLimitError: library matrix: 12,000 x 18,564, ...
    """
    est = library_matrix_estimate(n_samples, len(basis))
    if est.nbytes > memory_limit():
        fits = _largest_fitting_degree(
            basis, lambda b: library_matrix_estimate(n_samples, len(b))
        )
        rows = memory_limit() // (8 * len(basis))
        _raise(
            est,
            f"Lower the degree{fits}, use fewer states, or stream the data in chunks "
            f"(symsindy.sufficient_statistics; at most {rows:,} rows fit at once)",
        )
    return est


def check_lie_derivative(space, algebra) -> SizeEstimate:
    """Refuse a Lie-derivative operator larger than the limit, saying what fits."""
    est = lie_derivative_estimate(
        space.basis, algebra, space.n_targets, space.output.is_vector
    )
    if est.nbytes > memory_limit():
        fits = _largest_fitting_degree(
            space.basis,
            lambda b: lie_derivative_estimate(
                b, algebra, space.n_targets, space.output.is_vector
            ),
        )
        _raise(
            est,
            f"Lower the library degree{fits} or use fewer candidate generators "
            f"(a subalgebra of the {algebra.dim} given)",
        )
    return est


def check_dense_blocks(sizes: np.ndarray, what: str = "symmetric basis") -> float:
    """Refuse a dense block larger than the limit; return the total work (flops).

    ``sizes`` holds ``(rows, columns)`` per block; a QR of an ``r x c`` block
    costs about ``2 r c^2`` flops.
    """
    sizes = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
    if len(sizes) == 0:
        return 0.0
    cells = sizes[:, 0] * sizes[:, 1]
    big = int(np.argmax(cells))
    est = SizeEstimate(
        f"largest dense block of the {what}",
        (int(sizes[big, 0]), int(sizes[big, 1])),
        int(cells[big]),
        8 * int(cells[big]),
    )
    advice = "Lower the library degree or use a smaller symmetry group"
    _raise(est, advice)
    work = float(2 * (sizes[:, 0] * sizes[:, 1].astype(float) ** 2).sum())
    if work > work_limit():
        raise SizeLimitError(
            f"the {what} needs about {work:.1e} floating-point operations in "
            f"{len(sizes):,} dense blocks (largest {sizes[big, 0]:,} x "
            f"{sizes[big, 1]:,}), above the limit of {work_limit():.0e} (tens of "
            f"minutes or more). {advice} (or raise the limit with the environment "
            "variable SYMSINDY_MAX_FLOPS)."
        )
    return work


def _largest_fitting_degree(basis: Monomials, estimate) -> str:
    limit = memory_limit()
    for d in range(basis.max_degree - 1, max(basis.min_degree, 1) - 1, -1):
        smaller = Monomials(basis.n_vars, d, min(basis.min_degree, d))
        if estimate(smaller).nbytes <= limit:
            return f" (degree {d} fits: {format_bytes(estimate(smaller).nbytes)})"
    return ""


def progress(iterable, work: float, desc: str, total: int | None = None):
    """``iterable`` with a tqdm bar when ``work`` (flops) takes more than seconds."""
    if work < PROGRESS_FLOPS:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False)
