"""Discover the symmetry group of a polynomial model.

For a fixed model ``F`` the Lie derivative is linear in the generator, so the
symmetries inside a candidate algebra with basis ``xi_1..xi_q`` are the
nullspace of the matrix ``L_F = [vec(L_xi_1 F) ... vec(L_xi_q F)]``.

Rank decision
-------------
The candidate basis is orthonormalised (Frobenius inner product on generator
coefficients). Functions are measured either by their coefficients or, by
default when sample points are known, by the L2 norm over the data,
``||g||^2 = mean_s |g(x_s)|^2``. A direction is a symmetry when

    sigma / ||F|| <= tol

with ``||F||`` measured in the same function norm. For linear candidates and the
data inner product this ratio is unchanged by rescaling the time unit
(``F -> cF``) or the data (``x -> s x``), so the answer is too. ``tol``
defaults to ``DEFAULT_TOL``; a model within ``tol`` relative error of a
symmetric one is called symmetric.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from itertools import permutations, product

import numpy as np
import pysindy as ps
from joblib import Parallel, delayed
from scipy.linalg import qr
from sklearn.base import clone
from tqdm.auto import tqdm

from .algebra import LieAlgebra
from .finite_groups import (
    FiniteMatrixGroup,
    generating_set,
    generators_modulo_identity_component,
)
from .group import DiscoveryReport, SymmetryGroup
from .inner_product import apply_weight, function_weight, resolve_inner_product
from .lie_derivative import lie_derivative_stack, resolve_basis
from .optimizers.base import check_finite
from .polynomials import Monomials, substitution_matrix
from .trajectories import as_trajectory_list, fit_sindy, stack_trajectories

__all__ = ["discover_symmetries", "DEFAULT_TOL", "candidate_discrete_elements"]

#: Default threshold on relative singular values (see module docstring).
DEFAULT_TOL = 2e-2

#: Signed permutations are searched exhaustively up to this many candidates.
MAX_SIGNED_PERMUTATIONS = 50_000


# ------------------------------------------------------------------ inputs
def _model_parts(model, library, output):
    """Return (coef, basis, samples or None, coordinate names, sindy model or None)."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, ps.SINDy):
        if not hasattr(model.optimizer, "coef_"):
            raise ValueError("model is not fitted; call model.fit(x, t) first")
        if getattr(model, "n_control_features_", 0):
            raise ValueError(
                "models with control inputs are not supported: the symmetry must act "
                "on every library variable"
            )
        coef = np.asarray(model.optimizer.coef_, dtype=float)
        basis = resolve_basis(model.feature_library)
        theta = getattr(model.optimizer, "Theta_", None)
        samples = _states_from_theta(theta, basis)
        names = model.feature_names
        return coef, basis, samples, names, model
    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps]
        if len(steps) != 2 or not hasattr(steps[-1], "coef_"):
            raise ValueError(
                "a Pipeline must be exactly [polynomial library, fitted optimizer]; "
                "preprocessing steps change coordinates and are not supported here"
            )
        coef = np.atleast_2d(np.asarray(steps[-1].coef_, dtype=float))
        basis = resolve_basis(steps[0])
        theta = getattr(steps[-1], "Theta_", None)
        return coef, basis, _states_from_theta(theta, basis), None, None
    if hasattr(model, "coef_") and hasattr(model, "library_"):
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
        return coef, resolve_basis(model.library_), None, None, None
    coef = np.asarray(model, dtype=float) if not isinstance(model, str) else None
    if coef is None or coef.ndim not in (1, 2):
        raise TypeError(
            "model must be a fitted pysindy.SINDy, a Pipeline [library, optimizer], "
            "or a coefficient matrix (n_targets, n_features) with library=..."
        )
    coef = np.atleast_2d(coef)
    if library is None:
        raise ValueError("pass library=... with a raw coefficient matrix")
    n_vars = coef.shape[0] if output == "vector" else None
    return coef, resolve_basis(library, n_vars), None, None, None


def _states_from_theta(theta, basis: Monomials):
    """Recover the sample states from the library matrix (degree-1 columns)."""
    if theta is None or basis.min_degree > 1:
        return None
    return basis.states(theta)


