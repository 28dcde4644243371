"""What a discovery found and the evidence for it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..algebra import LieAlgebra
from ..inference import NoiseEstimate, SubspaceTest
from ..trajectory_test import TrajectoryTest

__all__ = [
    "DiscoveryReport",
    "Verdict",
    "VERDICTS",
    "ZERO_MODEL",
    "NOISE_ONLY",
    "power_reason",
]

#: A candidate is a symmetry, is broken, or the data cannot tell.
VERDICTS = ("symmetric", "broken", "undetermined")

#: Why the data decide no candidate at all (``DiscoveryReport.undecidable``).
ZERO_MODEL = "the model is zero"
NOISE_ONLY = "the derivatives are indistinguishable from noise"


@dataclass
class Verdict:
    """The decision on one tested candidate (a subalgebra or a discrete element).

    Attributes
    ----------
    kind : {"continuous", "discrete"}
    description : str
        Readable name of the candidate.
    verdict : {"symmetric", "broken", "undetermined"}
    test : SubspaceTest or None
        The likelihood-ratio test (``method="test"``).
    relative_lie_derivative : float
        Effect size on the model: ``||L F|| / ||F||`` for a direction (largest
        over the subalgebra's generators), ``||F(R x) - S F(x)|| / ||F||`` for an
        element, in the discovery's function norm.
    detectable_breaking : float or None
        Smallest relative breaking the data would detect (power); above
        ``DETECTABLE_BREAKING`` the verdict is "undetermined".
    dim : int
        Dimension of the subalgebra (0 for a discrete element).
    element : ndarray or None
    reason : str
        Why the verdict is "undetermined" (empty otherwise).
    trajectory : TrajectoryTest or None
        The test of an accepted subalgebra on the measured runs themselves
        (:mod:`symsindy.trajectory_test`); when it rejects, the verdict is
        "broken".
    """

    kind: str
    description: str
    verdict: str
    test: SubspaceTest | None = None
    relative_lie_derivative: float = float("nan")
    detectable_breaking: float | None = None
    dim: int = 0
    element: np.ndarray | None = field(default=None, repr=False)
    reason: str = ""
    trajectory: TrajectoryTest | None = None

    def undetermine(self, reason: str) -> None:
        """Mark the candidate undetermined, saying why."""
        self.verdict, self.reason = "undetermined", reason

    def sentence(self) -> str:
        """E.g. ``"rotation in the (x, y) plane: enforcing it raises ..."``."""
        undetermined = self.verdict == "undetermined"
        if self.test is not None:
            text = f"{self.description}: {self.test.sentence(not undetermined)}"
        else:
            text = (
                f"{self.description}: relative Lie derivative "
                f"{self.relative_lie_derivative:.2e}"
            )
        if self.trajectory is not None:
            text += f"; {self.trajectory.sentence()}"
        if undetermined:
            text += f"; undetermined ({self.reason or 'the data cannot tell'})"
        return text

    def to_dict(self) -> dict:
        out = {
            "kind": self.kind,
            "description": self.description,
            "verdict": self.verdict,
            "dim": self.dim,
            "relative_lie_derivative": _finite(self.relative_lie_derivative),
            "detectable_breaking": _finite(self.detectable_breaking),
            "reason": self.reason,
        }
        if self.test is not None:
            out.update(
                statistic=self.test.statistic,
                dof=self.test.dof,
                p_value=self.test.p_value,
                relative_increase=self.test.relative_increase,
                excess_sigma=self.test.excess_sigma,
                resolution=_finite(self.test.resolution),
            )
        if self.trajectory is not None:
            out["trajectory"] = self.trajectory.to_dict()
        if self.element is not None:
            out["element"] = np.asarray(self.element).tolist()
        return out


def power_reason(detectable_breaking: float) -> str:
    """Why a candidate the test did not reject is still undetermined."""
    return (
        f"the data detect only breakings over {detectable_breaking:.3g} times "
        "the model's size"
    )


def _finite(value):
    if value is None or not np.isfinite(value):
        return None
    return float(value)


@dataclass
class DiscoveryReport:
    """How a :class:`SymmetryGroup` was discovered (see :func:`discover_symmetries`).

    Attributes
    ----------
    singular_values : ndarray
        Singular values of the weighted Lie-derivative matrix, descending.
    relative_singular_values : ndarray
        The same divided by the model's norm.
    tol : float
        Threshold on relative singular values (``method`` "tolerance" or
        "exact"); ``nan`` for the statistical test.
    inner_product : str
        ``"data"``, ``"samples"`` or ``"coefficients"``.
    candidates : LieAlgebra
        The candidate algebra searched, with its basis orthonormalised.
    closure_residual : float
        Distance of brackets of the discovered generators from their span.
    structure_constants : ndarray
        ``c[i, j, k]`` of the discovered (orthonormal) basis.
    discrete_residuals : list of (ndarray, float)
        Every discrete candidate checked with its relative residual.
    discrete_order : int
        Order of the group of all discrete candidates that hold (including
        those inside the continuous group).
    bootstrap_relative_singular_values : ndarray or None
        ``(n_bootstrap, dim)`` spectra of models refitted on resampled data.
    snapped : bool
        Whether the generators are exact neighbours of numerical ones.
    method : {"test", "tolerance", "exact"}
    alpha : float
        Level of the tests (``method="test"``).
    noise : NoiseEstimate or None
    verdicts : list of Verdict
        Every tested candidate with its statistic, p-value, effect size and
        verdict.
    group_test : SubspaceTest or None
        The test of the whole returned group (what enforcing it costs).
    signal_p_value : float or None
        p-value of "the derivatives are noise"; when it is not small every
        candidate is undetermined.
    undecidable : str
        Why the data decide no candidate ("" when they can): "the model is
        zero" or "the derivatives are indistinguishable from noise".
    discrete_family : str
        Which discrete candidates were searched.
    bootstrap_dims : ndarray or None
        Dimension found by each bootstrap replicate.
    n_inputs : int
        Control inputs of the model (0: none).
    input_action : SymmetryGroup or None
        How the returned group acts on the control inputs (one generator per
        generator, one element per discrete generator); None: unchanged.
    group_trajectory : TrajectoryTest or None
        The measured runs' test of the returned group (when they were
        consulted and accepted it; when they reject it, every accepted
        candidate is checked and carries its own test).
    trajectory_check : str
        How the measured runs checked the accepted candidates
        (:mod:`symsindy.trajectory_test`): "checked on the runs: ...", "not
        checked on the runs: <why>", or "" when they were not consulted.
    """

    singular_values: np.ndarray
    relative_singular_values: np.ndarray
    tol: float
    inner_product: str
    candidates: LieAlgebra
    closure_residual: float
    structure_constants: np.ndarray
    discrete_tol: float = 0.0
    discrete_residuals: list = field(default_factory=list)
    discrete_order: int = 1
    bootstrap_relative_singular_values: np.ndarray | None = None
    snapped: bool = False
    method: str = "tolerance"
    alpha: float = float("nan")
    noise: NoiseEstimate | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    group_test: SubspaceTest | None = None
    signal_p_value: float | None = None
    undecidable: str = ""
    discrete_family: str = ""
    bootstrap_dims: np.ndarray | None = None
    n_inputs: int = 0
    input_action: object = None
    trajectory_check: str = ""
    group_trajectory: TrajectoryTest | None = None

    def inputs_line(self) -> str | None:
        """E.g. ``"inputs: unchanged"`` (None without control inputs)."""
        if not self.n_inputs:
            return None
        if self.input_action is None:
            return f"inputs ({self.n_inputs}): unchanged"
        act = self.input_action
        parts = []
        if act.dim:
            gens = "; ".join(np.array2string(A, precision=3) for A in act.generators)
            parts.append(f"generators {gens}")
        if act.discrete:
            elems = "; ".join(np.array2string(R, precision=3) for R in act.discrete)
            parts.append(f"elements {elems}")
        return f"inputs ({self.n_inputs}): transformed with the states by " + ", ".join(
            parts
        )

    @property
    def bootstrap_dim_frequency(self) -> dict[int, float] | None:
        """Fraction of bootstrap replicates giving each dimension."""
        if self.bootstrap_dims is None:
            if self.bootstrap_relative_singular_values is None:
                return None
            dims = (self.bootstrap_relative_singular_values <= self.tol).sum(axis=1)
        else:
            dims = self.bootstrap_dims
        values, counts = np.unique(dims, return_counts=True)
        return {
            int(v): float(c) / len(dims) for v, c in zip(values, counts, strict=True)
        }

    @property
    def undetermined(self) -> list[Verdict]:
        """Candidates the data cannot decide."""
        return [v for v in self.verdicts if v.verdict == "undetermined"]

    def summary_lines(self) -> list[str]:
        """The evidence, one line per item (used by ``SymmetryGroup.summary``)."""
        lines = [] if self.inputs_line() is None else [self.inputs_line()]
        if self.method == "test":
            lines.append(
                f"decided by likelihood-ratio tests at level alpha = {self.alpha:g}"
            )
            if self.noise is not None:
                lines.append(self.noise.describe())
            if self.undecidable == ZERO_MODEL:
                lines.append(
                    "the model is zero (it has every symmetry): every candidate "
                    "is undetermined"
                )
            elif self.signal_p_value is not None and self.signal_p_value > self.alpha:
                lines.append(
                    "the derivatives are indistinguishable from noise "
                    f"(p = {self.signal_p_value:.2g}): every candidate is undetermined"
                )
            if self.trajectory_check:
                lines.append(self.trajectory_check)
            if self.group_test is not None:
                runs = ""
                if self.group_trajectory is not None:
                    runs = f"; {self.group_trajectory.sentence()}"
                lines.append(f"the returned group: {self.group_test.sentence()}{runs}")
            lines += [f"  {v.sentence()}" for v in self.verdicts]
        spectrum = ", ".join(f"{s:.2e}" for s in self.relative_singular_values)
        tol = "" if np.isnan(self.tol) else f", tol {self.tol:.1e}"
        lines.append(
            f"relative singular values ({self.inner_product} inner product{tol}): "
            f"{spectrum}"
        )
        lines.append(f"closure residual: {self.closure_residual:.1e}")
        if self.snapped:
            lines.append("generators snapped to exact values")
        freq = self.bootstrap_dim_frequency
        if freq:
            stab = ", ".join(f"dim {d}: {p:.0%}" for d, p in sorted(freq.items()))
            lines.append(f"bootstrap: {stab}")
        return lines

    def to_dict(self) -> dict:
        """JSON-serialisable summary of the evidence."""
        return {
            "method": self.method,
            "alpha": _finite(self.alpha),
            "tol": _finite(self.tol),
            "inner_product": self.inner_product,
            "relative_singular_values": self.relative_singular_values.tolist(),
            "closure_residual": float(self.closure_residual),
            "snapped": bool(self.snapped),
            "discrete_order": int(self.discrete_order),
            "discrete_order_exact": bool(getattr(self.discrete_order, "exact", True)),
            "discrete_family": self.discrete_family,
            "signal_p_value": _finite(self.signal_p_value),
            "undecidable": self.undecidable,
            "noise": None
            if self.noise is None
            else {
                "sigma": self.noise.sigma.tolist(),
                "tau": self.noise.tau.tolist(),
                "effective_samples": self.noise.n_effective.tolist(),
                "floored": self.noise.floored.tolist(),
                "margin": self.noise.margin,
                "edge_rows": self.noise.edge_rows,
                "rows": self.noise.rows,
                "state_noise": None
                if self.noise.state_noise is None
                else np.asarray(self.noise.state_noise).tolist(),
                "state_noise_corrected": self.noise.state_noise_corrected,
            },
            "group_test": None
            if self.group_test is None
            else {
                "statistic": self.group_test.statistic,
                "dof": self.group_test.dof,
                "p_value": self.group_test.p_value,
                "relative_increase": self.group_test.relative_increase,
                "excess_sigma": self.group_test.excess_sigma,
                "resolution": _finite(self.group_test.resolution),
                "trajectory": None
                if self.group_trajectory is None
                else self.group_trajectory.to_dict(),
            },
            "verdicts": [v.to_dict() for v in self.verdicts],
            "trajectory_check": self.trajectory_check or None,
            "inputs": self.inputs_line(),
        }
