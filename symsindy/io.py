"""Reading trajectory files; saving and loading fitted models (JSON); safe writes.

Every file symsindy writes goes through :func:`write_atomic`: the content is
written to a temporary file in the target's folder and renamed over the target
in one step, so a crash never leaves half a file, and a path that names one of
the command's inputs is refused (an input is never overwritten).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .lie_derivative import resolve_basis
from .schema import MODEL_FORMAT, SCHEMA_VERSION, check_model_document
from .tabular import TIME_COLUMNS, TRAJECTORY_COLUMNS, read_csv_trajectories
from .tolerances import STORED_SYMMETRY_TOL
from .trajectories import as_time_list

__all__ = [
    "read_trajectories",
    "save_model",
    "load_model",
    "model_to_dict",
    "write_atomic",
    "check_not_input",
    "TIME_COLUMNS",
    "TRAJECTORY_COLUMNS",
]

_NPZ_MAGIC = b"PK\x03\x04"


def read_trajectories(
    path, time: str | None = None, states=None, trajectory: str | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Trajectories from a CSV or NPZ file.

    CSV: see :func:`symsindy.tabular.read_csv_trajectories` (``time``,
    ``states`` and ``trajectory`` name columns). NPZ: arrays ``t`` (times,
    ``(n_times,)`` shared or ``(n_trajectories, n_times)``) and ``x``
    (``(n_times, n)`` or ``(n_trajectories, n_times, n)``), optionally
    ``names``.

    Returns
    -------
    trajectories, times, state names
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"data file {str(path)!r} is a folder")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if time or states or trajectory:
            raise ValueError(
                "--time, --states and --trajectory apply to CSV files; an NPZ file "
                "holds arrays 't' and 'x'"
            )
        return _read_npz(path)
    if suffix in (".csv", ".txt"):
        return read_csv_trajectories(path, time, states, trajectory)
    raise ValueError(f"unsupported data file {path.name!r}: use .csv or .npz")


def _read_npz(path):
    with open(path, "rb") as fh:
        if fh.read(4) != _NPZ_MAGIC:
            raise ValueError(
                f"{path.name}: not an NPZ archive (an .npz file is a zip of arrays "
                "written by numpy.savez)"
            )
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:  # numpy raises several types for corrupt files
        raise ValueError(f"cannot read {path.name}: {err}") from err
    with data:
        missing = [k for k in ("t", "x") if k not in data.files]
        if missing:
            raise ValueError(f"{path.name} lacks array(s) {missing}; need 't' and 'x'")
        try:
            t = np.asarray(data["t"], dtype=float)
            x = np.asarray(data["x"], dtype=float)
            names = [str(s) for s in data["names"]] if "names" in data.files else None
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{path.name}: 't' and 'x' must be numeric arrays ({err})"
            ) from None
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or t.ndim not in (1, 2) or x.shape[1] != t.shape[-1]:
        raise ValueError(
            f"{path.name}: x must be (n_times, n) or (n_trajectories, n_times, n) with "
            f"n_times = len(t) = {t.shape[-1] if t.ndim else 0}, got x {x.shape}"
        )
    if t.ndim == 2 and t.shape[0] != x.shape[0]:
        raise ValueError(
            f"{path.name}: t holds {t.shape[0]} time rows for {x.shape[0]} trajectories"
        )
    trajs = [x[i] for i in range(x.shape[0])]
    times = [t if t.ndim == 1 else t[i] for i in range(x.shape[0])]
    if names is not None and len(names) != x.shape[2]:
        raise ValueError(
            f"{path.name}: 'names' has {len(names)} entries for {x.shape[2]} states"
        )
    names = names or [f"x{j}" for j in range(x.shape[2])]
    for k, tr in enumerate(trajs):
        bad = ~np.all(np.isfinite(tr), axis=1) | ~np.isfinite(times[k])
        if bad.any():
            row = int(np.argmax(bad))
            kind = (
                "inf" if np.isinf(tr[row]).any() or np.isinf(times[k][row]) else "NaN"
            )
            raise ValueError(
                f"{path.name}: trajectory {k} has {int(bad.sum())} sample(s) with NaN "
                f"or inf (first: sample {row}, {kind})"
            )
    try:
        as_time_list(times, trajs)
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None
    return trajs, [np.asarray(ti) for ti in times], names


def check_not_input(out, inputs=()) -> Path:
    """``out`` as a Path, or a ValueError if it names one of ``inputs``."""
    out = Path(out)
    for src in inputs:
        src = Path(src)
        same = out.resolve() == src.resolve()
        if not same and out.exists() and src.exists():
            same = os.path.samefile(out, src)
        if same:
            raise ValueError(
                f"refusing to write {str(out)!r}: it is an input of this command "
                "(choose another output file)"
            )
    if out.is_dir():
        raise ValueError(f"output {str(out)!r} is a folder; give a file name")
    return out


def write_atomic(path, content: str | bytes, inputs=()) -> None:
    """Write ``content`` to ``path`` atomically, never over one of ``inputs``."""
    path = check_not_input(path, inputs)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write {str(path)!r}: folder {str(folder)!r} missing")
    data = content.encode() if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_to_dict(model) -> dict:
    """JSON-ready description of a fitted ``ps.SINDy`` (see ``symsindy.schema``)."""
    basis = resolve_basis(model.feature_library)
    opt = model.optimizer
    names = list(model.feature_names or [f"x{j}" for j in range(basis.n_vars)])
    symmetry = getattr(opt, "symmetry_", None)
    group = None
    if symmetry is not None:
        group = symmetry.to_dict()
        group["coordinate_names"] = names
    return {
        "format": MODEL_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "n_states": basis.n_vars,
        "degree": basis.max_degree,
        "include_bias": basis.min_degree == 0,
        "feature_names": names,
        "coefficients": np.asarray(opt.coef_).tolist(),
        "optimizer": type(opt).__name__,
        "symmetry": group,
    }


def save_model(model, path, inputs=()) -> None:
    """Write a fitted model (coefficients, library, symmetry) as JSON, atomically.

    ``inputs`` lists files the output must not replace (e.g. the training data).
    """
    write_atomic(path, json.dumps(model_to_dict(model), indent=2) + "\n", inputs)


def load_model(path_or_dict):
    """A fitted ``ps.SINDy`` rebuilt from :func:`save_model` output.

    The file is checked against the versioned schema (``symsindy.schema``), and
    the stored coefficients must satisfy the stored symmetry (an edited file
    that breaks it is refused). The model predicts, simulates and prints
    exactly like the saved one, with the saved state names; its optimizer is an
    :class:`EquivariantSTLSQ` carrying the saved symmetry (named by the same
    coordinates), or a plain ``STLSQ`` when none was saved.

    Raises
    ------
    ValueError
        Naming the file and the field that is missing or malformed.
    """
    import pysindy as ps

    from .equivariance import equivariant_basis
    from .library import LiePolynomialLibrary
    from .optimizers import EquivariantSTLSQ

    data, source = path_or_dict, "model"
    if not isinstance(data, dict):
        source = str(path_or_dict)
        try:
            data = json.loads(Path(path_or_dict).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read model file {source}: {err}") from err
    doc = check_model_document(data, source)
    coef, group = doc["coefficients"], doc["symmetry"]
    lib = LiePolynomialLibrary(degree=doc["degree"], include_bias=doc["include_bias"])
    lib.fit(np.zeros((2, doc["n"])))
    opt = EquivariantSTLSQ(group) if group is not None else ps.STLSQ()
    opt.coef_ = coef
    opt.intercept_ = 0.0
    opt.n_features_in_ = coef.shape[1]
    if group is not None:
        opt.symmetry_ = group
        opt.basis_ = equivariant_basis(lib, group)
        residual = opt.basis_.residual(coef)
        if residual > STORED_SYMMETRY_TOL:
            raise ValueError(
                f"{source}: the stored coefficients break the stored symmetry "
                f"(relative residual {residual:.1e} > {STORED_SYMMETRY_TOL:.0e}); "
                "the file was edited or corrupted"
            )
        opt.reduced_coef_ = opt.basis_.project(coef)
    model = ps.SINDy(feature_library=lib, optimizer=opt)
    model.feature_names = doc["feature_names"]
    model.n_control_features_ = 0
    model._fit_shape()
    return model
