"""Fitting in unit-free coordinates and mapping the model back exactly.

Sparse regression thresholds coefficients, and a coefficient's size depends on
the units: ``x' = -x^3`` in metres is ``x' = -1e-6 x^3`` in millimetres, and a
time in milliseconds divides every coefficient by 1000. So a fixed threshold
means a different model in different units. The rule used by the command line:

* each state is divided by its RMS over all samples, ``z_j = x_j / s_j``
  (no centring: centring would turn linear symmetries into affine ones);
* time is divided by ``T`` chosen so that the derivatives ``dz/dtau`` have unit
  RMS over all samples and coordinates;
* the model is fitted in ``(z, tau)`` and mapped back exactly: a coefficient of
  the monomial ``z^a`` in equation ``i`` becomes ``s_i / (T s^a)`` times itself
  in ``x`` units. Generators and discrete symmetries are carried the same way
  (``A -> D^-1 A D`` for linear ones, ``D = diag(s)``).

A change of units ``x -> c x`` or ``t -> c t`` (per coordinate) changes ``s`` and
``T`` by the same factors, so the fit in ``(z, tau)`` and hence the returned
model are the same, in the user's units, for any choice of units.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .algebra import LieAlgebra
from .group import SymmetryGroup
from .lie_derivative import resolve_basis
from .linalg import diagonal_conjugate
from .polynomials import Monomials

__all__ = ["UnitScales"]


@dataclass(frozen=True)
class UnitScales:
    """State scales ``s`` (one per coordinate) and the time scale ``T``.

    Examples
    --------
    >>> t = np.linspace(0, 1, 50)
    >>> x = np.c_[1000 * np.exp(-t), np.exp(t)]
    >>> scales = UnitScales.from_data([x], [t])
    >>> z, tau = scales.scale([x], [t])
    >>> bool(np.allclose(np.sqrt(np.mean(np.vstack(z) ** 2, axis=0)), 1.0))
    True
    """

    state: np.ndarray
    time: float

    @classmethod
    def from_data(cls, trajectories, times, differentiation_method=None):
        """Scales from trajectories (list of arrays) and their times."""
        from .trajectories import stack_trajectories

        x = np.vstack(trajectories)
        s = np.sqrt(np.mean(x**2, axis=0))
        if np.any(s == 0):
            zero = np.flatnonzero(s == 0).tolist()
            raise ValueError(
                f"state(s) {zero} are zero in every sample; remove them before fitting"
            )
        z = [tr / s for tr in trajectories]
        _, zdot, _ = stack_trajectories(z, times, differentiation_method)
        rate = np.sqrt(np.mean(zdot**2))
        if not np.isfinite(rate) or rate == 0:
            raise ValueError("the states do not change in time: nothing to fit")
        return cls(s, 1.0 / rate)

    @classmethod
    def identity(cls, n: int) -> UnitScales:
        return cls(np.ones(n), 1.0)

    def scale(self, trajectories, times):
        """``(z, tau)``: the data in unit-free coordinates."""
        z = [np.asarray(tr) / self.state for tr in trajectories]
        tau = [np.asarray(ti) / self.time for ti in times]
        return z, tau

    def model_coefficients(self, coef_z: np.ndarray, basis: Monomials) -> np.ndarray:
        """Model coefficients in the original units from the unit-free fit."""
        factors = basis.scale_factors(self.state)
        return coef_z * self.state[:, None] / (self.time * factors[None, :])

    def _fields(self, coef: np.ndarray, degree: int, to_scaled: bool) -> np.ndarray:
        factors = Monomials(len(self.state), degree).scale_factors(self.state)
        ratio = factors[None, :] / self.state[:, None]
        return coef * ratio if to_scaled else coef / ratio

    def group(self, group: SymmetryGroup, to_scaled: bool) -> SymmetryGroup:
        """``group`` carried into (``to_scaled``) or out of unit-free coordinates."""
        s = self.state
        alg = group.algebra
        algebra = None
        if alg.dim:
            coef = self._fields(alg.coefficients, alg.degree, to_scaled)
            algebra = LieAlgebra(coef, alg.degree, alg.names)
        # Elementwise (diagonal_conjugate), not D^-1 R D: a diagonal entry
        # then comes back exactly (-1 stays -1, not -0.9999999999999998).
        d = 1.0 / s if to_scaled else s
        discrete = [diagonal_conjugate(R, d) for R in group.discrete]
        return SymmetryGroup(
            algebra, discrete, n=group.n, coordinate_names=group.coordinate_names
        )

    def algebra(self, algebra: LieAlgebra, to_scaled: bool) -> LieAlgebra:
        """A candidate algebra carried into or out of the unit-free coordinates."""
        coef = self._fields(algebra.coefficients, algebra.degree, to_scaled)
        return LieAlgebra(coef, algebra.degree, algebra.names)

    def model(self, model_z, trajectories=None):
        """A copy of the fitted unit-free ``ps.SINDy`` model, in the original units.

        Its coefficients, symmetry (for symmetric optimizers) and stored library
        matrix (``Theta_``, which discovery reads its sample points from) are
        all mapped back exactly.
        """
        from .equivariance import equivariant_basis

        model = copy.deepcopy(model_z)
        opt = model.optimizer
        basis = resolve_basis(model.feature_library)
        opt.coef_ = self.model_coefficients(np.asarray(opt.coef_), basis)
        if getattr(opt, "Theta_", None) is not None:
            theta = np.asarray(opt.Theta_)
            opt.Theta_ = theta * basis.scale_factors(self.state)[None, :]
        if getattr(opt, "symmetry_", None) is not None:
            opt.symmetry_ = self.group(opt.symmetry_, to_scaled=False)
            if model.feature_names:
                opt.symmetry_.coordinate_names = list(model.feature_names)
            opt.basis_ = equivariant_basis(model.feature_library, opt.symmetry_)
            opt.reduced_coef_ = opt.basis_.project(opt.coef_)
        return model
