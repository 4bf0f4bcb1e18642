"""The ``glassnet`` command: ``glassnet --help``, ``--version``, ``demo``.

``glassnet demo`` runs every section in :data:`DEMOS` in order, in the seed
lecture's order, and writes what they show (text, numbers beside the seed's,
figures) to a folder: PNG files and one self-contained ``report.html``. A later
part of the library adds its own section with ``DEMOS.append(("title",
function))``, where ``function()`` prints what it shows and may return a
:class:`~glassnet._report.Shown` with numbers and figures (or ``None``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import glassnet
from glassnet._report import Number, Picture, Report, Shown, close_figures
from glassnet.autograd import Function, Tensor

#: where ``glassnet demo`` writes its report unless told (``coverage html``'s habit)
DEFAULT_OUT = "glassnet-demo"

#: what the seed lecture printed, quoted beside glassnet's numbers
SEED = {
    "n_layers_": "3 1",
    "loss_": "0.065114704477",
    "predict": "[ 0.01023809  1.69176755 -1.57832278]",
    "f_with_gradients": "(-12, [-4, -4, 3])",
    "keras_min_val_loss": "0.098530555144",
    "keras_predict": "[-0.00257963  1.65783405 -1.54093742]",
    "count_params": "4",
    "fc_params": "4,100",
    "cnn_params": "40",
    "cnn_output_shape": "(None, 30, 30, 4)",
}


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _vector(values) -> str:
    """A vector as the seed prints one: eight decimals, fixed."""
    array = np.asarray(values)
    return np.array2string(array, precision=8, floatmode="fixed", suppress_small=True)


def _seed_data() -> np.ndarray:
    """The seed's inputs for the world's simplest NN (its targets are X itself)."""
    np.random.seed(12345)
    return np.random.normal(scale=2, size=(4 * 400, 1))


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    """The seed's two-class problem: 23 blobs, the first ten blue ("b")."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=400, centers=23, random_state=42)
    return X, np.take(["b", "r"], (y < 10))


# --- the sections, in the lecture's order ---------------------------------------------
def demo_sklearn() -> Shown:
    """The seed's world's simplest NN as a scikit-learn estimator on the engine."""
    from glassnet.plot import plot_history
    from glassnet.sklearn import MLPRegressor

    X = _seed_data()
    regressor = MLPRegressor(
        hidden_layer_sizes=(1,),
        validation_fraction=0.2,
        tol=1e-9,
        max_iter=3200,
        solver="sgd",
        learning_rate_init=0.001,
        momentum=0,
        activation="tanh",
        random_state=2,
    )
    with warnings.catch_warnings():  # 3,200 epochs end unconverged, as in the seed
        warnings.simplefilter("ignore")
        clf = regressor.fit(X, X[:, 0])
    print("MLPRegressor(hidden_layer_sizes=(1,), solver='sgd', ...).fit(X, y = X)")
    print(f"  n_layers_, n_outputs_ = {clf.n_layers_}, {clf.n_outputs_}")
    print(f"  loss_ = {clf.loss_:.12f}   (lecture: {SEED['loss_']})")
    prediction = _vector(clf.predict([[0.0], [1.5], [-1.4]]))
    print(f"  predict([[0.], [1.5], [-1.4]]) = {prediction}")
    print(f"  (lecture: {SEED['predict']}, scikit-learn's numbers)")
    (ax,) = plot_history(clf)
    ax.set_title("MLPRegressor(hidden_layer_sizes=(1,)): loss_curve_")
    return Shown(
        numbers=[
            Number(
                "MLPRegressor: n_layers_, n_outputs_",
                f"{clf.n_layers_} {clf.n_outputs_}",
                SEED["n_layers_"],
            ),
            Number("MLPRegressor: loss_", f"{clf.loss_:.12f}", SEED["loss_"]),
            Number("MLPRegressor: predict(...)", prediction, SEED["predict"]),
        ],
        pictures=[
            Picture("sklearn_loss_curve", ax.figure, "loss_curve_, 3,200 epochs")
        ],
    )


