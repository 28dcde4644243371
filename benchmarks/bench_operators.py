"""Speed of the exact operators and of discovery.

    python benchmarks/bench_operators.py

Targets: all gl(10) operators at degree 3 well under a second; discovery over
gl(10) for a degree-3 model in 10 states about a second; the signed-permutation
search in 4 states well under a second.
"""

import numpy as np
from common import timed

import symsindy as ss


def main():
    basis = ss.Monomials(10, 3)
    gl10 = ss.LieAlgebra.gl(10)
    t_ops, op = timed(lambda: ss.lie_derivative_stack(basis, gl10))
    print(
        f"gl(10) operators, degree 3 ({len(basis)} monomials, 100 generators, "
        f"matrix {op.matrix.shape}, nnz {op.matrix.nnz}): {t_ops:.3f} s"
    )

    rng = np.random.default_rng(0)
    coef = rng.normal(size=(10, len(basis))) * (rng.random((10, len(basis))) < 0.1)
    t_disc, group = timed(
        lambda: ss.discover_symmetries(coef, library=basis, discrete=None), repeat=1
    )
    print(
        f"discover over gl(10), degree-3 model in 10 states: {t_disc:.3f} s "
        f"(dim {group.dim})"
    )

    lorenz = ss.datasets.get_system("lorenz")
    coef4 = np.zeros((4, len(ss.Monomials(4, 2))))
    coef4[:3, :10] = 0  # Lorenz embedded with a decoupled fourth state x3' = -x3
    C3 = lorenz.coefficients()
    b4 = ss.Monomials(4, 2)
    b3 = ss.Monomials(3, 2)
    idx = b4.index(np.hstack([b3.exponents, np.zeros((len(b3), 1), dtype=int)]))
    coef4[:3, idx] = C3
    coef4[3, b4.index([[0, 0, 0, 1]])[0]] = -1.0
    t_disc4, g4 = timed(lambda: ss.discover_symmetries(coef4, library=b4), repeat=1)
    print(
        f"discrete search over the 384 signed permutations of 4 states: "
        f"{t_disc4:.3f} s (group order {g4.order})"
    )


if __name__ == "__main__":
    main()
