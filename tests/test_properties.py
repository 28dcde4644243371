"""Identities that tie the finite and the infinitesimal actions together.

Property tests (hypothesis, derandomised so every run draws the same examples)
of monomial bookkeeping and of discovery. Every expectation is an independent
computation: monomials evaluated directly as ``prod x_j ** e_j``, flows as
``scipy.linalg.expm``, models evaluated pointwise.
"""

import numpy as np
import pytest
from helpers import eval_poly
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from symsindy import Monomials, discover_symmetries, substitution_matrix

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)

# ----------------------------------------------------------------- strategies
seeds = st.integers(0, 2**31 - 1)


@st.composite
def bases(draw, max_vars=4, max_degree=3):
    n = draw(st.integers(1, max_vars))
    hi = draw(st.integers(0, max_degree))
    lo = draw(st.integers(0, hi))
    return Monomials(n, hi, lo)


def _linear_map(kind: str, n: int, rng) -> np.ndarray:
    """A random map of each structure substitution_matrix distinguishes."""
    if kind == "general":
        return rng.normal(size=(n, n))
    signed = np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], size=n)[:, None]
    if kind == "signed_permutation":
        return signed
    if kind == "permutation_times_scale":  # one entry per row, not +-1
        return signed * rng.uniform(0.5, 2.0, size=n)[:, None]
    return signed + np.triu(rng.normal(size=(n, n)), 1)  # shear of a permutation


map_kinds = st.sampled_from(
    ["general", "signed_permutation", "permutation_times_scale", "sheared"]
)


def _theta(basis: Monomials, x: np.ndarray) -> np.ndarray:
    """Monomials evaluated directly, without symsindy's evaluator."""
    return np.prod(x[:, None, :] ** basis.exponents[None, :, :], axis=2)


# ------------------------------------------------------- substitution matrices
@PROPERTY
@given(basis=bases(), kind=map_kinds, seed=seeds)
def test_substitution_matrix_is_theta_of_the_mapped_point(basis, kind, seed):
    """Theta(R x) = P_R Theta(x) at random points (row l of P_R expands (Rx)^e_l)."""
    rng = np.random.default_rng(seed)
    R = _linear_map(kind, basis.n_vars, rng)
    x = rng.normal(size=(5, basis.n_vars))
    P = substitution_matrix(basis, R).toarray()
    assert P.shape == (len(basis), len(basis))
    expected = _theta(basis, x @ R.T)
    got = _theta(basis, x) @ P.T
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


@PROPERTY
@given(basis=bases(), kinds=st.tuples(map_kinds, map_kinds), seed=seeds)
def test_substitution_is_a_homomorphism(basis, kinds, seed):
    """P_{RS} = P_R P_S, since Theta(R S x) = P_R Theta(S x) = P_R P_S Theta(x)."""
    rng = np.random.default_rng(seed)
    R = _linear_map(kinds[0], basis.n_vars, rng)
    S = _linear_map(kinds[1], basis.n_vars, rng)
    P_R, P_S, P_RS = (substitution_matrix(basis, M).toarray() for M in (R, S, R @ S))
    scale = max(1.0, np.abs(P_R).max() * np.abs(P_S).max())
    np.testing.assert_allclose(P_RS, P_R @ P_S, rtol=0, atol=1e-10 * scale)
    # The opposite order is a different matrix whenever R and S do not commute.
    if not np.allclose(R @ S, S @ R) and len(basis) > 1 and basis.max_degree > 0:
        assert not np.allclose(P_S @ P_R, P_RS, atol=1e-8 * scale)


@PROPERTY
@given(basis=bases(), kind=map_kinds, seed=seeds)
def test_substitution_of_the_identity_and_of_inverses(basis, kind, seed):
    """P_I = I and P_{R^-1} = P_R^-1 (the action is a group action)."""
    rng = np.random.default_rng(seed)
    R = _linear_map(kind, basis.n_vars, rng)
    P_I = substitution_matrix(basis, np.eye(basis.n_vars)).toarray()
    np.testing.assert_array_equal(P_I, np.eye(len(basis)))
    P = substitution_matrix(basis, R).toarray()
    P_inv = substitution_matrix(basis, np.linalg.inv(R)).toarray()
    scale = max(1.0, np.abs(P).max() * np.abs(P_inv).max())
    np.testing.assert_allclose(P @ P_inv, np.eye(len(basis)), atol=1e-9 * scale)


