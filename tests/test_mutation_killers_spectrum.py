"""Function norms and relative values of the Lie-derivative matrix, by hand."""

import numpy as np
import pytest

from symsindy import LieAlgebra, Monomials
from symsindy.spaces import ModelSpace
from symsindy.spectrum import FunctionNorm, LieDerivativeMatrix

J = np.array([[0.0, -1.0], [1.0, 0.0]])
SQUEEZE = np.diag([1.0, -1.0])


def _linear(algebra=None, norm=None):
    space = ModelSpace.of(Monomials(2, 1, 1))
    return LieDerivativeMatrix(space, algebra or LieAlgebra.so(2), norm)


def test_a_single_sample_point_is_a_valid_norm():
    norm = FunctionNorm("samples", points=np.array([[3.0, 4.0]]))
    # |x0 + x1| at (3, 4) is 7 (one point: the mean is that point)
    assert norm.norm(np.array([[1.0, 1.0]]), Monomials(2, 1, 1)) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="n_points"):
        FunctionNorm("samples", points=np.zeros((0, 2)))


def test_resolve_names_the_norm():
    pts = np.ones((3, 2))
    assert FunctionNorm.resolve("auto", samples=pts).kind == "data"
    assert FunctionNorm.resolve("auto").kind == "coefficients"
    assert FunctionNorm.resolve("coefficients", samples=pts).kind == "coefficients"
    data = FunctionNorm.resolve("data", samples=pts)
    assert data.kind == "data" and data.points is not None
    samples = FunctionNorm.resolve("samples", sample_points=pts)
    assert samples.kind == "samples"
    given = FunctionNorm("coefficients")
    assert FunctionNorm.resolve(given) is given
    with pytest.raises(ValueError, match="needs sample points"):
        FunctionNorm.resolve("data")


def test_box_points_lie_in_the_box_and_an_empty_box_is_refused():
    norm = FunctionNorm.from_box([0.0, -1.0], [1.0, 3.0], 500, seed=1)
    assert norm.points.shape == (500, 2)
    assert np.all(norm.points >= [0.0, -1.0]) and np.all(norm.points <= [1.0, 3.0])
    with pytest.raises(ValueError, match="low < high"):
        FunctionNorm.from_box([0.0, 0.0], [1.0, 0.0], 10)


def test_fixed_model_operator_maps_generator_coordinates():
    """For C = diag(1, -1): L_J C = C J - J C = [[0, -2], [-2, 0]], L_I C = 0."""
    L = _linear(LieAlgebra.so(2) + LieAlgebra.scaling(2))
    op = L.operator(SQUEEZE)
    np.testing.assert_allclose(op.matvec(np.array([1.0, 0.0])), [0, -2, -2, 0])
    np.testing.assert_allclose(op.matvec(np.array([0.5, 3.0])), [0, -1, -1, 0])
    np.testing.assert_allclose(op.rmatvec(np.array([0.0, 1.0, 0.0, 0.0])), [-2, 0])


@pytest.mark.parametrize("scale", [1.0, 0.01, 100.0])
def test_relative_values_are_ratios_to_the_model_norm(scale):
    """||L_J C|| / ||C|| = sqrt(8) / sqrt(2) = 2 for C = diag(1, -1), any scale."""
    L = _linear()
    C = scale * SQUEEZE
    np.testing.assert_allclose(L.relative_singular_values(C), [2.0], rtol=1e-12)
    np.testing.assert_allclose(
        L.relative_lie_derivatives(C, LieAlgebra.so(2)), [2.0], rtol=1e-12
    )
    np.testing.assert_allclose(L.singular_values(C), [2.0 * np.sqrt(2) * scale])


def test_relative_values_of_the_zero_model_are_zero():
    L = _linear()
    with np.errstate(all="raise"):
        assert L.relative_singular_values(np.zeros((2, 2))).tolist() == [0.0]
        rel = L.relative_lie_derivatives(np.zeros((2, 2)), LieAlgebra.so(2))
    assert rel.tolist() == [0.0]
