"""Fuzz: hundreds of damaged and hostile files, each loaded in a subprocess.

Hypothesis draws batches of mutations of three saved files (a Sequential
model with Adam state, a functional convolutional model with SGD state, and
a ``.weights.h5`` file): bytes flipped, files truncated, zip members
rewritten with valid CRCs (bytes flipped, cut or inserted), JSON fields
deleted or replaced by arbitrary JSON, HDF5 datasets resized, retyped,
chunked, compressed, replaced by groups or links, deleted or added. A worker
process loads a batch, one file at a time under an alarm, while a watchdog
here restarts it after a crash or a hang. Every outcome must be a load or a
FileFormatError: no other exception, no signal, no timeout. (A weights file
whose optimizer group has another number of variables loads with a warning
and without the optimizer state, as Keras's ``load_weights`` does.)
"""

from __future__ import annotations

import collections
import io
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet import layers as L
from glassnet import optimizers
from glassnet.models import Model, Sequential

from .files import members, write_zip

BATCH, BATCHES = 100, 7
SECONDS = 10.0  # each file's limit in the worker; the watchdog allows more
WORKER = Path(__file__).with_name("fuzz_worker.py")
KERAS_FILES = ["mlp.keras", "conv.keras"]
ALL_FILES = [*KERAS_FILES, "mlp.weights.h5"]


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """The files the mutations start from (name -> bytes), and the path of the
    model the worker loads weights files into."""
    folder = tmp_path_factory.mktemp("fuzz_bases")
    rng = np.random.default_rng(0)
    mlp = Sequential(
        [L.Input((6,)), L.Dense(8, "relu"), L.BatchNormalization(), L.Dense(2)]
    )
    mlp.compile(optimizers.Adam(0.01), "mse", metrics=["mae"])
    mlp.fit(rng.standard_normal((16, 6)), rng.standard_normal((16, 2)), verbose=0)
    inputs = L.Input((6, 6, 1))
    x = L.Conv2D(2, 3, padding="same", activation="relu")(inputs)
    x = L.Flatten()(L.MaxPooling2D()(x))
    conv = Model(inputs, L.Dense(1)(x))
    conv.compile(optimizers.SGD(0.1, momentum=0.9), "mae")
    conv.fit(rng.standard_normal((8, 6, 6, 1)), rng.standard_normal((8, 1)), verbose=0)
    mlp.save(folder / "mlp.keras")
    conv.save(folder / "conv.keras")
    mlp.save_weights(folder / "mlp.weights.h5")
    contents = {name: (folder / name).read_bytes() for name in ALL_FILES}
    return contents, folder / "mlp.keras"


# --- mutations ---
words = ["Dense", "Sequential", "keras.layers", "os", "__lambda__", "function"]
words += ["relu", "float64", "float16", "int32", "same", "channels_first", "4.0.0"]
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(words)
)
keys = st.sampled_from(["class_name", "config", "module", "registered_name", "name"])
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(keys | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=6,
)
# (where in the data, as a fraction of its length; a byte value)
edits = st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
    min_size=1,
    max_size=6,
)
H5_OPS = ["resize", "retype", "scalar", "chunked", "gzip", "group", "soft_link"]
H5_OPS += ["external_link", "delete", "extra", "huge", "attribute"]
DTYPES = ["f2", "f8", "i4", "i8", "u1", "bool", "S4", "c8", "str", "compound"]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.sampled_from(ALL_FILES), edits),
    st.tuples(st.just("truncate"), st.sampled_from(ALL_FILES), st.floats(0, 1)),
    st.tuples(
        st.just("member"),
        st.sampled_from(KERAS_FILES),
        st.sampled_from(["metadata.json", "config.json", "model.weights.h5"]),
        st.sampled_from(["flip", "cut", "insert"]),
        edits,
    ),
    st.tuples(
        st.just("json"),
        st.sampled_from(KERAS_FILES),
        st.sampled_from(["config.json", "config.json", "metadata.json"]),
        st.integers(0, 10**6),  # which field, modulo the number of fields
        st.booleans(),  # delete it, or replace it
        json_value,
    ),
    st.tuples(
        st.just("h5"),
        st.sampled_from(ALL_FILES),
        st.integers(0, 10**6),  # which dataset, modulo the number of datasets
        st.sampled_from(H5_OPS),
        st.sampled_from(DTYPES),
        st.lists(st.integers(0, 9), max_size=3),  # a shape
    ),
)


