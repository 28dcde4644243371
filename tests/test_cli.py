"""The symsindy command: demo, fit, discover, and every error path."""

import json
import re

import numpy as np
import pytest
from helpers import duffing_trajectory

from symsindy import datasets
from symsindy.cli import main, parse_symmetry


@pytest.fixture(scope="module")
def hopf_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    t = np.arange(0, 6, 0.01)
    xs = datasets.simulate("hopf", 4, t, noise=0.01, seed=0)
    npz = root / "hopf.npz"
    np.savez(npz, t=t, x=np.stack(xs))
    csv = root / "hopf.csv"
    rows = ["trajectory,t,x,y"]
    for k, tr in enumerate(xs):
        rows += [f"{k},{ti},{a},{b}" for ti, (a, b) in zip(t, tr, strict=True)]
    csv.write_text("\n".join(rows))
    return root, npz, csv


@pytest.mark.slow
def test_demo_prints_group_and_writes_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "rotation in the (x, y) plane" in text
    assert "Symmetric SINDy" in text and "vector-field error" in text
    assert out.stat().st_size > 10_000
    plain, symmetric = (
        float(v) for v in re.findall(r"vector-field error ([0-9.]+)%", text)
    )
    factor = float(re.search(r"vector-field error: divides it by ([0-9.]+)", text)[1])
    assert factor == pytest.approx(plain / symmetric, rel=0.02)


