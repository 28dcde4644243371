import numpy as np
import pytest

from symsindy import datasets, discover_symmetries
from symsindy.polynomials import Monomials


@pytest.mark.parametrize("name", datasets.available())
def test_true_group_is_a_symmetry_of_the_true_model(name):
    """Every catalogued symmetry annihilates the Lie derivative / discrete residual."""
    from symsindy.equivariance import symmetry_constraints

    sys = datasets.get_system(name)
    K = symmetry_constraints(Monomials(sys.n, sys.degree), sys.symmetry)
    assert np.abs(K @ sys.coefficients().ravel()).max() < 1e-12


@pytest.mark.parametrize("name", ["hopf", "lorenz", "growth"])
def test_bundled_files_load_and_match_their_system(name):
    data = datasets.load(name)
    sys = datasets.get_system(str(data["system"]))
    np.testing.assert_array_equal(data["true_coefficients"], sys.coefficients())
    assert data["x"][0].shape == (len(data["t"]), sys.n)


def test_simulation_follows_the_vector_field():
    t = np.linspace(0, 1, 201)
    (tr,) = datasets.simulate("lorenz", 1, t, seed=0)
    sys = datasets.get_system("lorenz")
    deriv = np.gradient(tr, t, axis=0)[5:-5]
    np.testing.assert_allclose(deriv, sys.rhs(tr)[5:-5], rtol=0.05, atol=1.0)


def test_noise_level_is_relative_to_state_rms():
    t = np.linspace(0, 5, 500)
    clean = np.vstack(datasets.simulate("hopf", 3, t, seed=1))
    noisy = np.vstack(datasets.simulate("hopf", 3, t, seed=1, noise=0.1))
    rms = np.sqrt((clean**2).mean(axis=0))
    np.testing.assert_allclose((noisy - clean).std(axis=0) / rms, 0.1, rtol=0.1)


def test_bad_names_and_arguments():
    with pytest.raises(ValueError, match="unknown system"):
        datasets.get_system("pendulum")
    with pytest.raises(ValueError, match="no bundled dataset"):
        datasets.load("pendulum")
    with pytest.raises(ValueError, match="noise"):
        datasets.simulate("hopf", noise=-1)


def test_discovered_group_of_each_reference_system_matches_catalogue():
    for name in ["damped_oscillator", "hopf", "growth", "rotor3"]:
        sys = datasets.get_system(name)
        G = discover_symmetries(
            sys.coefficients(), library=Monomials(sys.n, sys.degree), discrete=None
        )
        assert G.dim == sys.symmetry.dim, name
