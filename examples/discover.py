"""Discover the symmetry group of fitted models.

Story: given noisy trajectories of the Lorenz system and of the Hopf oscillator,
fit plain SINDy models and ask which linear transformations they commute with.
The singular values of the Lie-derivative matrix separate the symmetries
(tiny) from broken directions (order one); the Lorenz model has no continuous
symmetry but a reflection, the Hopf model a rotation. A bootstrap shows how
stable the answer is.

    python examples/discover.py [--quick] [--out FOLDER]
"""

import numpy as np
import pysindy as ps
from _common import parse_args, save

import symsindy as ss


def main():
    args = parse_args(__doc__)
    for name in ("lorenz", "hopf"):
        data = ss.datasets.load(name)
        t, xs = data["t"], data["x"]
        if args.quick:
            xs = [x[: len(t) // 2] for x in xs[:3]]
            t = t[: len(t) // 2]
        model = ps.SINDy(
            feature_library=ss.LiePolynomialLibrary(degree=int(data["degree"])),
            optimizer=ps.STLSQ(threshold=0.5 if name == "lorenz" else 0.1),
            differentiation_method=ps.SmoothedFiniteDifference(),
        )
        model.fit(xs, t=t)
        group = ss.discover_symmetries(
            model, x=xs, t=t, n_bootstrap=3 if args.quick else 20
        )
        print(f"\n=== {name} ===")
        model.print()
        print(group.summary())
        save(group.plot(), args, f"discover_{name}.png")

    # An exact model with a non-abelian symmetry and polynomial candidates.
    rotor = ss.datasets.get_system("rotor3")
    group = ss.discover_symmetries(rotor.coefficients(), library=ss.Monomials(3, 3))
    print("\n=== x' = (1 - |x|^2) x in R^3 ===")
    print(group.summary())
    print(
        "structure constants [X0, X1] =",
        np.round(group.report.structure_constants[0, 1], 3),
    )


if __name__ == "__main__":
    main()