@pytest.mark.parametrize("which", ["npz", "csv"])
def test_fit_with_enforced_rotation_writes_a_loadable_model(
    hopf_files, tmp_path, which, capsys
):
    from symsindy.io import load_model

    _, npz, csv = hopf_files
    out = tmp_path / "model.json"
    path = npz if which == "npz" else csv
    assert main(["fit", str(path), "--enforce", "so2:0,1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "rotation in the" in text
    model = load_model(out)
    assert model.optimizer.equivariance_residual() < 1e-10
    coef = np.asarray(model.coefficients())
    assert np.count_nonzero(coef) == 8


def test_fit_json_output_and_discover_from_model(hopf_files, tmp_path, capsys):
    _, npz, _ = hopf_files
    out = tmp_path / "m.json"
    assert main(["fit", str(npz), "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["discovered"]["dim"] == 1
    assert len(data["coefficients"]) == 2
    assert main(["discover", str(out), "--json"]) == 0
    group = json.loads(capsys.readouterr().out)
    assert group["dim"] == 1 and group["description"][0].startswith("rotation")


def test_fit_with_promotion_snaps_to_the_rotation(hopf_files, capsys):
    _, npz, _ = hopf_files
    assert main(["fit", str(npz), "--promote", "gl", "--threshold", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "Lie algebra of dimension 1" in out and "rotation" in out


def test_discover_on_data_prints_summary(hopf_files, capsys):
    _, _, csv = hopf_files
    assert main(["discover", str(csv)]) == 0
    assert "Lie algebra of dimension 1" in capsys.readouterr().out


def test_parse_symmetry_specs():
    G = parse_symmetry(["so2:0,1", "reflect:2", "scaling:2,1,1"], 3)
    assert G.dim == 2 and len(G.discrete) == 1
    np.testing.assert_array_equal(G.discrete[0], np.diag([1.0, 1, -1]))
    assert parse_symmetry(["perm:1,0"], 2).order == 2


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "missing.csv"], "does not exist"),
        (["fit", "{bad_ext}"], "unsupported data file"),
        (["fit", "{no_time}"], "no time column"),
        (["fit", "{nan_rows}"], "line 8, column 'a': missing value"),
        (["fit", "{text_cell}"], "non-numeric"),
        (["fit", "{npz}", "--enforce", "so3:0,1"], "so(3) needs 3"),
        (["fit", "{npz}", "--enforce", "so3:0,1,2"], "in 0..1"),
        (["fit", "{npz}", "--enforce", "so2:0,5"], "coordinates must be"),
        (["fit", "{npz}", "--enforce", "scaling:2,1,1"], "need 2 weights"),
        (["fit", "{npz}", "--enforce", "twist:0"], "unknown symmetry"),
        (["fit", "{npz}", "--enforce", "{gens}"], "(2, 2) matrices"),
        (["discover", "{bad_json}"], "cannot read model file"),
        (["discover", "{npz}", "--candidates", "foo"], "invalid choice: 'foo'"),
    ],
)
def test_every_error_path_exits_2_with_one_clear_line(
    hopf_files, tmp_path, capsys, args, message
):
    _, npz, _ = hopf_files
    t = np.arange(10) * 0.1
    subs = {
        "npz": str(npz),
        "bad_ext": _write(tmp_path, "data.xlsx", "x"),
        "no_time": _write(
            tmp_path, "a.csv", "a,b\n" + "\n".join(f"{v},{v}" for v in t)
        ),
        "nan_rows": _write(
            tmp_path,
            "b.csv",
            "t,a\n" + "\n".join(f"{v},{'nan' if v > 0.5 else v}" for v in t),
        ),
        "text_cell": _write(tmp_path, "c.csv", "t,a\n0,1\n1,hello\n2,3\n"),
        "bad_json": _write(tmp_path, "m.json", "{not json"),
    }
    gens = tmp_path / "g.npy"
    np.save(gens, np.zeros((1, 3, 3)))
    subs["gens"] = str(gens)
    argv = [a.format(**subs) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symsindy: error:") and message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_python_dash_m_entry_point_runs():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "symsindy", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "demo" in proc.stdout


# ----------------------------------------------------------- issue 15 items
def _csv(path, header, rows):
    lines = [",".join(header)] + [",".join(repr(float(v)) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _hopf_rows(n_traj=3, t=None, seed=0):
    t = np.arange(0, 6, 0.01) if t is None else t
    xs = datasets.simulate("hopf", n_traj, t, noise=0.01, seed=seed)
    return t, xs


def _fit_json(capsys, argv):
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("suffix", ["csv", "npz"])
def test_output_over_the_input_is_refused_and_the_input_kept(tmp_path, capsys, suffix):
    t, xs = _hopf_rows(2)
    path = tmp_path / f"data.{suffix}"
    if suffix == "npz":
        np.savez(path, t=t, x=np.stack(xs))
    else:
        rows = [
            (k, ti, *x) for k, tr in enumerate(xs) for ti, x in zip(t, tr, strict=True)
        ]
        _csv(path, ["trajectory", "t", "x", "y"], rows)
    before = path.read_bytes()
    alias = tmp_path / "sub" / ".." / f"data.{suffix}"
    (tmp_path / "sub").mkdir()
    for out in (path, alias):
        assert main(["fit", str(path), "--out", str(out)]) == 2
        assert "input of this command" in capsys.readouterr().err
        assert path.read_bytes() == before


def test_fit_on_random_time_stamps_recovers_the_exact_model(tmp_path, capsys):
    """Exact Duffing data at random times (pysindy's smoother gave hundreds)."""

    rng = np.random.default_rng(0)
    rows = []
    for k in range(3):
        tt = np.sort(rng.uniform(0, 8, 800))
        traj = duffing_trajectory(tt, rng.uniform(-2, 2, 2))
        rows += [(k, ti, *z) for ti, z in zip(tt, traj, strict=True)]
    path = _csv(tmp_path / "duffing.csv", ["run", "time", "x", "v"], rows)
    out = _fit_json(capsys, ["fit", path, "--json", "--threshold", "0.02"])
    coef = np.array(out["coefficients"])
    true = np.zeros((2, 10))
    true[0, 2] = 1.0
    true[1, [1, 2, 6]] = [-1.0, -0.1, -1.0]
    np.testing.assert_allclose(coef, true, atol=0.01)
    assert out["feature_names"] == ["x", "v"]


@pytest.mark.parametrize(
    "times, message",
    [
        ([0, 1, 1, 3, 4, 5], "line 4: time 1 repeats the previous row"),
        ([0, 1, 3, 2, 4, 5], "line 5: time decreases (2 after 3)"),
    ],
)
def test_bad_time_column_names_the_file_and_line(tmp_path, capsys, times, message):
    rows = [(ti, np.sin(ti), np.cos(ti)) for ti in times + list(range(6, 20))]
    path = _csv(tmp_path / "d.csv", ["t", "x", "y"], rows)
    assert main(["fit", path]) == 2
    err = capsys.readouterr().err
    assert "d.csv: " + message in err


def test_time_reset_without_id_splits_the_runs_and_says_so(tmp_path, capsys):
    t, xs = _hopf_rows(3)
    rows = [(ti, *x) for tr in xs for ti, x in zip(t, tr, strict=True)]
    path = _csv(tmp_path / "runs.csv", ["t", "x", "y"], rows)
    assert main(["fit", path]) == 0
    captured = capsys.readouterr()
    assert "time starts again at line(s) [602, 1202]" in captured.err
    assert "read as 3 separate runs" in captured.err
    assert "rotation in the (x, y) plane" in captured.out


def test_id_column_is_a_trajectory_and_not_a_state(tmp_path, capsys):
    t, xs = _hopf_rows(3)
    rows = [(k, ti, *x) for k, tr in enumerate(xs) for ti, x in zip(t, tr, strict=True)]
    path = _csv(tmp_path / "d.csv", ["id", "t", "x", "y"], rows)
    out = _fit_json(capsys, ["fit", path, "--json"])
    assert out["feature_names"] == ["x", "y"] and out["discovered"]["dim"] == 1


def test_constant_column_is_refused_by_name_and_states_option_selects(tmp_path, capsys):
    t, xs = _hopf_rows(3)
    rows = [
        (k, 21.5, ti, *x)
        for k, tr in enumerate(xs)
        for ti, x in zip(t, tr, strict=True)
    ]
    path = _csv(tmp_path / "d.csv", ["trajectory", "temperature", "t", "x", "y"], rows)
    assert main(["fit", path]) == 2
    assert "column(s) ['temperature'] are constant" in capsys.readouterr().err
    out = _fit_json(capsys, ["fit", path, "--json", "--states", "x,y"])
    assert out["feature_names"] == ["x", "y"] and out["discovered"]["dim"] == 1


def test_time_and_trajectory_options_name_unusual_columns(tmp_path, capsys):
    t, xs = _hopf_rows(3)
    rows = [(k, ti, *x) for k, tr in enumerate(xs) for ti, x in zip(t, tr, strict=True)]
    path = _csv(tmp_path / "d.csv", ["batch", "seconds", "x", "y"], rows)
    assert main(["fit", path]) == 2
    assert "no time column" in capsys.readouterr().err
    argv = ["fit", path, "--json", "--time", "seconds", "--trajectory", "batch"]
    assert _fit_json(capsys, argv)["feature_names"] == ["x", "y"]


def test_utf8_bom_is_stripped(tmp_path, capsys):
    t, xs = _hopf_rows(1)
    path = tmp_path / "bom.csv"
    _csv(path, ["t", "x", "y"], [(ti, *x) for ti, x in zip(t, xs[0], strict=True)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _fit_json(capsys, ["fit", str(path), "--json"])["feature_names"] == [
        "x",
        "y",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("t,x,y\n0,1,2\n1,2\n2,3,4\n", "line 3 has 2 field(s), the header has 3"),
        ("t,x\n0,1\n1,inf\n2,3\n", "line 3, column 'x': infinite value 'inf'"),
        ("t,x\n0,1\n1,\n2,3\n", "line 3, column 'x': missing value"),
        (",t,x\n0,0,1\n1,1,2\n2,2,3\n", "position [1] have no name"),
        (
            "t,x\n" + "\n".join(f"{i},{i * i}" for i in range(6)),
            "trajectory 0 has 6 samples; the smoothed derivative needs at least 11",
        ),
    ],
)
def test_malformed_csv_is_an_error_with_its_line(tmp_path, capsys, text, message):
    path = _write(tmp_path, "d.csv", text)
    assert main(["fit", path]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_binary_and_fake_npz_files_get_clear_messages(tmp_path, capsys):
    binary = tmp_path / "b.csv"
    binary.write_bytes(bytes(range(256)))
    fake = _write(tmp_path, "f.npz", "t,x\n0,1\n")
    assert main(["fit", str(binary)]) == 2
    assert "b.csv: a binary file, not CSV text" in capsys.readouterr().err
    assert main(["fit", fake]) == 2
    assert "f.npz: not an NPZ archive" in capsys.readouterr().err


@pytest.mark.parametrize("threshold", ["nan", "inf", "-1", "abc"])
def test_threshold_must_be_a_finite_nonnegative_number(hopf_files, capsys, threshold):
    _, npz, _ = hopf_files
    assert main(["fit", str(npz), "--threshold", threshold]) == 2
    assert "argument --threshold" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["fit", "discover"])
def test_zero_model_is_an_error_with_a_working_suggested_threshold(
    hopf_files, capsys, command
):
    import re

    _, npz, _ = hopf_files
    assert main([command, str(npz), "--threshold", "50"]) == 2
    err = capsys.readouterr().err
    assert "removed every term" in err and "no meaningful symmetry" in err
    suggested = re.search(r"try --threshold (\S+)", err).group(1)
    assert main([command, str(npz), "--threshold", suggested]) == 0
    assert "Lie algebra of dimension" in capsys.readouterr().out


def _mapped(coef, state_scale, time_scale, degree=3):
    """Coefficients after x -> state_scale * x, t -> time_scale * t (analytic)."""
    from symsindy import Monomials

    s = np.asarray(state_scale, dtype=float)
    mono = np.prod(s[None, :] ** Monomials(len(s), degree).exponents, axis=1)
    return np.asarray(coef) * s[:, None] / (time_scale * mono[None, :])


@pytest.mark.parametrize(
    "state_scale, time_scale",
    [([1000.0, 1000.0], 1.0), ([1.0, 1.0], 1000.0), ([1000.0, 1000.0], 1000.0)],
)
def test_units_do_not_change_the_model_or_the_symmetry(
    tmp_path, capsys, state_scale, time_scale
):
    """mm instead of m and ms instead of s: the same model, mapped to the units."""
    t, xs = _hopf_rows(3)
    base = tmp_path / "m.npz"
    np.savez(base, t=t, x=np.stack(xs))
    scaled = tmp_path / "mm.npz"
    np.savez(scaled, t=t * time_scale, x=np.stack(xs) * np.asarray(state_scale))
    ref = _fit_json(capsys, ["fit", str(base), "--json"])
    new = _fit_json(capsys, ["fit", str(scaled), "--json"])
    expected = _mapped(ref["coefficients"], state_scale, time_scale)
    np.testing.assert_allclose(new["coefficients"], expected, rtol=1e-6, atol=0)
    assert new["discovered"]["dim"] == ref["discovered"]["dim"] == 1
    assert np.count_nonzero(new["coefficients"]) == 8


def test_mixed_units_per_coordinate_give_the_same_model(tmp_path, capsys):
    t, xs = _hopf_rows(3)
    base, mixed = tmp_path / "a.npz", tmp_path / "b.npz"
    np.savez(base, t=t, x=np.stack(xs))
    np.savez(mixed, t=t, x=np.stack(xs) * [1.0, 1000.0])
    ref = _fit_json(capsys, ["fit", str(base), "--json"])
    new = _fit_json(capsys, ["fit", str(mixed), "--json"])
    expected = _mapped(ref["coefficients"], [1.0, 1000.0], 1.0)
    np.testing.assert_allclose(new["coefficients"], expected, rtol=1e-6, atol=0)


def test_raw_units_keeps_the_old_thresholding(hopf_files, capsys):
    _, npz, _ = hopf_files
    out = _fit_json(capsys, ["fit", str(npz), "--json", "--raw-units"])
    assert out["units"] == "raw" and np.count_nonzero(out["coefficients"]) == 8


def test_version_and_option_rules(hopf_files, capsys):
    import symsindy

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"symsindy {symsindy.__version__}"
    _, npz, _ = hopf_files
    assert main(["fit", str(npz), "--sym-weight", "1e-3"]) == 2
    assert "--sym-weight applies only with --promote" in capsys.readouterr().err
    assert main(["fit", str(npz), "--promote", "foo"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["fit", str(npz), "--enforce", "scaling:1,x"]) == 2
    assert "expected comma-separated numbers, got '1,x'" in capsys.readouterr().err


def test_translation_symmetry_is_enforced(tmp_path, capsys):
    """x' = v, v' = -0.5 v does not depend on x: translation along x."""
    t = np.arange(0, 5, 0.01)
    rng = np.random.default_rng(0)
    xs = []
    for x0, v0 in rng.uniform(-1, 1, (3, 2)):
        v = v0 * np.exp(-0.5 * t)
        xs.append(np.c_[x0 + 2 * v0 * (1 - np.exp(-0.5 * t)), v])
    path = tmp_path / "p.npz"
    np.savez(path, t=t, x=np.stack(xs), names=np.array(["x", "v"]))
    out = tmp_path / "m.json"
    argv = ["fit", str(path), "--enforce", "translation:0", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    from symsindy.io import load_model

    model = load_model(out)
    coef = np.asarray(model.coefficients())
    # no term may contain x (library order 1, x, v, x^2, x v, v^2, ...)
    from symsindy import Monomials

    uses_x = Monomials(2, 3).exponents[:, 0] > 0
    assert np.all(coef[:, uses_x] == 0)
    np.testing.assert_allclose(coef[:, 2], [1.0, -0.5], atol=1e-3)


def test_discover_json_feeds_back_as_the_enforced_symmetry(
    hopf_files, tmp_path, capsys
):
    _, npz, _ = hopf_files
    assert main(["discover", str(npz), "--json"]) == 0
    found = tmp_path / "found.json"
    found.write_text(capsys.readouterr().out)
    fit_out = tmp_path / "fit.json"
    model_file = tmp_path / "m.json"
    argv = [
        "fit",
        str(npz),
        "--enforce",
        str(found),
        "--json",
        "--out",
        str(model_file),
    ]
    fit_out.write_text(json.dumps(_fit_json(capsys, argv)))
    from symsindy.io import load_model

    model = load_model(model_file)
    assert model.optimizer.symmetry_.dim == 1
    assert model.optimizer.equivariance_residual() < 1e-10
    for source in (fit_out, model_file):  # 'fit --json' output and a model file
        assert main(["fit", str(npz), "--enforce", str(source)]) == 0
        assert "rotation" in capsys.readouterr().out


def test_discrete_elements_from_npy(hopf_files, tmp_path, capsys):
    _, npz, _ = hopf_files
    elements = tmp_path / "R.npy"
    np.save(elements, -np.eye(2)[None])
    out = tmp_path / "m.json"
    argv = ["fit", str(npz), "--enforce", f"discrete:{elements}", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    from symsindy import Monomials
    from symsindy.io import load_model

    model = load_model(out)
    np.testing.assert_array_equal(model.optimizer.symmetry_.discrete[0], -np.eye(2))
    even = Monomials(2, 3).degrees % 2 == 0  # x -> -x forbids even terms
    assert np.all(np.asarray(model.coefficients())[:, even] == 0)


@pytest.mark.slow
def test_fit_prints_goodness_of_fit_and_score_and_simulate_work(tmp_path, capsys):
    t, xs = _hopf_rows(6)
    train, test = tmp_path / "train.npz", tmp_path / "test.npz"
    np.savez(train, t=t, x=np.stack(xs[:4]), names=np.array(["x", "y"]))
    np.savez(test, t=t, x=np.stack(xs[4:]), names=np.array(["x", "y"]))
    model_file = tmp_path / "m.json"
    assert main(["fit", str(train), "--out", str(model_file)]) == 0
    assert "goodness of fit (training data): R^2 = 0.9" in capsys.readouterr().out
    scores = _fit_json(capsys, ["score", str(model_file), str(test), "--json"])
    assert scores["r2"] > 0.9
    assert scores["relative_simulation_error"] < 0.05
    assert scores["n_samples"] == 2 * len(t)

    from symsindy.io import load_model

    grid = "0:1:0.1"
    assert main(["simulate", str(model_file), "--x0", "1,0", "--t", grid]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "t,x,y" and len(lines) == 12
    values = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_allclose(values[:, 0], np.linspace(0, 1, 11), atol=1e-12)
    expected = load_model(model_file).simulate(np.array([1.0, 0.0]), values[:, 0])
    np.testing.assert_allclose(values[:, 1:], expected, rtol=1e-6, atol=1e-9)
    assert main(["simulate", str(model_file), "--x0", "1", "--t", grid]) == 2
    assert "expected 2 finite numbers" in capsys.readouterr().err


@pytest.mark.slow
def test_closed_pipe_ends_quietly(tmp_path):
    import subprocess
    import sys

    t, xs = _hopf_rows(2)
    data = tmp_path / "d.npz"
    np.savez(data, t=t, x=np.stack(xs))
    model = tmp_path / "m.json"
    assert main(["fit", str(data), "--out", str(model)]) == 0
    cmd = (
        f"{sys.executable} -m symsindy simulate {model} --x0 1,0 --t 0:5:0.0005 "
        "| head -2"
    )
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    assert proc.stdout.splitlines()[0] == "t,x0,x1"
    assert proc.stderr == ""


def test_demo_figure_compares_heldout_truth_and_says_which_fit_wins():
    import matplotlib.pyplot as plt

    from symsindy import LieAlgebra, SymmetryGroup, discover_symmetries
    from symsindy.plotting import plot_heldout_comparison, plot_spectrum

    t = np.linspace(0, 1, 50)
    truth = np.c_[np.cos(t), np.sin(t)]
    fig = plot_heldout_comparison(
        t,
        truth,
        {"plain": truth * 1.04, "symmetric": truth * 1.01},
        ["u", "w"],
        field_errors={"plain": 0.02, "symmetric": 0.005},
    )
    portrait = fig.axes[1]
    assert "symmetric fit is better" in portrait.get_title()
    assert "0.50% vs 2.00% for plain (4.00x smaller)" in portrait.get_title()
    assert portrait.get_xlabel() == "u" and portrait.get_ylabel() == "w"
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert "true u" in labels and "symmetric w" in labels
    plt.close(fig)
    coef = datasets.get_system("hopf").coefficients()
    from symsindy import Monomials

    group = discover_symmetries(coef, library=Monomials(2, 3), discrete=None, x=truth)
    fig = plot_spectrum(group)
    ticks = fig.axes[0].get_xticks()
    assert np.all(ticks == np.round(ticks))
    plt.close(fig)
    assert isinstance(SymmetryGroup(LieAlgebra.so(2)), SymmetryGroup)


def test_discover_takes_the_level_margin_and_rows_of_the_tests(hopf_files, capsys):
    _, npz, _ = hopf_files
    default = _fit_json(capsys, ["discover", str(npz), "--json"])
    assert default["noise"]["margin"] == 0.003
    assert default["noise"]["rows"].startswith("integral rows")
    chosen = _fit_json(
        capsys,
        ["discover", str(npz), "--json", "--rows", "derivatives", "--margin", "0"],
    )
    assert chosen["noise"]["margin"] == 0.0
    assert chosen["noise"]["rows"] == "derivative rows"
    assert chosen["alpha"] == 1e-3
    strict = _fit_json(capsys, ["discover", str(npz), "--json", "--alpha", "0.2"])
    assert strict["alpha"] == 0.2
    assert default["trajectory_check"].startswith("checked on the runs: shooting")
    unchecked = _fit_json(
        capsys, ["discover", str(npz), "--json", "--no-trajectory-check"]
    )
    assert unchecked["trajectory_check"] is None
