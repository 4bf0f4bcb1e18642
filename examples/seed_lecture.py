"""The seed lecture (Neural Networks, lecture 3), every cell, on glassnet.

Only the import lines differ from the lecture; the numbers printed for the
scikit-learn cells are the lecture's own. Run: ``python examples/seed_lecture.py``
(add ``--out DIR`` to save the figures, ``--quick`` to train for fewer epochs).
"""

from __future__ import annotations

import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main(out: str | None = None, epochs: int = 3200) -> dict:
    results: dict = {}
    warnings.simplefilter(action="ignore", category=FutureWarning)
    warnings.simplefilter(action="ignore", category=UserWarning)
    warnings.simplefilter(action="ignore", category=RuntimeWarning)
    np.random.seed(123)
    plt.rcParams["figure.figsize"] = (8, 8)
    plt.rcParams["font.size"] = 14

    def save(name: str) -> None:
        if out:
            os.makedirs(out, exist_ok=True)
            plt.savefig(os.path.join(out, name), dpi=72)
        plt.close("all")

    # In [33]: world's simplest NN
    from glassnet.sklearn import MLPRegressor

    np.random.seed(12345)
    X = np.random.normal(scale=2, size=(4 * 400, 1))
    y = X[:, 0]
    clf = MLPRegressor(
        hidden_layer_sizes=(1,),
        validation_fraction=0.2,
        tol=1e-9,
        max_iter=epochs,
        solver="sgd",
        learning_rate_init=0.001,
        momentum=0,
        activation="tanh",
        verbose=False,
        random_state=2,
    )
    clf.fit(X, y)
    print(clf.n_layers_, clf.n_outputs_)
    results["n_layers_"], results["n_outputs_"] = clf.n_layers_, clf.n_outputs_

    # In [14]
    print(clf.loss_)
    plt.plot(clf.loss_curve_)
    plt.xlabel("Iteration")
    plt.ylabel("Loss")
    save("sklearn_loss_curve.png")
    results["loss_"] = clf.loss_

    # In [15]
    results["sklearn_predict"] = clf.predict([[0.0], [1.5], [-1.4]])
    print(repr(results["sklearn_predict"]))

    # In [5]-[9]: ingredients for backpropagation, on glassnet's engine
    from glassnet import Tensor

    x, y_, z = (Tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y_) * z
    f.backward()
    results["backprop"] = (f.item(), [x.grad.item(), y_.grad.item(), z.grad.item()])
    print("f(x, y, z) = ", results["backprop"][0])
    print("[df/dx, df/dy, df/dz] = ", results["backprop"][1])

    # In [16]: scikit-learn-style classifier and its decision surface
    from sklearn.datasets import make_blobs

    from glassnet.plot import plot_surface
    from glassnet.sklearn import MLPClassifier

    labels = ["b", "r"]
    X, y = make_blobs(n_samples=400, centers=23, random_state=42)
    y = np.take(labels, (y < 10))
    clf = MLPClassifier(
        hidden_layer_sizes=(40, 40, 20),
        early_stopping=True,
        validation_fraction=0.2,
        activation="relu",
    )
    clf.fit(X, y)
    plot_surface(clf, X, y)
    save("decision_surface.png")

    # In [17]-[21]: the same simplest NN, Keras style
    from glassnet.initializers import RandomUniform
    from glassnet.layers import Activation, Dense
    from glassnet.losses import mean_squared_error
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD

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
    model.compile(loss=mean_squared_error, optimizer=SGD(lr=0.001))

    np.random.seed(12345)
    X = np.random.normal(scale=2, size=(1600, 1))
    y = X[:, 0]
    history = model.fit(
        X, y, epochs=epochs, batch_size=200, validation_split=0.2, verbose=False
    )
    print("minimum loss:", np.min(history.history["val_loss"]))
    plt.plot(history.history["loss"], label="loss")
    plt.plot(history.history["val_loss"], label="validation loss")
    plt.legend(loc="best")
    save("keras_loss_curves.png")
    results["keras_predict"] = model.predict([[0.0], [1.5], [-1.4]])
    print(repr(results["keras_predict"]))

    # In [22]-[23]: counting parameters
    results["count_params"] = model.count_params()
    print(results["count_params"])
    model.summary()

    # In [24]-[29]: a fully connected layer against a convolutional one
    from glassnet.layers import Conv2D

    fc = Sequential()
    fc.add(Dense(units=4, input_dim=32 * 32))
    fc.add(Activation("relu"))
    fc.summary()
    cnn = Sequential()
    cnn.add(Conv2D(4, (3, 3), input_shape=(32, 32, 1)))
    cnn.add(Activation("relu"))
    cnn.summary()
    results["fc_params"], results["cnn_params"] = fc.count_params(), cnn.count_params()
    results["cnn_output_shape"] = cnn.layers[-1].compute_output_shape(
        cnn.layers[0].compute_output_shape((None, 32, 32, 1))
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder to save the figures in")
    parser.add_argument("--quick", action="store_true", help="train 200 epochs")
    args = parser.parse_args()
    main(out=args.out, epochs=200 if args.quick else 3200)