def _check_samples(x, n):
    if x is None:
        return None
    x = check_finite("x (the sample points)", x)
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] == 0:
        raise ValueError(f"x must have shape (n_samples, {n}), got {x.shape}")
    return x


# ------------------------------------------------------------- continuous
def _spectrum(coef, basis, algebra, output, samples, inner_product):
    op = lie_derivative_stack(basis, algebra, output, coef.shape[0])
    lf = op(coef).reshape(algebra.dim, coef.shape[0], -1)
    R = function_weight(op.out_basis, samples, inner_product)
    lf = apply_weight(lf, R).reshape(algebra.dim, -1).T
    R_in = function_weight(basis, samples, inner_product)
    norm = np.linalg.norm(apply_weight(coef, R_in))
    # QR first: the SVD of the small triangular factor gives every right
    # singular vector without forming the large left factor.
    r = np.linalg.qr(lf, mode="r")
    r = np.vstack([r, np.zeros((algebra.dim - r.shape[0], algebra.dim))])
    _, s, vt = np.linalg.svd(r)
    return s, vt, norm


def _relative(s, norm):
    if norm == 0:
        warnings.warn("the model is zero: every candidate is a symmetry", stacklevel=3)
        return np.zeros_like(s)
    return s / norm


# ------------------------------------------------------------------ snapping
def _round_simple(values: np.ndarray, max_denominator: int, rel: float) -> np.ndarray:
    """Round entries to nearby fractions with small denominators where close."""
    out = values.copy()
    scale = np.abs(values).max()
    for idx, v in np.ndenumerate(values):
        frac = float(Fraction(float(v)).limit_denominator(max_denominator))
        if abs(frac - v) <= rel * scale:
            out[idx] = frac
    return out


def _snap(algebra: LieAlgebra, relative_norm) -> LieAlgebra | None:
    """An exact version of a numerically discovered algebra, if one is close.

    The basis is rewritten with the identity at its largest entries (column
    pivoted QR), every entry is rounded to a fraction with denominator <= 6
    when within 5% of one, and the result is accepted only if it has the same
    dimension, is closed under the bracket and still passes the rank test
    (``relative_norm`` of every snapped generator within tol).
    """
    if algebra.dim == 0:
        return None
    flat = algebra.coefficients.reshape(algebra.dim, -1)
    _, _, piv = qr(flat, pivoting=True, mode="economic")
    pivots = piv[: algebra.dim]
    rows = np.linalg.solve(flat[:, pivots], flat)
    snapped = _round_simple(rows, 6, 0.05)
    if np.linalg.matrix_rank(snapped, tol=1e-8) != algebra.dim:
        return None
    candidate = LieAlgebra(snapped.reshape(algebra.coefficients.shape), algebra.degree)
    if not candidate.is_closed(1e-10):
        return None
    ortho = candidate.orthonormalized()
    if not relative_norm(ortho):
        return None
    u, s, vt = np.linalg.svd(
        ortho.coefficients.reshape(ortho.dim, -1), full_matrices=False
    )
    return LieAlgebra(vt.reshape(ortho.coefficients.shape), ortho.degree)


# --------------------------------------------------------------- discrete
def candidate_discrete_elements(n: int, limit: int = MAX_SIGNED_PERMUTATIONS) -> list:
    """Default discrete candidates.

    All signed permutation matrices while there are at most ``limit`` of them
    (``n <= 6``); beyond that the coordinate sign flips, the cyclic shifts and
    the transpositions.
    """
    from math import factorial

    if factorial(n) * 2**n <= limit:
        out = []
        for perm in permutations(range(n)):
            for signs in product((1.0, -1.0), repeat=n):
                R = np.zeros((n, n))
                R[np.arange(n), perm] = signs
                out.append(R)
        return out
    out = []
    for signs in product((1.0, -1.0), repeat=n) if n <= 12 else []:
        out.append(np.diag(signs))
    eye = np.eye(n)
    for k in range(1, n):
        out.append(np.roll(eye, k, axis=0))
    for i in range(n):
        for j in range(i + 1, n):
            P = eye.copy()
            P[[i, j]] = P[[j, i]]
            out.append(P)
    return out


