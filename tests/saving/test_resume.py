"""A saved model trains on in a fresh process exactly as the original would
have, and a process killed while saving leaves the previous file loadable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from glassnet import layers as L
from glassnet import optimizers
from glassnet.models import Model, Sequential, load_model

CONTINUE = textwrap.dedent(
    """
    import sys
    import numpy as np
    from glassnet.models import load_model

    data = np.load(sys.argv[1])
    for i, path in enumerate(sys.argv[2:]):
        model = load_model(path)
        np.random.seed(i)  # the seed of the shuffles, as in the original process
        model.fit(data["x"], data["y"], batch_size=8, epochs=2, verbose=0)
        np.savez(path + ".npz", *model.get_weights(), model.optimizer.iterations)
    """
)


def _models():
    inputs = L.Input((6,))
    x = L.Dense(8, activation="tanh")(inputs)
    chain = Model(inputs, L.Dense(2)(L.BatchNormalization()(x)))
    chain.compile(optimizers.SGD(0.05, momentum=0.9, nesterov=True), "mae")
    mlp = Sequential(
        [
            L.Input((6,)),
            L.Dense(16, activation="relu"),
            L.BatchNormalization(),
            L.Dense(2),
        ]
    )
    mlp.compile(optimizers.Adam(0.01, amsgrad=True), "mse", metrics=["mae"])
    rms = Sequential(
        [L.Input((6,)), L.Reshape((3, 2)), L.Conv1D(4, 2), L.Flatten(), L.Dense(2)]
    )
    rms.compile(optimizers.RMSprop(0.01, momentum=0.5, centered=True), "mse")
    return [mlp, chain, rms]


def _run(args, timeout=120):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_training_resumes_bit_identically_in_a_fresh_process(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6)).astype("float32")
    y = rng.standard_normal((40, 2)).astype("float32")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    models, paths = _models(), []
    for i, model in enumerate(models):
        np.random.seed(100 + i)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        paths.append(str(tmp_path / f"model{i}.keras"))
        model.save(paths[-1])
        np.random.seed(i)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)

    (tmp_path / "continue.py").write_text(CONTINUE)
    result = _run([str(tmp_path / "continue.py"), str(tmp_path / "data.npz"), *paths])
    assert result.returncode == 0, result.stderr

    for model, path in zip(models, paths):
        resumed = np.load(path + ".npz")
        arrays = [resumed[f"arr_{i}"] for i in range(len(resumed.files))]
        assert int(arrays[-1]) == model.optimizer.iterations == 20
        for ours, theirs in zip(model.get_weights(), arrays):
            np.testing.assert_array_equal(theirs, ours)


SAVER = textwrap.dedent(
    """
    import sys
    from glassnet import layers as L
    from glassnet.models import Sequential

    model = Sequential([L.Input((2048,)), L.Dense(4096), L.Dense(2048)])
    while True:
        model.save(sys.argv[1])
    """
)


def test_a_process_killed_while_saving_leaves_the_old_file(tmp_path):
    # the saver writes a 64 MiB model again and again; it is killed once its
    # temporary file holds more than 1 MiB, in the middle of the weights
    old = Sequential([L.Input((3,)), L.Dense(2)])
    target = tmp_path / "model.keras"
    old.save(target)
    before = target.read_bytes()
    (tmp_path / "saver.py").write_text(SAVER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    saver = subprocess.Popen(
        [sys.executable, str(tmp_path / "saver.py"), str(target)], env=env
    )
    try:
        deadline = time.monotonic() + 120
        temp = None
        while temp is None and time.monotonic() < deadline and saver.poll() is None:
            names = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
            if names and os.path.getsize(tmp_path / names[0]) > 1 << 20:
                temp = tmp_path / names[0]
            else:
                time.sleep(0.001)
        os.kill(saver.pid, signal.SIGKILL)
    finally:
        saver.wait()
    assert temp is not None, "the saver never started writing"
    loaded = load_model(target)
    if temp.exists():  # killed mid-save, as intended: the old file is untouched
        assert target.read_bytes() == before
        assert temp.stat().st_size < 2 * 2048 * 4096 * 4
        np.testing.assert_array_equal(loaded.get_weights()[0], old.get_weights()[0])
    else:  # the kill came after the rename: the new file is whole
        assert loaded.count_params() == 2048 * 4096 + 4096 + 4096 * 2048 + 2048