def _edit_bytes(data: bytes, how: str, changes) -> bytes:
    data = bytearray(data)
    for where, value in changes:
        i = int(where * len(data))
        if how == "flip" and data:
            data[i] = value
        elif how == "cut":
            del data[i : i + value + 1]
        elif how == "insert":
            data[i:i] = bytes([value]) * (value % 7 + 1)
    return bytes(data)


def _json_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        items = value.items()
    else:
        items = enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _json_paths(child, (*path, key))


def _edit_json(data: bytes, index: int, delete: bool, new) -> bytes:
    config = json.loads(data)
    paths = list(_json_paths(config))[1:]
    *parent, key = paths[index % len(paths)]
    node = config
    for step in parent:
        node = node[step]
    if delete:
        del node[key]
    else:
        node[key] = new
    return json.dumps(config).encode()


def _retyped(file, path, shape, value, dtype):
    if dtype == "str":
        return file.create_dataset(path, shape=shape, dtype=h5py.string_dtype())
    if dtype == "compound":
        return file.create_dataset(path, shape=shape, dtype=[("a", "f4"), ("b", "i2")])
    return file.create_dataset(path, data=np.zeros(shape, dtype))


def _stored(file, path, shape, value, how):
    if not shape:  # a scalar cannot be chunked: a small chunked matrix instead
        return file.create_dataset(path, data=np.ones((1, 2), "f4"), chunks=(1, 1))
    if how == "gzip":
        return file.create_dataset(path, data=value, compression="gzip")
    return file.create_dataset(
        path, data=value, chunks=True, maxshape=(None,) * len(shape)
    )


# op -> what replaces the dataset (after it is deleted)
REPLACE = {
    "resize": lambda f, p, shape, value, dtype, dims, other: f.create_dataset(
        p, data=np.ones(tuple(dims), value.dtype)
    ),
    "retype": lambda f, p, shape, value, dtype, dims, other: _retyped(
        f, p, shape, value, dtype
    ),
    "scalar": lambda f, p, *_: f.create_dataset(p, data=np.float32(1.5)),
    "chunked": lambda f, p, shape, value, *_: _stored(f, p, shape, value, "chunked"),
    "gzip": lambda f, p, shape, value, *_: _stored(f, p, shape, value, "gzip"),
    "group": lambda f, p, *_: f.create_group(p),
    "soft_link": lambda f, p, *args: f.__setitem__(p, h5py.SoftLink("/" + args[-1])),
    "external_link": lambda f, p, *_: f.__setitem__(
        p, h5py.ExternalLink("/etc/hostname", "/x")
    ),
    "delete": lambda *_: None,
    "huge": lambda f, p, shape, *_: f.create_dataset(
        p, shape=(10**9, *shape), dtype="f4", chunks=True
    ),
}


def _edit_h5(data: bytes, index: int, op: str, dtype: str, dims) -> bytes:
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as file:
        datasets = []
        file.visititems(
            lambda name, obj: (
                datasets.append(name) if isinstance(obj, h5py.Dataset) else None
            )
        )
        path = datasets[index % len(datasets)]
        other = datasets[(index + 1) % len(datasets)]
        dataset, group = file[path], file[path.rsplit("/", 1)[0]]
        shape, value = dataset.shape, np.asarray(dataset[()])
        if op == "extra":
            group.create_dataset(str(len(group)), data=np.zeros(tuple(dims), "f4"))
        elif op == "attribute":
            dataset.attrs["dtype"] = "bfloat16"
            group.attrs["name"] = "x" * 1000
        else:
            del file[path]
            REPLACE[op](file, path, shape, value, dtype, dims, other)
    return buffer.getvalue()


def _mutate(base: dict[str, bytes], mutation) -> tuple[str, bytes]:
    """The damaged file a mutation makes: (its suffix, its bytes)."""
    kind, name, *args = mutation
    data = base[name]
    suffix = ".weights.h5" if name.endswith(".weights.h5") else ".keras"
    if kind == "flip":
        return suffix, _edit_bytes(data, "flip", args[0])
    if kind == "truncate":
        return suffix, data[: int(args[0] * len(data))]
    if suffix == ".weights.h5":
        return suffix, _edit_h5(data, *args)
    contents = members(io.BytesIO(data))
    if kind == "member":
        member, how, changes = args
        contents[member] = _edit_bytes(contents[member], how, changes)
    elif kind == "json":
        member, *edit = args
        contents[member] = _edit_json(contents[member], *edit)
    else:
        contents["model.weights.h5"] = _edit_h5(contents["model.weights.h5"], *args)
    out = io.BytesIO()
    write_zip(out, contents)
    return suffix, out.getvalue()