def _discrete_residuals(coef, basis, candidates, output, samples, inner_product):
    """Relative residual ``||F(R x) - S F(x)|| / ||F||`` of every candidate."""
    if output not in ("vector", "invariant"):
        raise ValueError("discrete search supports output 'vector' or 'invariant'")
    R_in = function_weight(basis, samples, inner_product)
    norm = np.linalg.norm(apply_weight(coef, R_in))
    signed = _signed_permutations(candidates)
    if signed is not None:
        values = _signed_permutation_residuals(coef, basis, *signed, output, R_in)
    else:
        values = []
        for R in candidates:
            S = R if output == "vector" else np.eye(coef.shape[0])
            residual = coef @ substitution_matrix(basis, R) - S @ coef
            values.append(np.linalg.norm(apply_weight(residual, R_in)))
    rel = np.asarray(values) / norm if norm > 0 else np.zeros(len(values))
    return list(zip(candidates, rel.tolist(), strict=True))


def _signed_permutations(candidates):
    """``(perms, signs)`` arrays if every candidate is a signed permutation."""
    if not candidates:
        return None
    mats = np.asarray(candidates, dtype=float)
    nonzero = mats != 0
    if not ((nonzero.sum(axis=2) == 1).all() and (nonzero.sum(axis=1) == 1).all()):
        return None
    perms = np.argmax(nonzero, axis=2)
    signs = np.take_along_axis(mats, perms[:, :, None], axis=2)[:, :, 0]
    return (perms, signs) if np.all(np.abs(signs) == 1) else None


def _signed_permutation_residuals(coef, basis, perms, signs, output, R_in, batch=2000):
    """Vectorised residual norms for signed permutations ``(R x)_j = s_j x_p(j)``.

    ``P_R`` is then a signed permutation of the monomials, so ``C P_R`` is a
    signed column shuffle of ``C``: thousands of candidates cost a few array
    operations instead of one sparse product each.
    """
    exps = basis.exponents
    t = coef.shape[0]
    out = []
    for start in range(0, len(perms), batch):
        perm, sign = perms[start : start + batch], signs[start : start + batch]
        k = len(perm)
        moved = np.zeros((k,) + exps.shape, dtype=np.int64)
        np.put_along_axis(
            moved, np.broadcast_to(perm[:, None, :], moved.shape), exps[None], axis=2
        )
        cols = basis.index(moved.reshape(-1, exps.shape[1])).reshape(k, -1)
        vals = np.prod(sign[:, None, :] ** exps[None], axis=2)
        shuffled = np.zeros((k, t, exps.shape[0]))
        np.put_along_axis(
            shuffled,
            np.broadcast_to(cols[:, None, :], shuffled.shape),
            coef[None] * vals[:, None, :],
            axis=2,
        )
        if output == "vector":
            acted = sign[:, :, None] * coef[perm]  # rows of R C
        else:
            acted = coef[None]
        residual = apply_weight(shuffled - acted, R_in)
        out.extend(np.linalg.norm(residual.reshape(k, -1), axis=1).tolist())
    return out