# Not in ops/ on purpose: the seed's hand-written Multiply, shown as a user's Function.
class Multiply(Function):
    """z = x * y;  dz/dx = y, dz/dy = x (the seed's Multiply, as a Function)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad_output):
        return grad_output * self.y, grad_output * self.x


def demo_backprop() -> Shown:
    """The seed's f(x, y, z) = (x + y) * z at (-2, 5, -4), on the engine."""
    from glassnet.plot import draw_graph

    x = Tensor(-2.0, requires_grad=True, name="x")
    y = Tensor(5.0, requires_grad=True, name="y")
    z = Tensor(-4.0, requires_grad=True, name="z")
    q = x + y  # the built-in Add
    q.name = "q"
    f = Multiply.apply(q, z)  # a user-defined Function, shaped like the seed's
    f.name = "f"
    f.backward(retain_grads=True)
    print("f(x, y, z) = (x + y) * z  at  x=-2, y=5, z=-4")
    print(f"  q = x + y                 = {q.item():g}")
    print(f"  f = q * z                 = {f.item():g}")
    print("  backward, local gradient by local gradient:")
    print("    df/dz = q = 3,  df/dq = z = -4,  df/dx = df/dq * dq/dx = -4 * 1")
    grads = ", ".join(f"{t.grad.item():g}" for t in (x, y, z))
    print(f"  [df/dx, df/dy, df/dz]     = [{grads}]")
    print("  (the lecture prints  -12  and  [-4, -4, 3])")
    ax = draw_graph(f)
    ax.set_title("f = (x + y) z: each node's value and gradient", fontsize=11)
    return Shown(
        numbers=[
            Number(
                "f_with_gradients(-2, 5, -4)",
                f"({f.item():g}, [{grads}])",
                SEED["f_with_gradients"],
            )
        ],
        pictures=[Picture("graph", ax.figure, "The computational graph of f")],
    )


def demo_vector_backprop() -> Shown:
    """The same engine on arrays: a tiny softmax classifier's gradient."""
    from glassnet.plot import draw_graph

    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), name="x")
    w = Tensor(rng.standard_normal((3, 2)) * 0.1, requires_grad=True, name="w")
    labels = np.array([0, 1, 1, 0])
    loss = glassnet.ops.softmax_cross_entropy(x @ w, labels).mean()
    loss.name = "loss"
    loss.backward(retain_grads=True)
    print(f"mean softmax cross-entropy of 4 samples = {loss.item():.6f}")
    print(f"dL/dw (shape {w.grad.shape}) =")
    print(textwrap.indent(np.array2string(w.grad, precision=6), "  "))
    ax = draw_graph(loss)
    return Shown(
        pictures=[Picture("graph_arrays", ax.figure, "The same walk on arrays")]
    )


def demo_classifier() -> Shown:
    """The seed's MLPClassifier on 23 blobs and its decision surface."""
    from glassnet.plot import plot_surface
    from glassnet.sklearn import MLPClassifier

    X, y = _blobs()
    clf = MLPClassifier(
        hidden_layer_sizes=(40, 40, 20),
        early_stopping=True,
        validation_fraction=0.2,
        activation="relu",
        random_state=0,
    )
    clf.fit(X, y)
    accuracy = clf.score(X, y)
    print("MLPClassifier(hidden_layer_sizes=(40, 40, 20), early_stopping=True)")
    print("  on make_blobs(400 samples, 23 centres) split into 'b' and 'r':")
    print(f"  {clf.n_iter_} epochs, training accuracy {accuracy:.3f}")
    fig, ax = _pyplot().subplots(figsize=(6.5, 5.5))
    plot_surface(clf, X, y, colorbar=True, ax=ax)
    ax.set_title("MLPClassifier(40, 40, 20): P(class 'r')")
    return Shown(
        numbers=[
            Number("epochs (early stopping)", str(clf.n_iter_)),
            Number("training accuracy", f"{accuracy:.3f}"),
        ],
        pictures=[Picture("decision_surface", fig, "plot_surface(clf, X, y)")],
    )


#: the architectures of the width-against-depth section: width 2, 8, 32; depth 1, 2
ARCHITECTURES = ((2,), (8,), (32,), (2, 2), (8, 8), (32, 32))


def demo_width_depth() -> Shown:
    """The lecture's opening point: wider layers against more layers."""
    from sklearn.model_selection import train_test_split

    from glassnet.plot import plot_architectures

    X, y = _blobs()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    fig = plot_architectures(
        X_train, y_train, ARCHITECTURES, ncols=3, X_test=X_test, y_test=y_test
    )
    print("The same blobs, one MLPClassifier per architecture (scored on a")
    print("held-out quarter): more neurons per layer give more combinations of")
    print("the inputs, more layers more transformations of them.")
    for ax in fig.axes:
        print("  " + ax.get_title().replace("\n", ", "))
    return Shown(pictures=[Picture("width_depth", fig, "Width against depth")])


