"""Regenerate the bundled datasets in symsindy/data (see README.md here).

Run from the repository root:  python datasets/make_bundled.py
"""

from pathlib import Path

import numpy as np

from symsindy import datasets

OUT = Path(__file__).resolve().parent.parent / "symsindy" / "data"

SPECS = {
    # name: (system, parameters, n_trajectories, t_end, dt, noise, seed)
    "hopf": ("hopf", {}, 8, 8.0, 0.01, 0.03, 2026),
    "lorenz": ("lorenz", {}, 6, 3.0, 0.002, 0.01, 2026),
    "growth": ("growth", {}, 8, 2.0, 0.01, 0.01, 2026),
}


def main():
    OUT.mkdir(exist_ok=True)
    for name, (system, params, n_traj, t_end, dt, noise, seed) in SPECS.items():
        sys = datasets.get_system(system, **params)
        t = np.arange(0, t_end, dt)
        xs = datasets.simulate(sys, n_traj, t, noise=noise, seed=seed)
        np.savez_compressed(
            OUT / f"{name}.npz",
            t=t,
            x=np.stack(xs),
            true_coefficients=sys.coefficients(),
            degree=sys.degree,
            noise=noise,
            seed=seed,
            system=system,
            names=np.array([f"x{j}" for j in range(sys.n)]),
        )
        print(f"wrote {name}.npz: {n_traj} trajectories x {len(t)} samples")


if __name__ == "__main__":
    main()
