"""symsindy inside scikit-learn: pipelines, trajectory-aware CV, grid search.

Story: our measurements come in very different units (x in metres, y in
millimetres), so we standardise them. The system is rotation-symmetric in the
*original* coordinates, which standardisation distorts; a SymmetricPipeline
carries the symmetry through the scaler, so the final model is exactly
symmetric where it should be. Model selection splits by trajectory, so no
derivative straddles a train/test boundary.

    python examples/sklearn_pipeline.py [--quick] [--out FOLDER]
"""

import numpy as np
from _common import parse_args
from scipy.linalg import expm
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

import symsindy as ss


def main():
    args = parse_args(__doc__)
    t = np.arange(0, 4 if args.quick else 8, 0.01)
    units = np.diag([1.0, 1000.0])  # x in metres, y in millimetres
    xs = [x @ units.T for x in ss.datasets.simulate("hopf", 6, t, noise=0.02, seed=0)]
    X, Y, groups = ss.stack_trajectories(xs, t)  # smoothed states, derivatives
    J = ss.LieAlgebra.so(2).matrices[0]
    rotation = units @ J @ np.linalg.inv(units)  # the rotation, in these units

    pipe = ss.make_symmetric_pipeline(
        StandardScaler(), ss.SymmetricSINDyRegressor(symmetry=rotation)
    )
    search = GridSearchCV(
        pipe,
        {"symmetricsindyregressor__threshold": [1e-4, 1e-3, 1e-2, 1e-1]},
        cv=ss.trajectory_cv(groups, 3),
        n_jobs=1 if args.quick else 2,
    )
    search.fit(X, Y)
    print("best parameters:", search.best_params_)
    print(f"cross-validated R^2: {search.best_score_:.4f}")

    best = search.best_estimator_
    x = X[::500]
    g = expm(0.7 * rotation)
    rhs = best.predict(x) @ g.T
    err = np.abs(best.predict(x @ g.T) - rhs).max() / np.abs(rhs).max()
    print(f"max |F(g x) - g F(x)| / max |g F(x)| = {err:.1e} (g: rotation by 0.7 rad)")


if __name__ == "__main__":
    main()
