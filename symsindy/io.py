"""Reading trajectory files and saving/loading fitted symmetric models (JSON)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .group import SymmetryGroup
from .lie_derivative import resolve_basis

__all__ = ["read_trajectories", "save_model", "load_model", "model_to_dict"]

TIME_COLUMNS = ("t", "time")
TRAJECTORY_COLUMNS = ("trajectory", "traj", "run")


def read_trajectories(path) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Trajectories from a CSV or NPZ file.

    CSV: a header row, a time column named ``t`` or ``time``, optionally a
    ``trajectory`` column whose value changes between trajectories, and one
    column per state. NPZ: arrays ``t`` (times) and ``x`` (``(n_times, n)`` or
    ``(n_trajectories, n_times, n)``), optionally ``names``.

    Returns
    -------
    trajectories, times, state names
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise ValueError(f"unsupported data file {path.name!r}: use .csv or .npz")


def _read_npz(path):
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:  # numpy raises several types for corrupt files
        raise ValueError(f"cannot read {path.name}: {err}") from err
    with data:
        missing = [k for k in ("t", "x") if k not in data.files]
        if missing:
            raise ValueError(f"{path.name} lacks array(s) {missing}; need 't' and 'x'")
        t = np.asarray(data["t"], dtype=float)
        x = np.asarray(data["x"], dtype=float)
        names = [str(s) for s in data["names"]] if "names" in data.files else None
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1] != t.shape[-1]:
        raise ValueError(
            f"{path.name}: x must be (n_times, n) or (n_trajectories, n_times, n) with "
            f"n_times = len(t) = {t.shape[-1]}, got {x.shape}"
        )
    trajs = [x[i] for i in range(x.shape[0])]
    times = [t if t.ndim == 1 else t[i] for i in range(x.shape[0])]
    names = names or [f"x{j}" for j in range(x.shape[2])]
    _check_finite_rows(trajs, path.name)
    return trajs, times, names


def _read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 3:
        raise ValueError(f"{path.name}: need a header row and at least two data rows")
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    tcol = next((lower.index(c) for c in TIME_COLUMNS if c in lower), None)
    if tcol is None:
        raise ValueError(
            f"{path.name}: no time column; name one of {list(TIME_COLUMNS)} "
            f"(columns are {header})"
        )
    jcol = next((lower.index(c) for c in TRAJECTORY_COLUMNS if c in lower), None)
    state_cols = [i for i in range(len(header)) if i not in (tcol, jcol)]
    if not state_cols:
        raise ValueError(f"{path.name}: no state columns besides time")
    try:
        values = np.array(
            [
                [float(v) if v.strip() else np.nan for v in row]
                for row in rows[1:]
                if row
            ],
            dtype=float,
        )
    except ValueError as err:
        raise ValueError(f"{path.name}: non-numeric entry ({err})") from err
    if values.ndim != 2 or values.shape[1] != len(header):
        raise ValueError(f"{path.name}: rows have different numbers of columns")
    labels = values[:, jcol] if jcol is not None else np.zeros(len(values))
    trajs, times = [], []
    for label in dict.fromkeys(labels.tolist()):
        rows_k = values[labels == label]
        trajs.append(rows_k[:, state_cols])
        times.append(rows_k[:, tcol])
    _check_finite_rows(trajs, path.name, times)
    return trajs, times, [header[i] for i in state_cols]


def _check_finite_rows(trajs, name, times=None):
    for k, tr in enumerate(trajs):
        bad = ~np.all(np.isfinite(tr), axis=1)
        if times is not None:
            bad |= ~np.isfinite(times[k])
        if bad.any():
            raise ValueError(
                f"{name}: trajectory {k} has {int(bad.sum())} row(s) with NaN or "
                f"missing values (first at row {int(np.argmax(bad))})"
            )
        if tr.shape[0] < 5:
            raise ValueError(f"{name}: trajectory {k} has fewer than 5 samples")


def model_to_dict(model) -> dict:
    """JSON-ready description of a fitted ``ps.SINDy`` with a polynomial library."""
    basis = resolve_basis(model.feature_library)
    opt = model.optimizer
    symmetry = getattr(opt, "symmetry_", None)
    return {
        "format": "symsindy-model-1",
        "n_states": basis.n_vars,
        "degree": basis.max_degree,
        "include_bias": basis.min_degree == 0,
        "feature_names": list(
            model.feature_names or [f"x{j}" for j in range(basis.n_vars)]
        ),
        "coefficients": np.asarray(opt.coef_).tolist(),
        "optimizer": type(opt).__name__,
        "symmetry": symmetry.to_dict() if symmetry is not None else None,
    }


def save_model(model, path) -> None:
    """Write a fitted model (coefficients, library, symmetry) as JSON."""
    Path(path).write_text(json.dumps(model_to_dict(model), indent=2))


def load_model(path_or_dict):
    """A fitted ``ps.SINDy`` rebuilt from :func:`save_model` output.

    The model predicts, simulates and prints exactly like the saved one; its
    optimizer is an :class:`EquivariantSTLSQ` carrying the saved symmetry (or a
    plain ``STLSQ`` when none was saved), ready to be refitted.
    """
    import pysindy as ps

    from .library import LiePolynomialLibrary
    from .optimizers import EquivariantSTLSQ

    data = path_or_dict
    if not isinstance(data, dict):
        try:
            data = json.loads(Path(path_or_dict).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read model file {path_or_dict}: {err}") from err
    if data.get("format") != "symsindy-model-1":
        raise ValueError(
            "not a symsindy model file (missing format 'symsindy-model-1')"
        )
    n = int(data["n_states"])
    coef = np.asarray(data["coefficients"], dtype=float)
    lib = LiePolynomialLibrary(
        degree=int(data["degree"]), include_bias=bool(data["include_bias"])
    )
    lib.fit(np.zeros((2, n)))
    if coef.shape != (n, lib.n_output_features_):
        raise ValueError(
            f"coefficients have shape {coef.shape}, expected "
            f"{(n, lib.n_output_features_)}"
        )
    group = SymmetryGroup.from_dict(data["symmetry"]) if data.get("symmetry") else None
    opt = EquivariantSTLSQ(group) if group is not None else ps.STLSQ()
    opt.coef_ = coef
    opt.intercept_ = 0.0
    opt.n_features_in_ = coef.shape[1]
    if group is not None:
        from .equivariance import equivariant_basis

        opt.symmetry_ = group
        opt.basis_ = equivariant_basis(lib, group)
        opt.reduced_coef_ = opt.basis_.project(coef)
    model = ps.SINDy(feature_library=lib, optimizer=opt)
    model.feature_names = data.get("feature_names")
    model.n_control_features_ = 0
    model._fit_shape()
    return model
