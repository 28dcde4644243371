import json

import numpy as np
import pysindy as ps
import pytest

from symsindy import EquivariantSTLSQ, LieAlgebra, SymmetryGroup, datasets
from symsindy.io import load_model, model_to_dict, save_model


def test_model_round_trips_through_json(tmp_path):
    t = np.arange(0, 4, 0.01)
    xs = datasets.simulate("hopf", 3, t, seed=0)
    model = ps.SINDy(
        optimizer=EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.1),
        feature_library=ps.PolynomialLibrary(degree=3),
    )
    model.fit(xs, t=t)
    path = tmp_path / "m.json"
    save_model(model, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.coefficients(), model.coefficients())
    x = np.vstack(xs)[:50]
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    assert loaded.equations() == model.equations()
    assert loaded.optimizer.symmetry_.dim == 1
    assert loaded.optimizer.equivariance_residual() < 1e-12
    sim = loaded.simulate(xs[0][0], t[:50])
    np.testing.assert_allclose(sim, model.simulate(xs[0][0], t[:50]), rtol=1e-8)


def test_symmetry_group_round_trips_through_json():
    g = SymmetryGroup(
        LieAlgebra.so(3) + LieAlgebra.scaling(3), discrete=[np.diag([-1.0, 1, 1])]
    )
    again = SymmetryGroup.from_dict(json.loads(json.dumps(g.to_dict())))
    np.testing.assert_array_equal(again.generators, g.generators)
    np.testing.assert_array_equal(again.discrete[0], g.discrete[0])
    assert str(again) == str(g)


def test_loading_rejects_foreign_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a symsindy model"):
        load_model(path)
    with pytest.raises(ValueError, match="valid symmetry group"):
        SymmetryGroup.from_dict({"n": 2})


def test_plain_models_save_without_symmetry():
    t = np.arange(0, 2, 0.01)
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2))
    model.fit(datasets.simulate("growth", 2, t), t=t)
    data = model_to_dict(model)
    assert data["symmetry"] is None
    assert isinstance(load_model(data).optimizer, ps.STLSQ)


# ------------------------------------------------ schema, atomic writes, names
def _saved(tmp_path, names=("u", "w")):
    t = np.arange(0, 4, 0.01)
    xs = datasets.simulate("hopf", 3, t, seed=0)
    model = ps.SINDy(
        optimizer=EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.1),
        feature_library=ps.PolynomialLibrary(degree=3),
    )
    model.fit(xs, t=t, feature_names=list(names))
    path = tmp_path / "m.json"
    save_model(model, path)
    return model, path, json.loads(path.read_text())


def test_saved_file_carries_format_and_schema_version(tmp_path):
    from symsindy.schema import MODEL_FORMAT, SCHEMA_VERSION

    _, _, data = _saved(tmp_path)
    assert data["format"] == MODEL_FORMAT and data["schema_version"] == SCHEMA_VERSION


def test_loading_keeps_coordinate_names_for_the_symmetry(tmp_path):
    _, path, _ = _saved(tmp_path)
    loaded = load_model(path)
    assert loaded.feature_names == ["u", "w"]
    assert loaded.optimizer.symmetry_.coordinate_names == ["u", "w"]
    assert "rotation in the (u, w) plane" in str(loaded.optimizer.symmetry_)


def test_version_1_files_still_load(tmp_path):
    model, _, data = _saved(tmp_path)
    data["format"] = "symsindy-model-1"
    del data["schema_version"]
    np.testing.assert_array_equal(load_model(data).coefficients(), model.coefficients())


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("degree"), "'degree' must be an integer >= 1, got None"),
        (
            lambda d: d.update(feature_names=["u"]),
            "'feature_names' must be a list of 2 names (one per state)",
        ),
        (
            lambda d: d["coefficients"].pop(),
            "'coefficients' must be a 2 x 10 array of numbers, got shape (1, 10)",
        ),
        (
            lambda d: d["coefficients"][0].__setitem__(3, "x"),
            "'coefficients' must be a 2 x 10 array of numbers",
        ),
        (
            lambda d: d.update(include_bias="yes"),
            "'include_bias' must be true or false",
        ),
        (lambda d: d.update(schema_version=9), "schema_version 9 is not supported"),
        (
            lambda d: d["symmetry"]["algebra"].update(coefficients=[[[0, 1]]]),
            "algebra.coefficients' must be a 1 x 2 x 3 array",
        ),
        (
            lambda d: d["coefficients"][0].__setitem__(1, 5.0),
            "the stored coefficients break the stored symmetry",
        ),
    ],
)
def test_hand_edited_model_files_get_one_clear_error(tmp_path, edit, message):
    _, path, data = _saved(tmp_path)
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError) as info:
        load_model(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_list_at_top_level_is_not_a_model(tmp_path):
    path = tmp_path / "l.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="holds one JSON object, got list"):
        load_model(path)


def test_atomic_write_leaves_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    import os

    from symsindy.io import write_atomic

    target = tmp_path / "out.json"
    target.write_text("old")

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    monkeypatch.undo()
    write_atomic(target, "new")
    assert target.read_text() == "new"


def test_writing_over_an_input_is_refused_even_through_a_link(tmp_path):
    from symsindy.io import write_atomic

    data = tmp_path / "data.npz"
    data.write_bytes(b"PK\x03\x04 keep")
    link = tmp_path / "link.json"
    os_link = __import__("os").link
    os_link(data, link)
    for out in (data, link):
        with pytest.raises(ValueError, match="input of this command"):
            write_atomic(out, "{}", inputs=[data])
    assert data.read_bytes() == b"PK\x03\x04 keep"


def test_npz_with_ragged_or_misaligned_arrays_is_refused(tmp_path):
    from symsindy.io import read_trajectories

    path = tmp_path / "a.npz"
    np.savez(path, t=np.arange(5.0), x=np.zeros((2, 6, 2)))
    with pytest.raises(ValueError, match="n_times = len"):
        read_trajectories(path)
    np.savez(path, t=np.r_[0.0, 1, 1, 2, 3], x=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="a.npz: t: times of trajectory 0"):
        read_trajectories(path)