# ------------------------------------------------------------------ main
def discover_symmetries(
    model,
    candidates: LieAlgebra | None = None,
    *,
    library=None,
    discrete="auto",
    tol: float | None = None,
    discrete_tol: float | None = None,
    inner_product: str = "auto",
    output="vector",
    x=None,
    t=None,
    snap: bool = True,
    n_bootstrap: int = 0,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    degree: int = 3,
    threshold: float = 0.05,
    progress: bool = False,
) -> SymmetryGroup:
    """The symmetry group of a fitted model inside a candidate group.

    Parameters
    ----------
    model : pysindy.SINDy, Pipeline, array, or trajectories
        A fitted ``ps.SINDy`` with a polynomial library; a fitted
        ``Pipeline([library, optimizer])``; a coefficient matrix
        ``(n_targets, n_features)`` together with ``library``; or, when ``t`` is
        given, trajectory data (array or list of arrays) from which a SINDy model
        is first fitted (``degree``, ``threshold``).
    candidates : LieAlgebra, optional
        Candidate generators; default ``gl(n)``. Affine and polynomial algebras
        work too.
    library : Monomials or pysindy.PolynomialLibrary, optional
        Needed with a raw coefficient matrix.
    discrete : "auto", None, or sequence of (n, n) arrays
        Discrete candidates: ``"auto"`` uses :func:`candidate_discrete_elements`;
        ``None`` skips the search.
    tol : float, optional
        Threshold on relative singular values (default ``DEFAULT_TOL``).
    discrete_tol : float, optional
        Threshold on relative discrete residuals (default ``tol``).
    inner_product : {"auto", "data", "coefficients"}
        How functions are measured. ``"auto"`` uses the data when sample points
        are known (from the fitted model or ``x``), else coefficients.
    output : "vector" or "invariant"
        Whether the model is a vector field or invariant scalar function(s).
    x : array (n_samples, n), optional
        Sample points for the data inner product (or training trajectories when
        ``t`` is given, or with ``n_bootstrap``).
    t : float or array, optional
        Time step or times of trajectory data (data mode and bootstrap).
    snap : bool, default True
        Replace the numerically discovered generators by nearby exact ones
        (entries that are simple fractions in a pivoted basis, e.g. an exact
        rotation), when those still pass the rank test and close under the
        bracket. Enforcing a slightly-off generator would exclude almost every
        model, so snapping is what makes discover -> enforce work on noisy fits.
    n_bootstrap : int, default 0
        Refit the model on this many bootstrap resamples of the training data
        (requires a ``ps.SINDy`` model with ``x`` and ``t``, or data mode) and
        record each replicate's spectrum in ``report``.
    n_jobs : int, optional
        Bootstrap refits run in parallel through joblib (any joblib backend,
        e.g. Dask's ``parallel_backend("dask")``).
    random_state : int, optional
        Seed for the bootstrap.
    degree, threshold : used in data mode only.
    progress : bool, default False
        Show a tqdm progress bar for the bootstrap.

    Returns
    -------
    SymmetryGroup
        With an orthonormal algebra basis; as ``discrete``, a generating set of
        the discrete symmetries found, modulo those already implied by the
        continuous part; and a :class:`DiscoveryReport` in ``.report`` (whose
        ``discrete_order`` counts every discrete symmetry found).

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import Monomials
    >>> C = np.array([[-0.1, -1.0], [1.0, -0.1]])     # damped oscillator
    >>> G = discover_symmetries(C, library=Monomials(2, 1, 1), discrete=None)
    >>> G.dim
    2
    """
    trajectories = x
    if t is not None and not isinstance(model, ps.SINDy):
        trajectories = model
        model = fit_sindy(model, t, ps.STLSQ(threshold=threshold), degree)
    coef, basis, samples, names, sindy = _model_parts(model, library, output)
    if trajectories is not None:
        samples = np.vstack(as_trajectory_list(trajectories))
    if not np.all(np.isfinite(coef)):
        raise ValueError("model coefficients contain NaN or inf")
    n = basis.n_vars
    if output == "vector" and coef.shape[0] != n:
        raise ValueError(
            f"a vector-field model needs {n} targets, got {coef.shape[0]}; use "
            "output='invariant' for scalar functions"
        )
    samples = _check_samples(samples, n)
    inner_product = resolve_inner_product(inner_product, samples)
    tol = DEFAULT_TOL if tol is None else float(tol)
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    discrete_tol = tol if discrete_tol is None else float(discrete_tol)
    candidates = LieAlgebra.gl(n) if candidates is None else candidates
    if not isinstance(candidates, LieAlgebra):
        raise TypeError(
            f"candidates must be a LieAlgebra, got {type(candidates).__name__}"
        )
    if candidates.n != n:
        raise ValueError(
            f"candidate algebra acts on R^{candidates.n} but the model has {n} states"
        )
    ortho = candidates.orthonormalized()
    context = (coef, basis, output, samples, inner_product)
    s, rel, algebra, snapped = _continuous_symmetries(context, ortho, tol, snap)
    consts, closure = algebra.structure_constants()
    discrete_found, residuals, discrete_order = [], [], 1
    if discrete is not None:
        cands = candidate_discrete_elements(n) if _is_auto(discrete) else list(discrete)
        cands = [_check_discrete(R, n) for R in cands]
        residuals = _discrete_residuals(
            coef, basis, cands, output, samples, inner_product
        )
        holding = [R for R, r in residuals if r <= discrete_tol]
        discrete_found = generators_modulo_identity_component(holding, algebra, n)
        discrete_order = FiniteMatrixGroup(generating_set(holding, n), n).order

    boot = None
    if n_bootstrap:
        boot = _bootstrap(
            sindy,
            trajectories,
            t,
            n_bootstrap,
            random_state,
            ortho,
            output,
            samples,
            inner_product,
            progress,
            n_jobs,
        )
    if closure > 1e-6 and algebra.dim > 1:
        warnings.warn(
            f"discovered generators are not closed under the bracket (residual "
            f"{closure:.1e}); tol may be too loose",
            stacklevel=2,
        )
    report = DiscoveryReport(
        singular_values=s,
        relative_singular_values=rel,
        tol=tol,
        inner_product=inner_product,
        candidates=ortho,
        closure_residual=closure,
        structure_constants=consts,
        discrete_tol=discrete_tol,
        discrete_residuals=residuals,
        discrete_order=discrete_order,
        bootstrap_relative_singular_values=boot,
        snapped=snapped,
    )
    return SymmetryGroup(
        algebra, discrete_found, n=n, coordinate_names=names, report=report
    )