def _seed_keras_model():
    """The seed's Keras model, as close as possible to scikit-learn's."""
    from glassnet.initializers import RandomUniform
    from glassnet.layers import Activation, Dense
    from glassnet.models import Sequential

    model = Sequential()
    model.add(
        Dense(
            units=1,
            input_dim=1,
            bias_initializer=RandomUniform(minval=-(3**0.5), maxval=3**0.5),
        )
    )
    model.add(Activation("tanh"))
    model.add(Dense(units=1))
    return model


def demo_keras() -> Shown:
    """The world's simplest NN again, Keras style: Sequential, compile, fit."""
    from glassnet.losses import mean_squared_error
    from glassnet.optimizers import SGD
    from glassnet.plot import plot_history

    np.random.seed(123)
    model = _seed_keras_model()
    model.compile(loss=mean_squared_error, optimizer=SGD(lr=0.001))
    X = _seed_data()
    history = model.fit(
        X, X[:, 0], epochs=3200, batch_size=200, validation_split=0.2, verbose=False
    )
    lowest = f"{np.min(history.history['val_loss']):.12f}"
    prediction = model.predict([[0.0], [1.5], [-1.4]], verbose=0).ravel()
    predicted = _vector(prediction)
    print("Sequential([Dense(1, input_dim=1), Activation('tanh'), Dense(1)]),")
    print("SGD(lr=0.001), 3,200 epochs of batches of 200, validation_split=0.2")
    print(f"  min(val_loss) = {lowest}   (lecture: {SEED['keras_min_val_loss']})")
    print(f"  predict([[0.], [1.5], [-1.4]]) = {predicted}")
    print(f"  (lecture: {SEED['keras_predict']}; Keras drew other initial weights)")
    print(f"  model.count_params() = {model.count_params()}")
    axes = plot_history(history)
    note = "other initial weights than Keras's: close, not equal"
    return Shown(
        numbers=[
            Number(
                "Sequential: min(val_loss)", lowest, SEED["keras_min_val_loss"], note
            ),
            Number("Sequential: predict(...)", predicted, SEED["keras_predict"], note),
        ],
        pictures=[Picture("keras_history", axes[0].figure, "plot_history(history)")],
        html=[model._repr_html_()],
    )


def demo_counting() -> Shown:
    """The seed's parameter counts, with how each count arises."""
    from glassnet.layers import Activation, Conv2D, Dense
    from glassnet.models import Sequential
    from glassnet.models.summary import format_shape
    from glassnet.plot import plot_model

    model = _seed_keras_model()
    print(f"model.count_params() = {model.count_params()}")
    fc = Sequential([Dense(units=4, input_dim=32 * 32), Activation("relu")])
    fc.summary(explain=True)
    cnn = Sequential([Conv2D(4, (3, 3), input_shape=(32, 32, 1)), Activation("relu")])
    cnn.summary(explain=True)
    shape = format_shape(cnn.output_shape)
    return Shown(
        numbers=[
            Number("model.count_params()", str(model.count_params()), "4"),
            Number("Dense(4) on 32×32 inputs", f"{fc.count_params():,}", "4,100"),
            Number("Conv2D(4, (3, 3)) on 32×32×1", f"{cnn.count_params():,}", "40"),
            Number("Conv2D output shape", shape, SEED["cnn_output_shape"]),
        ],
        pictures=[
            Picture("model_dense", plot_model(fc).figure, "plot_model(fc)"),
            Picture("model_conv", plot_model(cnn).figure, "plot_model(cnn)"),
        ],
        html=[fc._repr_html_(), cnn._repr_html_()],
    )