def test_substitution_of_a_shear_by_hand():
    """(x0 + 2 x1)^2 = x0^2 + 4 x0 x1 + 4 x1^2: one analytic row."""
    basis = Monomials(2, 2)
    P = substitution_matrix(basis, np.array([[1.0, 2.0], [0.0, 1.0]])).toarray()
    row = P[basis.index([[2, 0]])[0]]
    expected = np.zeros(len(basis))
    expected[basis.index([[2, 0], [1, 1], [0, 2]])] = [1.0, 4.0, 4.0]
    np.testing.assert_array_equal(row, expected)


# --------------------------------------------------------------- index lookup
@PROPERTY
@given(basis=bases(max_vars=6, max_degree=4), seed=seeds)
def test_index_round_trips(basis, seed):
    """index(exponents) = arange, and exponents[index(e)] = e for members."""
    exps = basis.exponents
    np.testing.assert_array_equal(basis.index(exps), np.arange(len(basis)))
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(basis), size=7)
    np.testing.assert_array_equal(exps[basis.index(exps[rows])], exps[rows])
    # Every exponent row of the right degree is a member, no other is.
    query = rng.integers(-1, basis.max_degree + 2, size=(20, basis.n_vars))
    degree = query.sum(axis=1)
    member = (
        (query >= 0).all(axis=1)
        & (degree >= basis.min_degree)
        & (degree <= basis.max_degree)
    )
    idx = basis.index(query)
    assert np.all((idx >= 0) == member)
    np.testing.assert_array_equal(exps[idx[member]], query[member])


@pytest.mark.parametrize("n, degree", [(40, 2), (64, 1)])
def test_index_round_trips_beyond_integer_keys(n, degree):
    """Bases too large for integer keys use the row search: same answers."""
    basis = Monomials(n, degree)
    exps = basis.exponents
    np.testing.assert_array_equal(basis.index(exps), np.arange(len(basis)))
    rows = np.array([len(basis) - 1, 0, 3, len(basis) // 2])
    np.testing.assert_array_equal(basis.index(exps[rows]), rows)
    too_high = np.zeros((1, n), dtype=int)
    too_high[0, 0] = degree + 1
    assert basis.index(too_high)[0] == -1


# ---------------------------------------------------------------- discovery
def _model(terms: dict, n: int, degree: int):
    """Coefficients of ``x_i' = sum c x^e`` from ``{i: [(c, exponent), ...]}``."""
    basis = Monomials(n, degree)
    C = np.zeros((n, len(basis)))
    for i, items in terms.items():
        for c, e in items:
            C[i, basis.index([e])[0]] += c
    return basis, C


J = np.array([[0.0, -1.0], [1.0, 0.0]])


def _block(A: np.ndarray, n: int, at: int = 0) -> np.ndarray:
    out = np.zeros((n, n))
    out[at : at + A.shape[0], at : at + A.shape[0]] = A
    return out


#: Reference systems and a basis of their symmetry algebra inside gl(n), by hand.
REFERENCE = {
    # damped oscillator x' = -x/2 - y, y' = x - y/2: rotations and scalings
    "damped oscillator": (
        _model(
            {0: [(-0.5, [1, 0]), (-1, [0, 1])], 1: [(1, [1, 0]), (-0.5, [0, 1])]}, 2, 1
        ),
        [J, np.eye(2)],
    ),
    # Hopf normal form x' = x/2 - y - |x|^2 x, y' = x + y/2 - |x|^2 y: rotations
    "hopf": (
        _model(
            {
                0: [(0.5, [1, 0]), (-1, [0, 1]), (-1, [3, 0]), (-1, [1, 2])],
                1: [(1, [1, 0]), (0.5, [0, 1]), (-1, [2, 1]), (-1, [0, 3])],
            },
            2,
            3,
        ),
        [J],
    ),
    # growth x0' = x1^2 - x0, x1' = x1 / 2: the scaling diag(2, 1)
    "growth": (
        _model({0: [(1, [0, 2]), (-1, [1, 0])], 1: [(0.5, [0, 1])]}, 2, 2),
        [np.diag([2.0, 1.0])],
    ),
    # x' = -x + |x|^2 x in R^3: all rotations so(3)
    "radial cubic": (
        _model(
            {
                i: [(-1, np.eye(3, dtype=int)[i])]
                + [
                    (1, np.eye(3, dtype=int)[i] + 2 * np.eye(3, dtype=int)[k])
                    for k in range(3)
                ]
                for i in range(3)
            },
            3,
            3,
        ),
        [
            np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 0]]),
            np.array([[0.0, 0, -1], [0, 0, 0], [1, 0, 0]]),
            np.array([[0.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
        ],
    ),
    # a Hopf oscillator in (x0, x1) next to x2' = -x2 + x2^2: one rotation
    "hopf and logistic": (
        _model(
            {
                0: [(-1, [0, 1, 0]), (-1, [3, 0, 0]), (-1, [1, 2, 0])],
                1: [(1, [1, 0, 0]), (-1, [2, 1, 0]), (-1, [0, 3, 0])],
                2: [(-1, [0, 0, 1]), (1, [0, 0, 2])],
            },
            3,
            3,
        ),
        [_block(J, 3)],
    ),
}


@st.composite
def unimodular(draw, n):
    """Integer matrices with integer inverses (exact changes of coordinates).

    Products of a signed permutation and elementary shears ``I + s E_ij``;
    powers of two on the diagonal keep every product exact in floating point.
    """
    M = np.eye(n)[draw(st.permutations(range(n)))]
    M = M * np.array(
        draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    )
    ops = st.tuples(
        st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from([-1, 1, 2])
    )
    for i, j, s in draw(st.lists(ops, max_size=3)):
        if i != j:
            E = np.eye(n)
            E[i, j] = s
            M = E @ M
    if draw(st.booleans()):
        M = M @ np.diag(
            2.0 ** np.array(draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n)))
        )
    return M


