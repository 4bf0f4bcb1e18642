"""The seed lecture, every cell, with only the imports changed (examples/)."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed_lecture.py"


def _load():
    spec = importlib.util.spec_from_file_location("seed_lecture", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_seed_cell_runs_and_prints_the_lectures_numbers(tmp_path, capsys):
    results = _load().main(out=str(tmp_path))
    out = capsys.readouterr().out

    # In [33], [14], [15]: scikit-learn's own numbers, to the printed digits.
    assert (results["n_layers_"], results["n_outputs_"]) == (3, 1)
    assert abs(results["loss_"] - 0.065114704477) < 1e-10
    np.testing.assert_allclose(
        results["sklearn_predict"], [0.01023809, 1.69176755, -1.57832278], atol=1e-8
    )
    # In [7], [9]: the backprop example.
    assert results["backprop"] == (-12.0, [-4.0, -4.0, 3.0])
    # In [21]: the Keras-style model learns what the lecture's did (its printed
    # output was [-0.00257963, 1.65783405, -1.54093742]; initial weights differ).
    np.testing.assert_allclose(
        results["keras_predict"].ravel(), [-0.00258, 1.65783, -1.54094], atol=0.05
    )
    assert results["keras_predict"].dtype == np.float32
    # In [22]-[29]: counting parameters.
    assert results["count_params"] == 4
    assert (results["fc_params"], results["cnn_params"]) == (4100, 40)
    assert tuple(results["cnn_output_shape"]) == (None, 30, 30, 4)
    assert "(None, 30, 30, 4)" in out and "4,100" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "decision_surface.png",
        "keras_loss_curves.png",
        "sklearn_loss_curve.png",
    ]