def _continuous_symmetries(context, ortho: LieAlgebra, tol: float, snap: bool):
    """Spectrum, relative spectrum, discovered algebra and whether it was snapped."""
    coef, basis, output, samples, inner_product = context
    s, vt, norm = _spectrum(coef, basis, ortho, output, samples, inner_product)
    rel = _relative(s, norm)
    coefficients = np.einsum("kq,qim->kim", vt[rel <= tol], ortho.coefficients)
    algebra = LieAlgebra(coefficients, ortho.degree)
    if not snap:
        return s, rel, algebra, False

    def passes(alg):
        s_alg, _, norm_alg = _spectrum(coef, basis, alg, output, samples, inner_product)
        return bool(np.all(_relative(s_alg, norm_alg) <= tol))

    exact = _snap(algebra, passes)
    return s, rel, (algebra if exact is None else exact), exact is not None


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def _check_discrete(R, n):
    R = np.asarray(R, dtype=float)
    if R.shape != (n, n):
        raise ValueError(
            f"discrete candidates must be ({n}, {n}) matrices, got {R.shape}"
        )
    return R


def _bootstrap(
    sindy,
    x,
    t,
    n_boot,
    seed,
    ortho,
    output,
    samples,
    inner_product,
    progress,
    n_jobs=None,
):
    """Spectra of models refitted on resampled (library row, derivative) pairs."""
    if sindy is None or x is None or t is None:
        raise ValueError(
            "n_bootstrap needs a ps.SINDy model together with its training data "
            "x=... and t=... (or call with trajectory data and t)"
        )
    states, xdot, _ = stack_trajectories(x, t, sindy.differentiation_method)
    theta = np.asarray(sindy.feature_library.transform(states))
    keep = np.all(np.isfinite(xdot), axis=1) & np.all(np.isfinite(theta), axis=1)
    theta, xdot = theta[keep], xdot[keep]
    basis = resolve_basis(sindy.feature_library)
    rng = np.random.default_rng(seed)
    resamples = [rng.integers(0, theta.shape[0], theta.shape[0]) for _ in range(n_boot)]
    if progress:
        resamples = tqdm(resamples, desc="bootstrap")
    job = delayed(_bootstrap_replicate)
    spectra = Parallel(n_jobs=n_jobs)(
        job(
            sindy.optimizer,
            theta[idx],
            xdot[idx],
            basis,
            ortho,
            output,
            samples,
            inner_product,
        )
        for idx in resamples
    )
    return np.array(spectra)


def _bootstrap_replicate(
    template, theta, xdot, basis, ortho, output, samples, inner_product
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        opt = clone(template).fit(theta, xdot)
    s, _, norm = _spectrum(
        np.asarray(opt.coef_), basis, ortho, output, samples, inner_product
    )
    return _relative(s, norm)
