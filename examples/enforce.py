"""Enforce a known symmetry: better models from noisy data.

Story: we observe a Hopf oscillator (a limit cycle whose equations commute with
rotations) through 5% measurement noise. Plain SINDy picks up spurious terms;
telling the optimizer that the model must commute with rotations removes them,
because it can only choose among rotation-symmetric terms. The second part
enforces a continuous *and* a discrete symmetry: two identical oscillators,
rotated together and swappable.

    python examples/enforce.py [--quick] [--out FOLDER]
"""

import numpy as np
import pysindy as ps
from _common import parse_args, save

import symsindy as ss


def fit(optimizer, xs, t):
    model = ps.SINDy(
        optimizer=optimizer,
        feature_library=ss.LiePolynomialLibrary(degree=3),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    return model.fit(xs, t=t)


def main():
    args = parse_args(__doc__)
    system = ss.datasets.get_system("hopf")
    t = np.arange(0, 4 if args.quick else 8, 0.01)
    xs = ss.datasets.simulate(system, 6, t, noise=0.05, seed=4)
    true = system.coefficients(3)

    # The symmetric terms the optimizer may use: orbits of monomials under so(2).
    basis = ss.equivariant_basis(ss.Monomials(2, 3), ss.LieAlgebra.so(2))
    print("rotation-symmetric terms of degree <= 3:")
    for term in basis.terms():
        print("   ", term)

    plain = fit(ps.STLSQ(threshold=0.1), xs, t)
    sym = fit(ss.EquivariantSTLSQ(ss.LieAlgebra.so(2), threshold=0.1), xs, t)
    for label, model in (("plain STLSQ", plain), ("so(2)-enforced", sym)):
        coef = np.asarray(model.coefficients())
        err = np.linalg.norm(coef - true) / np.linalg.norm(true)
        print(f"\n{label}: coefficient error {err:.1%}")
        model.print()
    print("equivariance residual:", f"{sym.optimizer.equivariance_residual():.1e}")

    # Two identical oscillators: common rotation plus the swap of the two.
    J = ss.LieAlgebra.so(2).matrices[0]
    group = ss.SymmetryGroup(
        ss.LieAlgebra.from_matrices(np.kron(np.eye(2), J)[None]),
        discrete=[np.eye(4)[[2, 3, 0, 1]]],
    )
    pair = ss.datasets.get_system("coupled_hopf", k=2, coupling=0.3)
    xs2 = ss.datasets.simulate(pair, 4, t, noise=0.02, seed=0)
    model = fit(ss.EquivariantSTLSQ(group, threshold=0.1), xs2, t)
    print("\ncoupled pair, symmetric under:", "; ".join(group.describe().splitlines()))
    model.print()
    print("equivariance residual:", f"{model.optimizer.equivariance_residual():.1e}")

    fig = ss.plotting.plot_coefficients(
        {
            "true": true,
            "plain STLSQ": plain.coefficients(),
            "so(2) enforced": sym.coefficients(),
        },
        plain.get_feature_names(),
    )
    save(fig, args, "enforce.png")


if __name__ == "__main__":
    main()
