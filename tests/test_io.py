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
