"""The ``symsindy`` command: demo, fit, discover, score and simulate.

Every user error (a bad file, a missing column, NaN rows, a symmetry of the
wrong size, a model that thresholding reduced to zero) ends with one line
``symsindy: error: ...`` on stderr and exit status 2, never a traceback. Every
output file is written atomically and never over an input. A closed pipe
(``symsindy ... | head``) ends quietly with status 141 (128 + SIGPIPE, what
shells report for other commands cut off the same way).

Units: ``fit`` and ``discover`` fit in unit-free coordinates by default (each
state divided by its RMS, time scaled so the derivatives have unit RMS) and map
the model back exactly to the data's units (see :mod:`symsindy.units`), so the
answer does not depend on the units and ``--threshold`` is a fraction of the
typical derivative. ``--raw-units`` fits in the data's own units instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = ["main", "parse_symmetry", "build_parser"]

CANDIDATES = ("gl", "sl", "so", "affine", "diagonal", "scaling")
SYMMETRY_HELP = (
    "symmetry to enforce (repeatable): soK:i,j,.. (rotations of the listed "
    "coordinates) | scaling[:w0,w1,..] | gl | translation:i,.. | reflect:i,.. "
    "(flip signs) | perm:p0,p1,.. (x -> x[p]) | gens.npy (generator matrices "
    "(k, n, n)) | discrete:elements.npy (group elements (k, n, n)) | "
    "group.json (output of 'discover --json', 'fit --json' or a model file)"
)
UNITS_HELP = (
    "fit in the data's own units; by default states are divided by their RMS and "
    "time is scaled so the derivatives have unit RMS, and the model is mapped "
    "back exactly, so results do not depend on units"
)


class UsageError(ValueError):
    """An error caused by the command's input, reported without a traceback."""


