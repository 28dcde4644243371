"""The evidence a discovery reports, checked line by line on known answers."""

import dataclasses
import math

import numpy as np

from symsindy import Monomials, datasets, discover_symmetries
from symsindy.discover.report import Verdict, _finite, power_reason


def _hopf_report():
    sys = datasets.get_system("hopf")
    C = sys.coefficients()
    return discover_symmetries(
        C, library=Monomials(2, sys.degree), discrete=None
    ).report


def test_finite_values_only():
    assert _finite(None) is None
    assert _finite(float("nan")) is None and _finite(np.inf) is None
    assert _finite(np.float64(0.25)) == 0.25 and isinstance(_finite(1), float)


def test_verdict_sentences():
    v = Verdict("continuous", "rotation", "symmetric", relative_lie_derivative=1e-3)
    assert v.sentence() == "rotation: relative Lie derivative 1.00e-03"
    v.verdict = "undetermined"
    assert v.sentence().endswith("; undetermined (the data cannot tell)")
    v.undetermine(power_reason(123.4))
    assert v.sentence().endswith(
        "; undetermined (the data detect only breakings over 123 times the "
        "model's size)"
    )


def test_bootstrap_frequencies_from_spectra_and_from_dimensions():
    report = _hopf_report()
    assert report.bootstrap_dim_frequency is None
    spectra = np.array([[1.0, 0.0], [1.0, 0.5], [1.0, 1e-9], [0.0, 0.0]])
    with_spectra = dataclasses.replace(
        report, bootstrap_relative_singular_values=spectra
    )
    # the exact rule's tol is ~1e-12: 1, 0, 0 and 2 directions at or below it
    assert with_spectra.bootstrap_dim_frequency == {0: 0.5, 1: 0.25, 2: 0.25}
    with_dims = dataclasses.replace(with_spectra, bootstrap_dims=np.array([1, 1, 1, 2]))
    assert with_dims.bootstrap_dim_frequency == {1: 0.75, 2: 0.25}
    assert "bootstrap: dim 1: 75%, dim 2: 25%" in with_dims.summary_lines()


def test_summary_of_the_coefficient_rule():
    report = _hopf_report()
    lines = report.summary_lines()
    assert lines[0].startswith("relative singular values (coefficients inner product")
    assert lines[1].startswith("closure residual: ")
    assert "generators snapped to exact values" in lines
    assert not any("likelihood-ratio" in line for line in lines)
    assert math.isnan(report.alpha)


def test_summary_of_the_likelihood_ratio_tests():
    import warnings

    import pysindy as ps

    sys = datasets.get_system("hopf")
    t = np.arange(0, sys.t_end / 2, sys.dt)
    xs = datasets.simulate(sys, 3, t, noise=0.01, seed=1)
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=3),
        optimizer=ps.STLSQ(threshold=0.1),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
    report = discover_symmetries(model, x=xs, t=t, discrete=None).report
    lines = report.summary_lines()
    assert lines[0] == "decided by likelihood-ratio tests at level alpha = 0.001"
    assert lines[1] == report.noise.describe()
    assert lines[2] == report.trajectory_check
    assert lines[2].startswith("checked on the runs: shooting fit of 3 runs")
    runs = report.group_trajectory.sentence()
    assert lines[3] == f"the returned group: {report.group_test.sentence()}; {runs}"
    assert report.signal_p_value < 1e-3
    assert not any("indistinguishable from noise" in line for line in lines)
    for v in report.verdicts:
        assert f"  {v.sentence()}" in lines
    quiet = dataclasses.replace(report, signal_p_value=0.5)
    assert any(
        "indistinguishable from noise (p = 0.5)" in s for s in quiet.summary_lines()
    )
