"""Symmetric sparse-regression optimizers (pysindy BaseOptimizers)."""

from .base import SymmetricOptimizer, infer_basis
from .constrained import constrained_sr3
from .sr3 import EquivariantSR3
from .stlsq import EquivariantSTLSQ

__all__ = [
    "EquivariantSR3",
    "EquivariantSTLSQ",
    "SymmetricOptimizer",
    "constrained_sr3",
    "infer_basis",
]