# ------------------------------------------------------------ argument types
def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = _threshold(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _degree(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _names(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


# ------------------------------------------------------------ symmetry specs
def _indices(text: str, name: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise UsageError(
            f"--enforce {name}: expected comma-separated integers, got {text!r}"
        ) from err


def _floats(text: str, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise UsageError(
            f"--enforce {name}: expected comma-separated numbers, got {text!r}"
        ) from err
    if not all(math.isfinite(v) for v in values):
        raise UsageError(f"--enforce {name}: weights must be finite")
    return values


def _load_matrices(path: str, n: int, what: str) -> np.ndarray:
    try:
        mats = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read {what} from {path}: {err}") from err
    mats = np.asarray(mats, dtype=float)
    mats = mats[None] if mats.ndim == 2 else mats
    if mats.ndim != 3 or mats.shape[1:] != (n, n):
        raise UsageError(
            f"{path}: {what} must be ({n}, {n}) matrices for {n} states, got shape "
            f"{mats.shape}"
        )
    return mats


def parse_symmetry(specs: list[str], n: int, names: list[str] | None = None):
    """A SymmetryGroup from CLI specs such as ``so2:0,1`` or ``scaling:2,1``.

    Recognised: ``soK:i,j,..`` (so(K) on the listed coordinates), ``scaling``
    (uniform), ``scaling:w0,w1,..`` (weights), ``gl``, ``translation:i,..``
    (shifts of the listed coordinates), ``reflect:i,j`` (flip the signs of the
    listed coordinates), ``perm:p0,p1,..`` (x -> x[p]), a ``.npy`` file of
    generator matrices ``(k, n, n)``, ``discrete:file.npy`` (discrete group
    elements ``(k, n, n)``), or a ``.json`` file holding a group (the output
    of ``discover --json`` or ``fit --json``, or a model file).

    Examples
    --------
    >>> G = parse_symmetry(["so2:0,1", "reflect:2"], 3)
    >>> G.dim, len(G.discrete)
    (1, 1)
    """
    from .algebra import LieAlgebra
    from .group import SymmetryGroup
    from .schema import group_from_document

    algebra, discrete = None, []
    for spec in specs:
        kind, _, arg = spec.partition(":")
        kind = kind.strip().lower()
        part = None
        if kind == "discrete":
            discrete += list(_load_matrices(arg, n, "discrete elements"))
        elif spec.lower().endswith(".npy"):
            part = LieAlgebra.from_matrices(_load_matrices(spec, n, "generators"))
        elif spec.lower().endswith(".json"):
            try:
                doc = json.loads(Path(spec).read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
                raise UsageError(f"cannot read a group from {spec}: {err}") from err
            group = group_from_document(doc, n, spec)
            part = group.algebra if group.dim else None
            discrete += list(group.discrete)
        elif kind.startswith("so") and kind[2:].isdigit():
            k = int(kind[2:])
            coords = _indices(arg, spec) if arg else list(range(n))
            if len(coords) != k:
                raise UsageError(f"{spec}: so({k}) needs {k} coordinates, got {coords}")
            _check_coords(coords, n, spec)
            part = LieAlgebra.so(k).embed(coords, n)
        elif kind == "scaling":
            weights = _floats(arg, spec) if arg else None
            if weights is not None and len(weights) != n:
                raise UsageError(
                    f"{spec}: need {n} weights, one per state, got {len(weights)}"
                )
            part = LieAlgebra.scaling(n, weights)
        elif kind == "gl" and not arg:
            part = LieAlgebra.gl(n)
        elif kind == "translation":
            coords = _indices(arg, spec)
            _check_coords(coords, n, spec)
            full = LieAlgebra.translations(n)
            part = LieAlgebra(full.coefficients[coords], 1, [f"T{i}" for i in coords])
        elif kind == "reflect":
            coords = _indices(arg, spec)
            _check_coords(coords, n, spec)
            R = np.eye(n)
            R[coords, coords] = -1.0
            discrete.append(R)
        elif kind == "perm":
            perm = _indices(arg, spec)
            if sorted(perm) != list(range(n)):
                raise UsageError(f"{spec}: need a permutation of 0..{n - 1}")
            discrete.append(np.eye(n)[perm])
        else:
            raise UsageError(
                f"--enforce: unknown symmetry {spec!r}; use soK:i,j.., "
                "scaling[:w..], gl, translation:i.., reflect:i.., perm:p.., "
                "gens.npy, discrete:elements.npy or group.json"
            )
        if part is not None:
            algebra = part if algebra is None else algebra + part
    return SymmetryGroup(algebra, discrete, n=n, coordinate_names=names)


def _check_coords(coords, n, spec):
    if (
        not coords
        or min(coords) < 0
        or max(coords) >= n
        or len(set(coords)) != len(coords)
    ):
        raise UsageError(
            f"{spec}: coordinates must be distinct and in 0..{n - 1}, got {coords}"
        )


def _candidate_algebra(name: str, n: int):
    from .algebra import LieAlgebra

    builders = {
        "gl": LieAlgebra.gl,
        "sl": LieAlgebra.sl,
        "so": LieAlgebra.so,
        "affine": LieAlgebra.affine,
        "diagonal": LieAlgebra.diagonal,
        "scaling": LieAlgebra.scaling,
    }
    if name not in builders:
        raise UsageError(
            f"unknown candidate algebra {name!r}; choose from {sorted(builders)}"
        )
    return builders[name](n)


# -------------------------------------------------------------- data & fits
def _note(message: str) -> None:
    print(f"symsindy: note: {message}", file=sys.stderr)


def _load_data(args, path=None):
    from .io import read_trajectories

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        data = read_trajectories(
            path or args.data,
            time=getattr(args, "time", None),
            states=getattr(args, "states", None),
            trajectory=getattr(args, "trajectory", None),
        )
    for w in caught:
        _note(str(w.message))
    return data


def _fit(trajs, times, names, args, make_optimizer):
    """A model fitted in unit-free coordinates (unless --raw-units), in data units.

    ``make_optimizer(scales)`` builds the optimizer for the scaled problem.
    Returns the model in the data's units, the scales, and the scaled model.
    """
    from .trajectories import fit_sindy
    from .units import UnitScales

    n = trajs[0].shape[1]
    if args.raw_units:
        scales = UnitScales.identity(n)
    else:
        scales = UnitScales.from_data(trajs, times)
    z, tau = scales.scale(trajs, times)
    optimizer = make_optimizer(scales)
    with warnings.catch_warnings():
        # pysindy warns when STLSQ removes every term; that case is an error below
        warnings.simplefilter("ignore", UserWarning)
        model_z = fit_sindy(z, tau, optimizer, args.degree, names)
    _refuse_zero_model(model_z, z, tau, args)
    return scales.model(model_z), scales, model_z


def _refuse_zero_model(model_z, z, tau, args) -> None:
    from .trajectories import stack_trajectories

    coef = np.asarray(model_z.optimizer.coef_)
    if np.any(coef != 0):
        return
    X, Y, _ = stack_trajectories(z, tau)
    theta = np.asarray(model_z.feature_library.transform(X))
    lstsq = np.abs(np.linalg.lstsq(theta, Y, rcond=None)[0])
    suggestion = float(np.quantile(lstsq[lstsq > 0], 0.5)) if lstsq.any() else 0.0
    units = "in the data's units" if args.raw_units else "in unit-free coordinates"
    raise UsageError(
        f"thresholding removed every term: the fitted model is zero, so it has no "
        f"meaningful symmetry. --threshold {args.threshold:g} is above the "
        f"least-squares coefficients (largest {lstsq.max():.3g} {units}, degree "
        f"{args.degree}); try --threshold {suggestion:.2g} (their median) or a "
        "lower --degree"
    )


def _equations(model) -> list[str]:
    names = model.feature_names
    return [
        f"({n})' = {eq}"
        for n, eq in zip(names, model.equations(precision=3), strict=True)
    ]


def _group_json(group) -> dict:
    out = group.to_dict()
    out["dim"] = group.dim
    out["description"] = group.describe().splitlines()
    # The same numbers as the text summary: the order of every discrete
    # symmetry found (inside the continuous group or not).
    out["discrete_group_order"] = int(group.order)
    if group.report is not None:
        evidence = group.report.to_dict()
        out.update(evidence)
        out["discrete_group_order"] = evidence["discrete_order"]
    out["discrete_generators_beyond_continuous_order"] = int(group.order)
    return out


def _derivative_scores(model, trajs, times) -> dict:
    """R^2 and relative RMS error of the model's derivatives (smoothed data)."""
    from sklearn.metrics import r2_score

    from .trajectories import stack_trajectories

    X, Y, _ = stack_trajectories(trajs, times)
    pred = np.asarray(model.predict(X))
    rms = np.sqrt(np.mean(Y**2, axis=0))
    rel = np.sqrt(np.mean((pred - Y) ** 2, axis=0)) / np.where(rms > 0, rms, 1.0)
    return {
        "r2": float(r2_score(Y, pred)),
        "relative_derivative_error": float(np.mean(rel)),
        "n_samples": int(len(X)),
    }


def _simulation_error(model, trajs, times) -> tuple[float, list[str]]:
    """Relative RMS error of simulations from each trajectory's first state."""
    from scipy.integrate import solve_ivp

    from .lie_derivative import resolve_basis
    from .trajectories import stack_trajectories

    # The polynomial evaluated directly: model.predict costs ~50x more per call.
    basis = resolve_basis(model.feature_library)
    coef = np.asarray(model.coefficients())
    notes, num, den = [], 0.0, 0.0
    for k, (tr, ti) in enumerate(zip(trajs, times, strict=True)):
        ti = np.arange(len(tr)) * ti if np.ndim(ti) == 0 else np.asarray(ti)
        smooth, _, _ = stack_trajectories([tr], [ti])
        blowup = _blowup_event(1e3 * np.abs(smooth).max())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = solve_ivp(
                lambda _, x: basis.evaluate(x[None])[0] @ coef.T,
                (ti[0], ti[-1]),
                smooth[0],
                t_eval=ti,
                rtol=1e-8,
                atol=1e-10 * np.abs(smooth).max(),
                events=blowup,
            )
        if sol.y.shape[1] != len(ti):
            notes.append(
                f"trajectory {k}: simulation diverged at t = {sol.t[-1]:g} "
                f"({sol.message.strip()})"
            )
            return math.inf, notes
        num += float(np.sum((sol.y.T - smooth) ** 2))
        den += float(np.sum(smooth**2))
    return math.sqrt(num / den), notes


def _blowup_event(limit: float):
    """A terminal solve_ivp event: the state left the data's range by 1000x."""

    def event(_, x):
        return limit - np.abs(x).max()

    event.terminal = True
    return event


def _fit_line(model, scores) -> str:
    terms = int(np.count_nonzero(model.optimizer.coef_))
    return (
        f"goodness of fit (training data): R^2 = {scores['r2']:.4f} on the "
        f"derivatives, relative RMS derivative error "
        f"{scores['relative_derivative_error']:.2%} ({scores['n_samples']} samples, "
        f"{terms} terms)"
    )


# ------------------------------------------------------------- commands
def _true_system(data):
    from . import datasets

    return datasets.get_system(str(data["system"]))


def cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pysindy as ps

    from . import datasets
    from .discover import discover_symmetries
    from .io import write_atomic
    from .optimizers import EquivariantSTLSQ
    from .plotting import (
        plot_heldout_comparison,
        plot_spectrum,
        relative_rms_error,
    )
    from .polynomials import Monomials
    from .trajectories import fit_sindy

    start = time.perf_counter()
    data = datasets.load("hopf")
    t, xs = data["t"], data["x"]
    train, test = xs[:6], xs[6:]
    true = np.asarray(data["true_coefficients"])
    names = ["x", "y"]
    print(
        "symsindy demo: Hopf normal form, 6 training + 2 held-out trajectories, "
        f"{float(data['noise']):.0%} noise\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        plain = fit_sindy(train, t, ps.STLSQ(threshold=0.1), 3, names)
    print("Plain SINDy (STLSQ):")
    print("\n".join("  " + eq for eq in _equations(plain)))

    group = discover_symmetries(plain, x=train, t=t)
    print("\nDiscovered symmetry group:")
    print("\n".join("  " + line for line in group.summary().splitlines()))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sym = fit_sindy(train, t, EquivariantSTLSQ(group, threshold=0.1), 3, names)
    print("\nSymmetric SINDy (EquivariantSTLSQ with the discovered group):")
    print("\n".join("  " + eq for eq in _equations(sym)))
    print(f"  equivariance residual: {sym.optimizer.equivariance_residual():.1e}")

    print("\nAccuracy against the true system (held-out states):")
    x_test_features = Monomials(2, 3).evaluate(np.vstack(test))
    f_true = x_test_features @ true.T
    errors = {}
    for label, model in (("plain", plain), ("symmetric", sym)):
        coef = np.asarray(model.coefficients())
        coef_err = np.linalg.norm(coef - true) / np.linalg.norm(true)
        field_err = np.linalg.norm(x_test_features @ coef.T - f_true) / np.linalg.norm(
            f_true
        )
        errors[label] = field_err
        print(
            f"  {label:>9}: coefficient error {coef_err:.2%}, vector-field error "
            f"{field_err:.2%}, {np.count_nonzero(coef)} terms"
        )
    gain = errors["plain"] / max(errors["symmetric"], 1e-300)
    change = (
        f"divides it by {gain:.2f}" if gain >= 1 else f"multiplies it by {1 / gain:.2f}"
    )
    print(
        "  enforcing the discovered symmetry on the held-out vector-field error: "
        f"{change}"
    )

    # The true system and both models, all started from the same held-out state.
    x0 = test[0][0]
    truth = datasets.simulate(_true_system(data), 1, t, seed=None, x0=x0)[0]
    sims = {
        label: model.simulate(x0, t)
        for label, model in (("plain", plain), ("symmetric", sym))
    }
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    plot_heldout_comparison(
        t, truth, sims, names, data=test[0], field_errors=errors, axes=axes[:2]
    )
    plot_spectrum(group, ax=axes[2])
    for label, sim in sims.items():
        print(
            f"  {label:>9}: held-out simulation error "
            f"{relative_rms_error(sim, truth):.2%} (against the true trajectory)"
        )
    fig.tight_layout()
    out = Path(args.out)
    import io as _io

    buffer = _io.BytesIO()
    fig.savefig(buffer, dpi=110, format="png")
    plt.close(fig)
    write_atomic(out, buffer.getvalue())
    print(f"\nfigure written to {out}  ({time.perf_counter() - start:.1f} s)")
    return 0


def _fit_optimizer(args, n, names):
    import pysindy as ps

    from .optimizers import EquivariantSTLSQ

    if args.enforce:
        group = parse_symmetry(args.enforce, n, names)
        return lambda scales: EquivariantSTLSQ(
            scales.group(group, to_scaled=True), threshold=args.threshold
        )
    if args.promote:
        from .promote import SymmetryPromotingSR3

        candidates = _candidate_algebra(args.promote, n)
        weight = 1e-3 if args.sym_weight is None else args.sym_weight
        # No snap here: snapping looks for simple exact generators, which exist
        # in the data's coordinates, not in the rescaled ones (see _promote).
        return lambda scales: SymmetryPromotingSR3(
            candidates=scales.algebra(candidates, to_scaled=True),
            threshold=args.threshold,
            sym_weight=weight,
        )
    return lambda scales: ps.STLSQ(threshold=args.threshold)


def _discover(model, n, args, trajs=None, times=None):
    """The model's symmetry group; with its training data, by the statistical test."""
    from .discover import discover_symmetries

    candidates = _candidate_algebra(args.candidates, n) if args.candidates else None
    data = {} if trajs is None else {"x": list(trajs), "t": list(times)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return discover_symmetries(
            model,
            candidates=candidates,
            tol=getattr(args, "tol", None),
            alpha=getattr(args, "alpha", None) or 1e-3,
            margin=getattr(args, "margin", None),
            rows=getattr(args, "rows", "auto"),
            trajectory_check=not getattr(args, "no_trajectory_check", False),
            **data,
        )


def _promote_snap(model, trajs, times, names, args):
    """Enforce exactly the symmetry the promoted model kept (found in data units)."""
    from .discover import discover_symmetries
    from .optimizers import EquivariantSTLSQ

    n = trajs[0].shape[1]
    kept = discover_symmetries(
        model, candidates=_candidate_algebra(args.promote, n), discrete=None
    )
    if kept.dim == 0:
        return model
    refit, _, _ = _fit(
        trajs,
        times,
        names,
        args,
        lambda scales: EquivariantSTLSQ(
            scales.group(kept, to_scaled=True), threshold=args.threshold
        ),
    )
    return refit


def cmd_fit(args) -> int:
    from .io import check_not_input, model_to_dict, save_model

    if args.sym_weight is not None and not args.promote:
        raise UsageError("--sym-weight applies only with --promote ALGEBRA")
    if args.out:
        check_not_input(args.out, [args.data])
    trajs, times, names = _load_data(args)
    n = trajs[0].shape[1]
    model, _, _ = _fit(trajs, times, names, args, _fit_optimizer(args, n, names))
    if args.promote:
        model = _promote_snap(model, trajs, times, names, args)
    found = _discover(model, n, args, trajs, times)
    scores = _derivative_scores(model, trajs, times)
    if args.out:
        save_model(model, args.out, inputs=[args.data])
    if args.json:
        out = model_to_dict(model)
        out["equations"] = _equations(model)
        out["goodness_of_fit"] = scores
        out["units"] = "raw" if args.raw_units else "normalised"
        out["discovered"] = _group_json(found)
        print(json.dumps(out, indent=2))
    else:
        print("\n".join(_equations(model)))
        print(_fit_line(model, scores))
        print("\nsymmetry of the fitted model:")
        print("\n".join("  " + line for line in found.summary().splitlines()))
        if args.out:
            print(f"\nmodel written to {args.out}")
    return 0


def cmd_discover(args) -> int:
    import pysindy as ps

    from .io import load_model

    path = Path(args.source)
    if path.suffix.lower() == ".json":
        model = load_model(path)
        if not np.any(model.optimizer.coef_):
            raise UsageError(
                f"{path.name}: the model is zero, so it has no meaningful symmetry"
            )
        n = model.n_features_in_
    else:
        args.data = args.source
        trajs, times, names = _load_data(args)
        n = trajs[0].shape[1]
        model, _, _ = _fit(
            trajs, times, names, args, lambda _: ps.STLSQ(threshold=args.threshold)
        )
    group = _discover(
        model, n, args, *(() if path.suffix.lower() == ".json" else (trajs, times))
    )
    if args.json:
        print(json.dumps(_group_json(group), indent=2))
    else:
        print(group.summary())
    return 0


def cmd_score(args) -> int:
    from .io import load_model

    model = load_model(args.model)
    trajs, times, names = _load_data(args)
    n = model.n_features_in_
    if trajs[0].shape[1] != n:
        raise UsageError(
            f"{Path(args.data).name} has {trajs[0].shape[1]} states, the model {n}"
        )
    if list(names) != list(model.feature_names):
        _note(
            f"state names differ: data {names}, model {model.feature_names}; "
            "matched by position"
        )
    scores = _derivative_scores(model, trajs, times)
    sim_error, notes = _simulation_error(model, trajs, times)
    for message in notes:
        _note(message)
    scores["relative_simulation_error"] = sim_error
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        print(
            f"R^2 of the derivatives:            {scores['r2']:.4f}\n"
            f"relative RMS derivative error:     "
            f"{scores['relative_derivative_error']:.2%}\n"
            f"relative RMS simulation error:     {sim_error:.2%}\n"
            f"({scores['n_samples']} samples in {len(trajs)} trajectories; "
            "simulations start at each trajectory's first smoothed state)"
        )
    return 0


def _time_grid(text: str) -> np.ndarray:
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if not (step > 0 and stop > start):
                raise ValueError
            count = int(math.floor((stop - start) / step * (1 + 1e-12))) + 1
            return start + step * np.arange(count)
        grid = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise UsageError(
            f"--t: expected START:STOP:STEP with STOP > START and STEP > 0, or "
            f"comma-separated increasing times, got {text!r}"
        ) from None
    if len(grid) < 2 or not np.all(np.diff(grid) > 0) or not np.all(np.isfinite(grid)):
        raise UsageError(
            f"--t: need at least two increasing finite times, got {text!r}"
        )
    return grid


def cmd_simulate(args) -> int:
    from .io import load_model, write_atomic

    model = load_model(args.model)
    n = model.n_features_in_
    try:
        x0 = np.array([float(v) for v in args.x0.split(",")])
    except ValueError:
        raise UsageError(f"--x0: expected {n} comma-separated numbers") from None
    if x0.shape != (n,) or not np.all(np.isfinite(x0)):
        raise UsageError(
            f"--x0: expected {n} finite numbers (one per state: "
            f"{', '.join(model.feature_names)}), got {args.x0!r}"
        )
    t = _time_grid(args.t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.asarray(model.simulate(x0, t))
    if x.shape[0] != len(t) or not np.all(np.isfinite(x)):
        raise UsageError("the simulation diverged; try a shorter time span")
    lines = [",".join(["t", *model.feature_names])]
    lines += [
        ",".join(repr(float(v)) for v in (ti, *row))
        for ti, row in zip(t, x, strict=True)
    ]
    text = "\n".join(lines) + "\n"
    if args.out:
        write_atomic(args.out, text, inputs=[args.model])
        print(f"simulation written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


# ----------------------------------------------------------------- main
class _Parser(argparse.ArgumentParser):
    """argparse with the command's one-line error format (usage via --help)."""

    def error(self, message):
        print(f"symsindy: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def _data_options(parser):
    parser.add_argument(
        "--time", metavar="NAME", help="CSV time column (default: t or time)"
    )
    parser.add_argument(
        "--states",
        type=_names,
        metavar="A,B,..",
        help="CSV state columns, in order (default: every other column)",
    )
    parser.add_argument(
        "--trajectory",
        metavar="NAME",
        help="CSV trajectory-id column (default: trajectory, run, id, ... if present)",
    )


def _fit_options(parser):
    parser.add_argument(
        "--degree",
        type=_degree,
        default=3,
        help="largest polynomial degree of the library (default 3)",
    )
    parser.add_argument(
        "--threshold",
        type=_threshold,
        default=0.1,
        help="sparsity threshold, a finite number >= 0 (default 0.1; in unit-free "
        "coordinates, i.e. relative to the typical derivative)",
    )
    parser.add_argument("--raw-units", action="store_true", help=UNITS_HELP)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="symsindy",
        description="Lie-group symmetry for SINDy: enforce, discover, promote.",
        epilog="Data: CSV with a header (time column t/time, optional trajectory "
        "id column, one column per state) or NPZ with arrays t and x.",
    )
    parser.add_argument(
        "--version", action="version", version=f"symsindy {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="fit, discover and enforce on bundled Hopf data")
    demo.add_argument(
        "--out",
        default="symsindy_demo.png",
        help="figure file (PNG, default symsindy_demo.png)",
    )
    demo.set_defaults(func=cmd_demo)

    fit = sub.add_parser(
        "fit",
        help="fit a (symmetric) SINDy model to trajectory data",
        description="Fit a SINDy model; print its equations, a goodness-of-fit "
        "line and its symmetry group. Units: states are divided by their RMS and "
        "time is scaled so the derivatives have unit RMS before fitting, and the "
        "model is mapped back exactly, so the result does not depend on the units "
        "(--raw-units turns this off).",
    )
    fit.add_argument("data", help="CSV (with a t/time column) or NPZ (t, x) file")
    _fit_options(fit)
    _data_options(fit)
    group = fit.add_mutually_exclusive_group()
    group.add_argument("--enforce", action="append", metavar="SPEC", help=SYMMETRY_HELP)
    group.add_argument(
        "--promote",
        choices=CANDIDATES,
        metavar="ALGEBRA",
        help=f"candidate algebra to promote: {' | '.join(CANDIDATES)}",
    )
    fit.add_argument(
        "--sym-weight",
        type=_positive,
        default=None,
        help="nuclear-norm weight, only with --promote (default 1e-3)",
    )
    fit.add_argument(
        "--candidates",
        choices=CANDIDATES,
        help="candidate algebra for reporting the fitted model's symmetry (default gl)",
    )
    fit.add_argument("--out", help="write the fitted model as JSON (never over DATA)")
    fit.add_argument("--json", action="store_true", help="machine-readable output")
    fit.set_defaults(func=cmd_fit)

    disc = sub.add_parser(
        "discover", help="print the symmetry group of data or a model"
    )
    disc.add_argument(
        "source", help="data file (CSV/NPZ) or model JSON from 'fit --out'"
    )
    disc.add_argument(
        "--candidates",
        choices=CANDIDATES,
        help="candidate algebra (default gl)",
    )
    disc.add_argument(
        "--tol",
        type=_positive,
        default=None,
        help="threshold on relative singular values (default: the library's)",
    )
    disc.add_argument(
        "--alpha",
        type=_positive,
        default=1e-3,
        help="level of the likelihood-ratio tests (default 1e-3)",
    )
    disc.add_argument(
        "--margin",
        type=float,
        default=None,
        help="breaking allowed for derivative bias, as a fraction of each "
        "derivative's RMS (default 0.003 for derivatives computed from the "
        "states)",
    )
    disc.add_argument(
        "--rows",
        choices=("auto", "integral", "derivatives"),
        default="auto",
        help="rows of the tests: the integral form over windows of the states "
        "(auto) or the fitted model's derivative rows",
    )
    disc.add_argument(
        "--no-trajectory-check",
        action="store_true",
        help="do not check accepted symmetries on the measured runs themselves "
        "(shooting fit; see discover_symmetries' trajectory_check)",
    )
    _fit_options(disc)
    _data_options(disc)
    disc.add_argument(
        "--json",
        action="store_true",
        help="machine-readable output (usable as --enforce FILE.json)",
    )
    disc.set_defaults(func=cmd_discover)

    score = sub.add_parser(
        "score",
        help="held-out errors of a saved model on trajectory data",
        description="R^2 and relative error of the model's derivatives, and the "
        "relative error of simulations from each trajectory's first state.",
    )
    score.add_argument("model", help="model JSON from 'fit --out'")
    score.add_argument("data", help="CSV or NPZ trajectory file")
    _data_options(score)
    score.add_argument("--json", action="store_true", help="machine-readable output")
    score.set_defaults(func=cmd_score)

    simulate = sub.add_parser(
        "simulate",
        help="integrate a saved model from an initial state",
        description="Print (or write) CSV with columns t and the state names.",
    )
    simulate.add_argument("model", help="model JSON from 'fit --out'")
    simulate.add_argument(
        "--x0", required=True, metavar="V0,V1,..", help="initial state, one per state"
    )
    simulate.add_argument(
        "--t",
        required=True,
        metavar="START:STOP:STEP",
        help="output times: START:STOP:STEP (STOP included when on the grid) or "
        "comma-separated increasing times",
    )
    simulate.add_argument("--out", help="CSV file (default: standard output)")
    simulate.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error
        return stop.code if isinstance(stop.code, int) else 0
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader (e.g. `head`) has gone: stop quietly, and point stdout at
        # devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (ValueError, TypeError, OSError, np.linalg.LinAlgError) as err:
        message = " ".join(str(err).split())
        print(f"symsindy: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
