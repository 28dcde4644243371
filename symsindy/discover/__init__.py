"""Discover the symmetry group of a polynomial model.

For a fixed model ``F`` the Lie derivative is linear in the generator, so the
symmetries inside a candidate algebra are the null space of the Lie-derivative
matrix ``L_F`` (:mod:`symsindy.spectrum`). The steps, one module each:

* :mod:`~symsindy.discover.inputs`: every accepted input becomes one
  :class:`~symsindy.discover.inputs.DiscoveryProblem`;
* :mod:`~symsindy.discover.continuous`: which subalgebra is a symmetry
  (a likelihood-ratio test with data, a tolerance without);
* :mod:`~symsindy.discover.discrete`: which discrete elements are, closed
  into a group;
* :mod:`~symsindy.discover.bootstrap`: stability under resampling;
* :mod:`~symsindy.discover.report`: the evidence returned with the group.
"""

from .discrete import (
    MAX_SIGNED_PERMUTATIONS,
    _discrete_residuals,  # noqa: F401 (0.1 helper kept importable)
    candidate_discrete_elements,
    candidate_family,
)
from .report import DiscoveryReport, Verdict
from .symmetries import DEFAULT_TOL, discover_symmetries

__all__ = [
    "DEFAULT_TOL",
    "MAX_SIGNED_PERMUTATIONS",
    "DiscoveryReport",
    "Verdict",
    "candidate_discrete_elements",
    "candidate_family",
    "discover_symmetries",
]
