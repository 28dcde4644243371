import matplotlib.pyplot as plt
import numpy as np
import pytest

from symsindy import LieAlgebra, Monomials, SymmetryGroup, datasets, plotting


def test_coefficient_heatmaps_share_one_color_scale():
    sys = datasets.get_system("hopf")
    C = sys.coefficients()
    fig = plotting.plot_coefficients(
        {"true": C, "scaled": 2 * C}, Monomials(2, 3).names()
    )
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    assert images[0].get_clim() == images[1].get_clim() == (-2.0, 2.0)
    plt.close(fig)


def test_trajectory_plot_draws_data_and_each_model():
    xs = datasets.simulate("hopf", 2, np.linspace(0, 2, 50))
    fig = plotting.plot_trajectories(xs, {"model": xs})
    assert len(fig.axes[0].lines) == 4
    plt.close(fig)


def test_generators_plot_one_panel_per_generator():
    fig = plotting.plot_generators(SymmetryGroup(LieAlgebra.so(3)))
    assert sum(1 for ax in fig.axes if ax.images) == 3
    plt.close(fig)


def test_spectrum_needs_a_discovered_group():
    with pytest.raises(ValueError, match="not discovered"):
        plotting.plot_spectrum(SymmetryGroup(LieAlgebra.so(2)))


def test_spectrum_of_a_tested_discovery_quotes_the_evidence():
    """Statistic, dof, p-value (as the summary writes it), effect size and the
    noise, for each listed verdict."""
    from symsindy import discover_symmetries

    t = np.arange(0, 8, 0.01)
    G = discover_symmetries(datasets.simulate("hopf", 6, t, noise=0.01, seed=0), t=t)
    fig = plotting.plot_spectrum(G)
    text = "\n".join(tx.get_text() for ax in fig.axes for tx in ax.texts)
    assert text.startswith("noise ") and "% of the derivatives' RMS" in text
    assert f"effective samples {int(G.report.noise.n_effective.min())}" in text
    rotation = G.report.verdicts[0]
    assert rotation.verdict == "symmetric"
    assert (
        f"symmetric: T = {rotation.test.statistic:.3g} on {rotation.test.dof} dof, "
        f"p = {rotation.test.p_value:.2g}, +" in text
    )
    assert "broken: T = " in text and "p = < 1e-6" in text
    plt.close(fig)
