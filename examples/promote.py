"""Promote symmetry without knowing it: keep every symmetry the data allow.

Story: we suspect the Hopf data have *some* linear symmetry but do not know
which. We fit with a nuclear-norm penalty on the Lie derivatives over all of
gl(2). Along a path of penalty weights the candidate symmetries break one after
another; for a wide range of weights the fitted model keeps exactly one, the
rotation. A "snap" refit then enforces the found rotation exactly. A second
system with a genuine x^2 term shows that promotion does not force symmetry
against the evidence.

    python examples/promote.py [--quick] [--out FOLDER]
"""

import numpy as np
from _common import parse_args, save

import symsindy as ss


def library_data(xs, t):
    """Library matrix of the smoothed states and their derivatives, per trajectory."""
    x, xdot, _ = ss.stack_trajectories(xs, t)
    return np.asarray(ss.LiePolynomialLibrary(degree=3).fit_transform(x)), xdot


def main():
    args = parse_args(__doc__)
    t = np.arange(0, 4 if args.quick else 8, 0.01)
    gl2 = ss.LieAlgebra.gl(2)
    for eps in (0.0, 0.3):
        system = ss.datasets.get_system("hopf", eps=eps)
        theta, xdot = library_data(ss.datasets.simulate(system, 6, t, 0.03, seed=0), t)
        opt = ss.SymmetryPromotingSR3(gl2, sym_weight=1e-3, threshold=0.05, snap=True)
        opt.fit(theta, xdot)
        found = opt.symmetry_
        print(f"\nHopf + {eps} x^2: promoted model keeps dim {found.dim} of gl(2):")
        print("   ", found.describe().replace("\n", "\n    "))
        print("   ", "x' coefficients:", np.round(opt.coef_[0], 3))
        if eps == 0.0:
            path = ss.promotion_path(
                ss.SymmetryPromotingSR3(gl2, threshold=0.05),
                theta,
                xdot,
                sym_weights=np.logspace(0, -4, 6 if args.quick else 13),
            )
            print(
                "    symmetries kept along the path (sym_weight, dim):",
                [(f"{w:.0e}", d) for w, d in path.breaking_order()],
            )
            save(path.plot(), args, "promote.png")


if __name__ == "__main__":
    main()
