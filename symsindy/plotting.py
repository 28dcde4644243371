"""Figures: spectra, generators, coefficients and trajectories (matplotlib)."""

from __future__ import annotations

import numpy as np

from .inference import format_p

__all__ = [
    "plot_spectrum",
    "plot_generators",
    "plot_group",
    "plot_coefficients",
    "plot_trajectories",
    "plot_heldout_comparison",
    "relative_rms_error",
]


def _figure(axes, ncols=1, figsize=(5, 3.5)):
    import matplotlib.pyplot as plt

    if axes is not None:
        return axes[0].figure, list(axes)
    fig, axs = plt.subplots(1, ncols, figsize=figsize, squeeze=False)
    return fig, list(axs[0])


def plot_spectrum(group, ax=None, label=None):
    """Relative singular values on a log axis with the rank threshold drawn."""
    if group.report is None:
        raise ValueError("this group was not discovered: it has no spectrum")
    fig, (ax,) = _figure([ax] if ax is not None else None)
    rep = group.report
    s = np.maximum(rep.relative_singular_values, 1e-17)
    idx = np.arange(1, len(s) + 1)
    ax.semilogy(idx, s, "o-", label=label or "relative singular values")
    if rep.bootstrap_relative_singular_values is not None:
        boot = np.maximum(rep.bootstrap_relative_singular_values, 1e-17)
        lo, hi = np.percentile(boot, [5, 95], axis=0)
        ax.fill_between(idx, lo, hi, alpha=0.3, label="bootstrap 5-95%")
    if np.isfinite(rep.tol):
        ax.axhline(rep.tol, color="k", ls="--", lw=1, label=f"tol = {rep.tol:.0e}")
    else:
        _annotate_tests(ax, group)
    ax.set_yscale("log")
    ax.set_xlabel("candidate direction (sorted)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(r"$\sigma_i / \|F\|$")
    ax.set_title(f"symmetry spectrum: dim {group.dim}")
    ax.legend(fontsize="small")
    return fig


#: Verdicts written on the spectrum plot (the rest are in the summary).
_LISTED = 6


def _verdict_line(v) -> str:
    """``"symmetric: T = 21.7 on 14 dof, p = 0.76, +11.8%; rotation in ..."``
    (with the runs' score test when they were consulted)."""
    if v.test is None:
        return f"{v.verdict}: untested: {v.description[:32]}"
    t = v.test
    runs = ""
    if v.trajectory is not None:
        r = v.trajectory
        runs = f"runs: S = {r.statistic:.3g}, p = {format_p(r.p_value)}; "
    return (
        f"{v.verdict}: T = {t.statistic:.3g} on {t.dof} dof, "
        f"p = {format_p(t.p_value)}, +{100 * t.relative_increase:.2g}%; {runs}"
        f"{v.description[:32]}"
    )


def _annotate_tests(ax, group) -> None:
    """Decided by tests: mark the accepted dimension and list the p-values."""
    rep = group.report
    q = len(rep.relative_singular_values)
    if group.dim:
        ax.axvspan(
            q - group.dim + 0.5,
            q + 0.5,
            color="tab:green",
            alpha=0.15,
            label=f"accepted: dim {group.dim} (alpha = {rep.alpha:g})",
        )
    lines = []
    if rep.noise is not None:
        lines.append(rep.noise.describe().split("; autocorrelation")[0])
        lines.append(f"effective samples {int(rep.noise.n_effective.min())}")
    for v in rep.verdicts[:_LISTED]:
        lines.append(_verdict_line(v))
    if len(rep.verdicts) > _LISTED:
        lines.append(f"... {len(rep.verdicts) - _LISTED} more: see group.summary()")
    if lines:
        ax.text(
            0.02,
            0.02,
            "\n".join(lines),
            transform=ax.transAxes,
            fontsize=6,
            family="monospace",
            va="bottom",
        )


def plot_generators(group, axes=None):
    """Each discovered linear generator as a matrix heat-map."""
    gens = group.generators if group.algebra.is_linear else group.algebra.coefficients
    k = max(len(gens), 1)
    fig, axs = _figure(axes, ncols=k, figsize=(2.6 * k, 2.6))
    for ax, G in zip(axs, gens, strict=False):
        vmax = np.abs(G).max() or 1.0
        ax.imshow(G, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
    if not len(gens):
        axs[0].text(0.5, 0.5, "no generators", ha="center", va="center")
        axs[0].set_axis_off()
    return fig


def plot_group(group, axes=None):
    """Spectrum (if discovered) next to the generators."""
    import matplotlib.pyplot as plt

    if axes is None:
        k = max(group.dim, 1)
        fig = plt.figure(figsize=(4.5 + 2.4 * k, 3.5))
        grid = fig.add_gridspec(1, 1 + k, width_ratios=[2] + [1] * k)
        axes = [fig.add_subplot(grid[0, i]) for i in range(1 + k)]
    fig = axes[0].figure
    if group.report is not None:
        plot_spectrum(group, ax=axes[0])
    else:
        axes[0].set_axis_off()
    plot_generators(group, axes=axes[1:])
    fig.tight_layout()
    return fig


def plot_coefficients(coefs: dict, feature_names, target_names=None, axes=None):
    """Side-by-side heat-maps of coefficient matrices, e.g. plain vs symmetric."""
    fig, axs = _figure(
        axes,
        ncols=len(coefs),
        figsize=(3.2 * len(coefs), 0.3 * len(feature_names) + 1.5),
    )
    vmax = max(np.abs(c).max() for c in coefs.values()) or 1.0
    for ax, (title, c) in zip(axs, coefs.items(), strict=True):
        im = ax.imshow(
            np.asarray(c).T, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto"
        )
        ax.set_yticks(range(len(feature_names)), feature_names, fontsize="small")
        names = target_names or [f"x{i}'" for i in range(np.shape(c)[0])]
        ax.set_xticks(range(len(names)), names)
        ax.set_title(title)
    fig.colorbar(im, ax=axs)
    return fig


def plot_trajectories(data, predictions: dict, axes=None):
    """Phase portraits (first two states) of data and model simulations."""
    fig, (ax,) = _figure(axes)
    for k, tr in enumerate(data):
        ax.plot(tr[:, 0], tr[:, 1], color="0.6", lw=2, label="data" if k == 0 else None)
    for (label, trajs), color in zip(
        predictions.items(), ["C0", "C3", "C2", "C1"], strict=False
    ):
        for k, tr in enumerate(trajs):
            ax.plot(
                tr[:, 0],
                tr[:, 1],
                "--",
                color=color,
                lw=1,
                label=label if k == 0 else None,
            )
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.legend(fontsize="small")
    return fig


def relative_rms_error(prediction, truth) -> float:
    """``||prediction - truth|| / ||truth||`` over all samples and states."""
    prediction, truth = np.asarray(prediction), np.asarray(truth)
    if prediction.shape != truth.shape:
        return float("inf")  # a simulation that stopped early (diverged)
    return float(np.linalg.norm(prediction - truth) / np.linalg.norm(truth))


def plot_heldout_comparison(
    t, truth, predictions: dict, names, data=None, field_errors=None, axes=None
):
    """A held-out trajectory: the truth beside each model's simulation.

    Left: every state against time; right: the phase portrait of the first two
    states. Each model's relative RMS simulation error against ``truth`` is in
    the legend; the title says which model is better and by what factor,
    judged by ``field_errors`` when given (simulation errors are dominated by
    phase drift on oscillators) and by the simulation errors otherwise.

    Parameters
    ----------
    t : array (n_times,)
    truth : array (n_times, n)
        The true trajectory (e.g. the true system from the same initial state).
    predictions : dict label -> array (n_times, n)
    names : list of str
        State names (the same as in printed equations).
    data : array (n_times, n), optional
        Measured (noisy) samples, drawn as dots.
    field_errors : dict label -> float, optional
        Held-out vector-field errors of the models.
    """
    fig, axs = _figure(axes, ncols=2, figsize=(10, 4))
    sim_errors = {k: relative_rms_error(v, truth) for k, v in predictions.items()}
    styles, colors = ["--", ":", "-."], ["C3", "C0", "C2", "C1"]
    ax_t, ax_p = axs[0], axs[1]
    for j, name in enumerate(names):
        shade = 0.25 + 0.45 * j / max(len(names) - 1, 1)
        ax_t.plot(t, truth[:, j], color=str(shade), lw=2.4, label=f"true {name}")
        if data is not None:
            ax_t.plot(t, data[:, j], ".", color="0.75", ms=2)
    ax_p.plot(truth[:, 0], truth[:, 1], color="0.35", lw=2.4, label="true")
    if data is not None:
        ax_p.plot(data[:, 0], data[:, 1], ".", color="0.75", ms=2, label="data")
    for k, (label, sim) in enumerate(predictions.items()):
        sim = np.asarray(sim)
        style, color = styles[k % 3], colors[k % 4]
        for j, name in enumerate(names):
            ax_t.plot(
                t[: len(sim)],
                sim[:, j],
                style,
                color=color,
                lw=1.4,
                label=f"{label} {name}",
            )
        ax_p.plot(
            sim[:, 0],
            sim[:, 1],
            style,
            color=color,
            lw=1.4,
            label=f"{label}: simulation error {sim_errors[label]:.2%}",
        )
    low, high = ax_t.get_ylim()
    ax_t.set_ylim(low, high + 0.35 * (high - low))  # room for the legend
    ax_t.legend(fontsize="x-small", ncol=len(predictions) + 1, loc="upper center")
    ax_t.set_xlabel("t")
    ax_t.set_ylabel(", ".join(names))
    ax_t.set_title("held-out trajectory: truth and simulations from its first state")
    ax_p.set_xlabel(names[0])
    ax_p.set_ylabel(names[1] if len(names) > 1 else "")
    ax_p.legend(fontsize="small", loc="center")
    judged, what = (
        (field_errors, "vector-field error")
        if field_errors
        else (sim_errors, "simulation error")
    )
    ranked = sorted(judged, key=judged.get)
    if len(ranked) >= 2:
        best, worst = ranked[0], ranked[-1]
        factor = judged[worst] / max(judged[best], 1e-300)
        ax_p.set_title(
            f"{best} fit is better: held-out {what}\n{judged[best]:.2%} vs "
            f"{judged[worst]:.2%} for {worst} ({factor:.2f}x smaller)"
        )
    return fig
