"""Promote symmetry (compatibility module).

The promoting optimizer lives in :mod:`symsindy.optimizers.promoting` and its
solvers in :mod:`symsindy.optimizers.nuclear_norm`.
"""

from .optimizers.promoting import PromotionPath, SymmetryPromotingSR3, promotion_path

__all__ = ["SymmetryPromotingSR3", "promotion_path", "PromotionPath"]
