"""symsindy: Lie-group symmetry for SINDy.

Enforce a known symmetry group, discover the symmetry group of a fitted model,
and promote symmetry with a convex penalty, all through exact Lie-derivative
operators on polynomial libraries.
"""

from . import datasets, plotting
from .algebra import LieAlgebra
from .discover import discover_symmetries
from .discover.report import DiscoveryReport
from .equivariance import EquivariantBasis, equivariant_basis, symmetry_constraints
from .group import SymmetryGroup
from .library import LiePolynomialLibrary
from .lie_derivative import (
    CoefficientOperator,
    discrete_constraint,
    lie_derivative,
    lie_derivative_matrix,
    lie_derivative_stack,
    output_basis,
    resolve_basis,
)
from .optimizers import EquivariantSR3, EquivariantSTLSQ, constrained_sr3
from .polynomials import Monomials, monomial_exponents, substitution_matrix
from .promote import PromotionPath, SymmetryPromotingSR3, promotion_path
from .regressor import (
    SymmetricPipeline,
    SymmetricSINDyRegressor,
    make_symmetric_pipeline,
)
from .trajectories import fit_sindy, stack_trajectories, trajectory_cv


def _read_version() -> str:
    """The version in ``pyproject.toml`` (the single source), via package metadata.

    A source checkout that is not installed has no metadata: the version is
    then read from the ``pyproject.toml`` next to the package, and is
    ``"0+unknown"`` if that is missing too.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("symsindy")
    except PackageNotFoundError:
        pass
    try:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        with pyproject.open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "0+unknown"


__version__ = _read_version()

__all__ = [
    "CoefficientOperator",
    "DiscoveryReport",
    "EquivariantBasis",
    "EquivariantSR3",
    "EquivariantSTLSQ",
    "PromotionPath",
    "SymmetricPipeline",
    "SymmetricSINDyRegressor",
    "make_symmetric_pipeline",
    "fit_sindy",
    "stack_trajectories",
    "trajectory_cv",
    "SymmetryPromotingSR3",
    "promotion_path",
    "constrained_sr3",
    "equivariant_basis",
    "symmetry_constraints",
    "SymmetryGroup",
    "datasets",
    "plotting",
    "discover_symmetries",
    "LieAlgebra",
    "LiePolynomialLibrary",
    "Monomials",
    "discrete_constraint",
    "lie_derivative",
    "lie_derivative_matrix",
    "lie_derivative_stack",
    "monomial_exponents",
    "output_basis",
    "resolve_basis",
    "substitution_matrix",
]
