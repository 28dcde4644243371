"""Named numerical tolerances, in one place.

Every comparison with a small number in symsindy uses one of these constants, so
that a reader can see (and a user can look up) what "zero" means where. All are
relative to a natural scale stated beside each.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EPS",
    "CLOSURE_TOL",
    "RANK_RCOND",
    "PIVOT_TOL",
    "ROUND_TO_ZERO",
    "GROUP_KEY_DECIMALS",
    "MAX_CONDITION",
    "EXACT_MODEL_TOL",
    "SUPPORT_TOL",
    "LIBRARY_MATCH_RTOL",
    "UNIFORM_STEP_RTOL",
    "STORED_SYMMETRY_TOL",
    "PROMOTED_SYMMETRY_TOL",
]

#: Machine epsilon of float64.
EPS = float(np.finfo(float).eps)

#: Brackets of a Lie subalgebra lie in its span up to this relative residual.
CLOSURE_TOL = 1e-8

#: Singular values below ``RANK_RCOND * s_max`` count as zero in null spaces.
RANK_RCOND = 1e-10

#: Echelon pivots: a row is independent when its residual exceeds this times the
#: largest entry.
PIVOT_TOL = 1e-8

#: Entries of an interpretable basis below this (absolute, in a basis whose
#: pivots are 1) are rounding noise and set to zero.
ROUND_TO_ZERO = 1e-12

#: Finite-group elements are compared after rounding to this many decimals.
GROUP_KEY_DECIMALS = 8

#: A matrix is treated as singular above this 2-norm condition number
#: (invertibility is a condition-number question, not a determinant one:
#: ``det(0.1 I_15) = 1e-15`` for a perfectly conditioned matrix).
MAX_CONDITION = 1e12

#: Without data a model is taken as exact: a direction is a symmetry when its
#: relative Lie derivative is below this multiple of machine precision times the
#: number of coefficients involved (see ``symsindy.discover``).
EXACT_MODEL_TOL = 1e3 * EPS

#: Coefficients smaller than this (absolute) are outside a model's support.
SUPPORT_TOL = 1e-14

#: A library matrix matches a polynomial library within this relative error.
LIBRARY_MATCH_RTOL = 1e-8

#: Time stamps count as uniformly spaced when every step is within this relative
#: distance of the mean step (float time grids such as ``arange(0, 6, 0.01)``
#: vary at ~1e-13).
UNIFORM_STEP_RTOL = 1e-6

#: A saved model's coefficients satisfy its saved symmetry when the relative
#: constraint residual is below this (fits are symmetric to ~1e-12 and JSON
#: round-trips floats exactly, so anything larger means the file was edited).
STORED_SYMMETRY_TOL = 1e-8

#: A promoted model's symmetry: relative singular values (normalised units) below
#: this are exact zeros of the reweighted nuclear norm, not small breakings.
PROMOTED_SYMMETRY_TOL = 1e-3