def _conjugated_model(basis: Monomials, C: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Coefficients of G(y) = M F(M^-1 y) = M C P_{M^-1} Theta(y)."""
    return M @ C @ substitution_matrix(basis, np.linalg.inv(M)).toarray()


def _span_residual(target: np.ndarray, basis_mats: np.ndarray) -> float:
    """Relative distance of a matrix from the span of ``basis_mats``."""
    flat = basis_mats.reshape(len(basis_mats), -1).T
    coef, *_ = np.linalg.lstsq(flat, target.ravel(), rcond=None)
    return float(np.linalg.norm(flat @ coef - target.ravel()) / np.linalg.norm(target))


def _discover(basis, C):
    return discover_symmetries(C, library=basis, method="exact", discrete=None)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_discovery_finds_the_algebra_derived_by_hand(name):
    (basis, C), expected = REFERENCE[name]
    found = _discover(basis, C).algebra.matrices
    assert len(found) == len(expected)
    for A in expected:
        assert _span_residual(A, found) < 1e-10
    # returned with an orthonormal basis, one generator or several
    flat = found.reshape(len(found), -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(len(found)), atol=1e-12)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data(), name=st.sampled_from(sorted(REFERENCE)))
def test_discovery_is_invariant_under_linear_changes_of_coordinates(data, name):
    """G(y) = M F(M^-1 y) has the algebra M g M^-1 of symmetries of F."""
    (basis, C), expected = REFERENCE[name]
    M = data.draw(unimodular(basis.n_vars))
    Minv = np.linalg.inv(M)
    G = _conjugated_model(basis, C, M)
    # G really is F in the new coordinates, evaluated pointwise.
    y = np.random.default_rng(0).normal(size=(6, basis.n_vars))
    np.testing.assert_allclose(
        eval_poly(G, basis.exponents, y),
        eval_poly(C, basis.exponents, y @ Minv.T) @ M.T,
        rtol=1e-10,
        atol=1e-10,
    )
    found = _discover(basis, G).algebra.matrices
    assert len(found) == len(expected)
    for A in expected:
        assert _span_residual(M @ A @ Minv, found) < 1e-9


@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data(), name=st.sampled_from(sorted(REFERENCE)), seed=seeds)
def test_discovered_generators_commute_with_the_flow(data, name, seed):
    """F(expm(tA) x) = expm(tA) F(x) for every discovered A, at random points."""
    (basis, C), _ = REFERENCE[name]
    M = data.draw(unimodular(basis.n_vars))
    G = _conjugated_model(basis, C, M)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, basis.n_vars))
    for A in _discover(basis, G).algebra.matrices:
        A = A / np.linalg.norm(A, 2)
        for t in (0.3, -0.8):
            g = expm(t * A)
            lhs = eval_poly(G, basis.exponents, x @ g.T)
            rhs = eval_poly(G, basis.exponents, x) @ g.T
            scale = max(1.0, np.abs(rhs).max())
            np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-9 * scale)


def test_a_broken_direction_moves_the_flow():
    """The converse: a generator outside the algebra does not commute with F."""
    (basis, C), _ = REFERENCE["hopf"]
    x = np.random.default_rng(1).normal(size=(8, 2))
    g = expm(0.3 * np.diag([1.0, -1.0]))  # a squeeze, not a rotation
    lhs = eval_poly(C, basis.exponents, x @ g.T)
    rhs = eval_poly(C, basis.exponents, x) @ g.T
    assert np.abs(lhs - rhs).max() > 1e-2
