"""The versioned JSON layout of saved models and symmetry groups, and its checks.

A model file (schema version 2) is one JSON object::

    {
      "format": "symsindy-model", "schema_version": 2,
      "n_states": n, "degree": d, "include_bias": true,
      "feature_names": [n state names],
      "coefficients": [n rows of n_features numbers, pysindy library order],
      "optimizer": "EquivariantSTLSQ",
      "symmetry": null or a group object (below)
    }

A group object (also what ``symsindy discover --json`` prints, with extra
report fields) is::

    {
      "n": n,
      "algebra": {"degree": k, "coefficients": [dim x n x n_monomials],
                  "names": [...]},
      "discrete": [n x n matrices],
      "coordinate_names": [n names]
    }

``algebra.coefficients[i, j, m]`` is the coefficient of monomial ``m`` (pysindy
order over ``Monomials(n, k)``: ``1, x0, .., x(n-1), x0^2, ..``) in component
``j`` of generator ``i``; for linear generators (``k = 1``) that is the layout
``(dim, n, n + 1)`` with the matrix in ``[:, :, 1:]`` and a translation in
``[:, :, 0]``. Version 1 files (``"format": "symsindy-model-1"``) have the same
fields and are read unchanged.

Every check raises ``ValueError`` naming the file, the field and what was
expected, instead of a ``KeyError`` deep inside the loader.
"""

from __future__ import annotations

import numbers

import numpy as np

from .group import SymmetryGroup
from .polynomials import Monomials

__all__ = [
    "MODEL_FORMAT",
    "SCHEMA_VERSION",
    "check_model_document",
    "check_group_document",
    "group_from_document",
]

MODEL_FORMAT = "symsindy-model"
SCHEMA_VERSION = 2
_V1_FORMAT = "symsindy-model-1"


def _fail(source: str, field: str, expected: str, got) -> ValueError:
    shown = type(got).__name__ if isinstance(got, dict | list) else repr(got)
    return ValueError(f"{source}: {field!r} must be {expected}, got {shown}")


def _int(data: dict, key: str, source: str, low: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(source, key, f"an integer >= {low}", value)
    if value < low:
        raise _fail(source, key, f"an integer >= {low}", value)
    return int(value)


def _matrix(value, shape: tuple, field: str, source: str) -> np.ndarray:
    """A finite float array of exactly ``shape`` from nested JSON lists."""
    expected = " x ".join(str(s) for s in shape)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise _fail(source, field, f"a {expected} array of numbers", value) from None
    if arr.shape != shape:
        raise ValueError(
            f"{source}: {field!r} must be a {expected} array of numbers, got shape "
            f"{arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{source}: {field!r} contains NaN or inf")
    return arr


def _names(value, n: int, field: str, source: str) -> list[str]:
    if not isinstance(value, list) or len(value) != n:
        raise _fail(source, field, f"a list of {n} names (one per state)", value)
    if not all(isinstance(v, str) and v for v in value):
        raise _fail(source, field, "non-empty strings", value)
    return list(value)


def check_model_document(data, source: str = "model file") -> dict:
    """Validate a model document; return its parts as arrays and a group.

    Returns
    -------
    dict with ``n``, ``degree``, ``include_bias``, ``feature_names``,
    ``coefficients`` (array ``(n, n_features)``) and ``symmetry``
    (``SymmetryGroup`` or None, named by the model's coordinates).
    """
    if not isinstance(data, dict):
        raise ValueError(
            f"{source}: a model file holds one JSON object, got {type(data).__name__}"
        )
    fmt = data.get("format")
    if fmt == _V1_FORMAT:
        version = 1
    elif fmt == MODEL_FORMAT:
        version = data.get("schema_version")
        if version not in (1, SCHEMA_VERSION):
            raise ValueError(
                f"{source}: schema_version {version!r} is not supported "
                f"(this symsindy reads versions 1 and {SCHEMA_VERSION})"
            )
    else:
        raise ValueError(
            f"{source}: not a symsindy model file ('format' must be "
            f"{MODEL_FORMAT!r}, got {fmt!r})"
        )
    n = _int(data, "n_states", source, 1)
    degree = _int(data, "degree", source, 1)
    bias = data.get("include_bias")
    if not isinstance(bias, bool):
        raise _fail(source, "include_bias", "true or false", bias)
    names = _names(data.get("feature_names"), n, "feature_names", source)
    n_features = len(Monomials(n, degree, 0 if bias else 1))
    coef = _matrix(data.get("coefficients"), (n, n_features), "coefficients", source)
    group = None
    if data.get("symmetry") is not None:
        group = check_group_document(data["symmetry"], n, f"{source}: symmetry")
        group.coordinate_names = names
    return {
        "version": version,
        "n": n,
        "degree": degree,
        "include_bias": bias,
        "feature_names": names,
        "coefficients": coef,
        "symmetry": group,
    }


def check_group_document(
    data, n: int | None = None, source: str = "group"
) -> SymmetryGroup:
    """A :class:`SymmetryGroup` from a validated group object (see module doc)."""
    if not isinstance(data, dict):
        raise ValueError(
            f"{source}: a symmetry group is a JSON object, got {type(data).__name__}"
        )
    size = _int(data, "n", source, 1)
    if n is not None and size != n:
        raise ValueError(f"{source}: acts on {size} states, the data have {n}")
    alg = data.get("algebra")
    if not isinstance(alg, dict):
        raise _fail(source, "algebra", "an object with degree and coefficients", alg)
    degree = _int(alg, "degree", f"{source}: algebra", 1)
    coef = np.asarray(alg.get("coefficients", []), dtype=object)
    dim = len(coef) if coef.ndim else 0
    n_mon = len(Monomials(size, degree))
    if dim:
        _matrix(alg["coefficients"], (dim, size, n_mon), "algebra.coefficients", source)
    names = alg.get("names")
    if names is not None and (not isinstance(names, list) or len(names) != dim):
        raise _fail(source, "algebra.names", f"a list of {dim} names", names)
    discrete = data.get("discrete", [])
    if not isinstance(discrete, list):
        raise _fail(source, "discrete", "a list of n x n matrices", discrete)
    for i, R in enumerate(discrete):
        _matrix(R, (size, size), f"discrete[{i}]", source)
    coord = data.get("coordinate_names")
    if coord is not None:
        _names(coord, size, "coordinate_names", source)
    try:
        return SymmetryGroup.from_dict(data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source}: {err}") from None


def group_from_document(data, n: int, source: str) -> SymmetryGroup:
    """The group in any symsindy JSON output: a group, a model, or ``fit --json``."""
    if isinstance(data, dict) and "format" in data:
        model = check_model_document(data, source)
        if model["symmetry"] is None:
            raise ValueError(f"{source}: this model file stores no symmetry")
        group = model["symmetry"]
        if group.n != n:
            raise ValueError(f"{source}: acts on {group.n} states, the data have {n}")
        return group
    if isinstance(data, dict) and isinstance(data.get("discovered"), dict):
        data = data["discovered"]
    return check_group_document(data, n, source)
