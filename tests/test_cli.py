"""The symsindy command: demo, fit, discover, and every error path."""

import json

import numpy as np
import pytest

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


def test_demo_prints_group_and_writes_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "rotation in the (x, y) plane" in text
    assert "Symmetric SINDy" in text and "vector-field error" in text
    assert out.stat().st_size > 10_000


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
        (["fit", "{nan_rows}"], "NaN or missing"),
        (["fit", "{text_cell}"], "non-numeric"),
        (["fit", "{npz}", "--enforce", "so3:0,1"], "so(3) needs 3"),
        (["fit", "{npz}", "--enforce", "so3:0,1,2"], "in 0..1"),
        (["fit", "{npz}", "--enforce", "so2:0,5"], "coordinates must be"),
        (["fit", "{npz}", "--enforce", "scaling:2,1,1"], "need 2 weights"),
        (["fit", "{npz}", "--enforce", "twist:0"], "unknown symmetry"),
        (["fit", "{npz}", "--enforce", "{gens}"], "(2, 2) matrices"),
        (["discover", "{bad_json}"], "cannot read model file"),
        (["discover", "{npz}", "--candidates", "foo"], "unknown candidate algebra"),
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


def test_python_dash_m_entry_point_runs():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "symsindy", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "demo" in proc.stdout
