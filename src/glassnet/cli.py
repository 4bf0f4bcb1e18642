"""The ``glassnet`` command: ``glassnet --help``, ``--version``, ``demo``.

``glassnet demo`` runs every section in :data:`DEMOS` in order. A later part of
the library adds its own section with ``DEMOS.append(("title", function))``,
where ``function()`` prints what it shows.
"""

from __future__ import annotations

import argparse
import textwrap
import warnings
from collections.abc import Callable, Sequence

import numpy as np

import glassnet
from glassnet.autograd import Function, Tensor


# Not in ops/ on purpose: the seed's hand-written Multiply, shown as a user's Function.
class _Multiply(Function):
    """z = x * y;  dz/dx = y, dz/dy = x (the seed's Multiply, as a Function)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad_output):
        return grad_output * self.y, grad_output * self.x


def demo_backprop() -> None:
    """The seed's f(x, y, z) = (x + y) * z at (-2, 5, -4), on the engine."""
    x = Tensor(-2.0, requires_grad=True, name="x")
    y = Tensor(5.0, requires_grad=True, name="y")
    z = Tensor(-4.0, requires_grad=True, name="z")
    q = x + y  # the built-in Add
    f = _Multiply.apply(q, z)  # a user-defined Function, shaped like the seed's
    f.backward()
    print("f(x, y, z) = (x + y) * z  at  x=-2, y=5, z=-4")
    print(f"  q = x + y                 = {q.item():g}")
    print(f"  f = q * z                 = {f.item():g}")
    print("  backward, local gradient by local gradient:")
    print("    df/dz = q = 3,  df/dq = z = -4,  df/dx = df/dq * dq/dx = -4 * 1")
    grads = [x.grad.item(), y.grad.item(), z.grad.item()]
    print(f"  [df/dx, df/dy, df/dz]     = [{', '.join(f'{g:g}' for g in grads)}]")
    print("  (the seed lecture prints  -12  and  [-4, -4, 3])")


def demo_vector_backprop() -> None:
    """The same engine on arrays: a tiny softmax classifier's gradient."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)))
    w = Tensor(rng.standard_normal((3, 2)) * 0.1, requires_grad=True, name="w")
    labels = np.array([0, 1, 1, 0])
    loss = glassnet.ops.softmax_cross_entropy(x @ w, labels).mean()
    loss.backward()
    print(f"mean softmax cross-entropy of 4 samples = {loss.item():.6f}")
    print(f"dL/dw (shape {w.grad.shape}) =")
    print(textwrap.indent(np.array2string(w.grad, precision=6), "  "))


def demo_sklearn() -> None:
    """The seed's world's simplest NN as a scikit-learn estimator on the engine."""
    from glassnet.sklearn import MLPRegressor

    np.random.seed(12345)
    X = np.random.normal(scale=2, size=(1600, 1))
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
    print(f"  loss_ = {clf.loss_:.12f}   (seed: 0.065114704477)")
    prediction = np.array2string(clf.predict([[0.0], [1.5], [-1.4]]), precision=8)
    print(f"  predict([[0.], [1.5], [-1.4]]) = {prediction}")
    print("  (seed: [ 0.01023809  1.69176755 -1.57832278], scikit-learn's numbers)")


def demo_counting() -> None:
    """The seed's parameter counts, with how each count arises."""
    from glassnet.initializers import RandomUniform
    from glassnet.layers import Activation, Conv2D, Dense
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
    print(f"model.count_params() = {model.count_params()}")
    fc = Sequential([Dense(units=4, input_dim=32 * 32), Activation("relu")])
    fc.summary(explain=True)
    cnn = Sequential([Conv2D(4, (3, 3), input_shape=(32, 32, 1)), Activation("relu")])
    cnn.summary(explain=True)


#: (title, function) pairs shown by ``glassnet demo``, in order; append to extend.
DEMOS: list[tuple[str, Callable[[], None]]] = [
    ("Backpropagation with local gradients (the seed's example)", demo_backprop),
    ("The same engine on arrays", demo_vector_backprop),
    ("World's simplest NN, scikit-learn style (exact numbers)", demo_sklearn),
    ("Counting parameters: a dense layer against a convolution", demo_counting),
]


def run_demo() -> int:
    for number, (title, function) in enumerate(DEMOS, start=1):
        heading = f"{number}. {title}"
        print(heading)
        print("=" * len(heading))
        function()
        print()
    return 0


#: name -> (the one line ``glassnet --help`` shows, what ``glassnet NAME --help`` says)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "show what the engine does, step by step",
        "Run the seed lecture's examples on glassnet: backpropagation with local "
        "gradients, the scikit-learn-style and Keras-style networks, and their "
        "parameter counts, with the lecture's numbers beside glassnet's.",
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
    for name, (summary, description) in COMMANDS.items():
        commands.add_parser(name, help=summary, description=description)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glassnet`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo()
    parser.print_help()
    return 0