def demo_digits_cnn() -> Shown:
    """A small CNN on scikit-learn's digits (bundled: no download), its filters
    and what its convolutions see."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from glassnet.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
    from glassnet.models import Sequential
    from glassnet.optimizers import Adam
    from glassnet.plot import plot_feature_maps, plot_filters, plot_history

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # (1797, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    np.random.seed(0)
    cnn = Sequential(
        [
            Input((8, 8, 1)),
            Conv2D(8, 3, padding="same", activation="relu"),
            MaxPooling2D(),  # (4, 4, 8)
            Conv2D(16, 3, padding="same", activation="relu"),
            MaxPooling2D(),  # (2, 2, 16)
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )
    cnn.compile(
        optimizer=Adam(learning_rate=3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = cnn.fit(
        x_train,
        y_train,
        epochs=15,
        batch_size=32,
        validation_data=(x_test, y_test),
        verbose=0,
    )
    seconds = time.perf_counter() - start
    accuracy = history.history["val_accuracy"][-1]
    print(f"load_digits: {len(x_train)} training and {len(x_test)} test images 8×8")
    print(f"a CNN of {cnn.count_params():,} parameters, 15 epochs in {seconds:.1f} s")
    print(f"  test accuracy {accuracy:.4f}")
    axes = plot_history(history)
    return Shown(
        numbers=[
            Number("parameters", f"{cnn.count_params():,}"),
            Number("test accuracy after 15 epochs", f"{accuracy:.4f}"),
        ],
        pictures=[
            Picture("digits_history", axes[0].figure, "plot_history(history)"),
            Picture("digits_filters", plot_filters(cnn.layers[0]), "The first filters"),
            Picture(
                "digits_feature_maps",
                plot_feature_maps(cnn, x_test[0]),
                "What the convolutions see of one test digit",
            ),
        ],
        html=[cnn._repr_html_()],
    )


#: (title, function) pairs shown by ``glassnet demo``, in order; append to extend.
DEMOS: list[tuple[str, Callable[[], Shown | None]]] = [
    ("World's simplest NN, scikit-learn style (exact numbers)", demo_sklearn),
    ("Backpropagation with local gradients (the lecture's example)", demo_backprop),
    ("The same engine on arrays", demo_vector_backprop),
    ("Neural networks in scikit-learn: a decision surface", demo_classifier),
    ("Width against depth", demo_width_depth),
    ("World's simplest NN, Keras style", demo_keras),
    ("Counting parameters: a dense layer against a convolution", demo_counting),
    ("A convolutional network on scikit-learn's digits", demo_digits_cnn),
]


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy for the report."""

    def __init__(self, terminal) -> None:
        self.terminal, self.copy = terminal, io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()


def run_demo(out: str | Path | None = DEFAULT_OUT) -> int:
    """Run every section of :data:`DEMOS`; with ``out``, write the figures
    and ``report.html`` there (``None``: print only)."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # files only: no window, no display needed
    report = Report(out) if out is not None else None
    for number, (title, function) in enumerate(DEMOS, start=1):
        heading = f"{number}. {title}"
        print(heading)
        print("=" * len(heading))
        tee = _Tee(sys.stdout)
        with contextlib.redirect_stdout(tee):
            shown = function()
        if report is None:
            close_figures(shown)
        else:
            for path in report.add(title, tee.copy.getvalue(), shown):
                print(f"  [figure: {path}]")
        print()
    if report is not None:
        path = report.write().resolve()
        print(f"Report: {path}")
        print(f"  ({len(report.files) - 1} figures beside it; open it in a browser)")
    return 0


#: name -> (the one line ``glassnet --help`` shows, what ``glassnet NAME --help`` says)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "run the lecture on glassnet; write a report",
        "Run the lecture glassnet grew out of (Neural Networks, lecture 3) on "
        "glassnet, section by section: the world's simplest network scikit-learn "
        "style, backpropagation with local gradients and its graph, a decision "
        "surface, width against depth, the same network Keras style, parameter "
        "counts, and a CNN on scikit-learn's digits, with the numbers the lecture "
        "printed beside glassnet's. Prints the text as it goes and writes every "
        f"figure as PNG and one self-contained report.html to DIR (default: "
        f"./{DEFAULT_OUT}); --text prints only. No download; well under a minute.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="glassnet: a neural-network library you can see through.",
        epilog="Run 'glassnet COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"glassnet {glassnet.__version__}"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands"
    )
    parsers = {
        name: commands.add_parser(name, help=summary, description=description)
        for name, (summary, description) in COMMANDS.items()
    }
    demo = parsers["demo"]
    where = demo.add_mutually_exclusive_group()
    where.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help=f"folder for the PNG figures and report.html (default: {DEFAULT_OUT})",
    )
    where.add_argument(
        "--text", action="store_true", help="print the text only; write no file"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glassnet`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(None if args.text else args.out)
    parser.print_help()
    return 0
