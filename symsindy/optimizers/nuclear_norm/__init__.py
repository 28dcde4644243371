"""Nuclear-norm solvers of the promotion problem.

* :mod:`.problem`: the problem in sufficient statistics and its w-step solves;
* :mod:`.admm`: penalised ADMM;
* :mod:`.interpolation`: the interpolation (noise-free recovery) solver;
* :mod:`.reference`: the cvxpy formulation the fast solvers are tested against;
* :mod:`.prox`: singular-value and soft thresholding.
"""

from .admm import penalized_admm
from .interpolation import InterpolationConstraint, interpolation_admm
from .problem import PromotionProblem
from .prox import SolverResult, soft_threshold, svt
from .reference import cvxpy_solve

__all__ = [
    "InterpolationConstraint",
    "PromotionProblem",
    "SolverResult",
    "cvxpy_solve",
    "interpolation_admm",
    "penalized_admm",
    "soft_threshold",
    "svt",
]