# --- the worker and its watchdog ---
def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _load_all(
    base_file: Path,
    paths: list[Path],
    folder: Path,
    worker_script: Path = WORKER,
    seconds: float = SECONDS,
) -> list[str]:
    """Each path's outcome, loaded by worker processes; one that crashes or
    hangs is recorded against the file it was loading and replaced."""
    listing = folder / "listing.txt"
    listing.write_text("\n".join(map(str, [base_file, *paths])))
    outcomes: list[str | None] = [None] * len(paths)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = 0
    while first < len(paths):
        worker = subprocess.Popen(
            [
                sys.executable,
                str(worker_script),
                str(listing),
                str(seconds),
                str(first),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(worker.stdout, lines), daemon=True).start()
        current = None
        while True:
            try:
                line = lines.get(timeout=60 if current is None else 3 * seconds)
            except queue.Empty:
                worker.kill()
                outcomes[first if current is None else current] = "hang"
                break
            if line is None:
                code = worker.wait()
                if current is not None:
                    outcomes[current] = f"crash (exit {code})"
                assert current is not None or not code, f"worker failed: exit {code}"
                break
            index, outcome = line.rstrip("\n").split("\t", 1)
            if outcome == "start":
                current = int(index)
            else:
                outcomes[int(index)], current = outcome, None
        worker.wait()
        done = [i for i, outcome in enumerate(outcomes) if outcome is not None]
        first = max(done) + 1 if done else len(paths)
    return [outcome or "not run" for outcome in outcomes]


FAKE_WORKER = """
import os, sys, time
paths = open(sys.argv[1]).read().split("\\n")[1:]
for i in range(int(sys.argv[3]), len(paths)):
    print(f"{i}\\tstart", flush=True)
    if paths[i].endswith("crash"):
        os.kill(os.getpid(), 11)
    if paths[i].endswith("hang"):
        time.sleep(60)
    print(f"{i}\\tloaded", flush=True)
"""


def test_the_watchdog_sees_crashes_and_hangs(tmp_path):
    fake = tmp_path / "fake_worker.py"
    fake.write_text(FAKE_WORKER)
    names = ["a", "b.crash", "c", "d.hang", "e"]
    paths = [tmp_path / name for name in names]
    outcomes = _load_all(paths[0], paths, tmp_path, fake, seconds=0.3)
    assert outcomes == ["loaded", "crash (exit -11)", "loaded", "hang", "loaded"]


def test_damaged_files_load_or_raise_file_format_error(bases, tmp_path):
    base, base_file = bases
    counts: collections.Counter = collections.Counter()
    batches = iter(range(10**6))

    @settings(
        max_examples=BATCHES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(mutation, min_size=BATCH, max_size=BATCH))
    def batch(mutations):
        folder = tmp_path / f"batch{next(batches)}"
        folder.mkdir()
        paths = []
        for i, m in enumerate(mutations):
            suffix, data = _mutate(base, m)
            paths.append(folder / f"{i}{suffix}")
            paths[-1].write_bytes(data)
        outcomes = _load_all(base_file, paths, folder)
        kinds = [outcome.split("\t")[0] for outcome in outcomes]
        counts.update(f"{m[0]}: {kind}" for m, kind in zip(mutations, kinds))
        bad = [
            f"{m!r} -> {outcome}"
            for m, outcome, kind in zip(mutations, outcomes, kinds)
            if kind not in ("loaded", "FileFormatError")
        ]
        assert not bad, "\n".join(bad[:5])

    batch()
    outcomes = collections.Counter()
    for key, n in counts.items():
        outcomes[key.split(": ")[1]] += n
    print(f"\nfuzz: {sum(outcomes.values())} files: {dict(outcomes)}")
    print(f"fuzz by mutation: {dict(sorted(counts.items()))}")
    assert sum(outcomes.values()) >= 500
