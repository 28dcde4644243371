"""Size estimates are upper bounds, and oversize requests fail early and clearly."""

import time

import numpy as np
import pysindy as ps
import pytest

from symsindy import LieAlgebra, LiePolynomialLibrary, Monomials, equivariant_basis
from symsindy.size_guard import (
    SizeLimitError,
    check_dense_blocks,
    check_library_matrix,
    lie_derivative_estimate,
    memory_limit,
    memory_limit_override,
    progress,
)
from symsindy.spaces import ModelSpace


@pytest.mark.parametrize(
    "algebra, basis, output",
    [
        (LieAlgebra.gl(4), Monomials(4, 3), "vector"),
        (LieAlgebra.so(5), Monomials(5, 3), "vector"),
        (LieAlgebra.affine(3), Monomials(3, 2), "vector"),
        (LieAlgebra.polynomial(2, 2), Monomials(2, 3), "vector"),
        (LieAlgebra.gl(3), Monomials(3, 3, 1), "invariant"),
    ],
)
def test_operator_estimate_bounds_the_built_operator(algebra, basis, output):
    space = ModelSpace.of(basis, algebra.n, output)
    op = space.lie_derivative(algebra).matrix
    est = lie_derivative_estimate(basis, algebra, space.n_targets, output == "vector")
    assert est.shape == op.shape
    assert op.nnz <= est.nnz <= 1.5 * op.nnz


def test_rotation_operator_estimate_is_exact():
    # so(n) generators have no diagonal, so nothing cancels: the count is exact.
    space = ModelSpace.of(Monomials(6, 3), 6)
    op = space.lie_derivative(LieAlgebra.so(6)).matrix
    assert lie_derivative_estimate(space.basis, LieAlgebra.so(6), 6).nnz == op.nnz


def test_degree_12_library_of_6_states_fails_before_allocating():
    # 12 000 x 18 564 floats is 1.7 GiB: refused at once under a 1 GiB limit.
    x = np.random.default_rng(0).normal(size=(12_000, 6))
    model = ps.SINDy(feature_library=LiePolynomialLibrary(degree=12))
    start = time.perf_counter()
    with memory_limit_override(2**30), pytest.raises(SizeLimitError) as info:
        model.fit(x, t=0.01)
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "12,000 x 18,564" in message and "1.7 GiB" in message
    assert "degree 10 fits" in message and "SYMSINDY_MEMORY_LIMIT" in message


def test_lie_derivative_operator_is_refused_with_the_estimate():
    space = ModelSpace.of(Monomials(10, 6), 10)
    with memory_limit_override(50 * 2**20), pytest.raises(SizeLimitError) as info:
        space.lie_derivative(LieAlgebra.gl(10))
    message = str(info.value)
    assert "Lie-derivative operator (100 generators, 10 states, degree 6)" in message
    assert "fewer candidate generators" in message and "degree" in message


def test_huge_basis_work_is_refused(monkeypatch):
    monkeypatch.setenv("SYMSINDY_MAX_FLOPS", "1e3")
    with pytest.raises(SizeLimitError, match="floating-point operations"):
        equivariant_basis(Monomials(4, 3), LieAlgebra.so(4))
    with pytest.raises(SizeLimitError, match="largest dense block"):
        with memory_limit_override(1000):
            check_dense_blocks(np.array([[100, 10], [50, 2]]))


def test_memory_limit_reads_units_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYMSINDY_MEMORY_LIMIT", "1.5GB")
    assert memory_limit() == int(1.5 * 2**30)
    monkeypatch.setenv("SYMSINDY_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="SYMSINDY_MEMORY_LIMIT"):
        memory_limit()


def test_small_requests_pass_and_big_work_gets_a_progress_bar():
    assert check_library_matrix(100, Monomials(3, 3)).nbytes == 100 * 20 * 8
    items = [1, 2]
    assert progress(items, 1e3, "x") is items
    bar = progress(items, 1e12, "x")
    assert list(bar) == items and hasattr(bar, "update")
