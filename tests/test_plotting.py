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
