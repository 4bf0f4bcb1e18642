"""A model's several outputs as ``compile`` and ``fit`` see them: which
output each entry of ``loss``, ``loss_weights``, ``metrics``,
``weighted_metrics``, ``y`` and ``sample_weight`` belongs to (Keras 3's
structure rules), and the names the logs give them.

An output is named as Keras 3 names it in the logs: by its key when the
model's outputs are a dict, else by the name of the layer that made it
(``model.output_names``). The outputs are numbered in ``tree.flatten``'s
order (a dict's sorted keys), and every argument is turned into one entry
per output in that order::

    outputs = Outputs.of(model)                     # None: one output
    outputs.per_output({"cls": "mse"}, "loss")      # [None, "mse"]
    outputs.per_output(["mse", "mae"], "loss")      # ["mse", "mae"]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import tree


class Outputs:
    """The flat outputs of a functional model: ``names`` (the logs'),
    ``layer_names`` (Keras's ``model.output_names``) and ``shapes``."""

    def __init__(self, structure: Any, flat: list[Any]) -> None:
        self.is_dict = isinstance(structure, dict)
        self.layer_names = [t._keras_history[0].name for t in flat]
        if self.is_dict:
            self.names = [str(k) for k in tree.flatten({k: k for k in structure})]
        else:
            self.names = list(self.layer_names)
        self.shapes = [tuple(t.shape) for t in flat]
        self.count = len(flat)

    @classmethod
    def of(cls, model: Any) -> Outputs | None:
        """The outputs of ``model`` if it has several (or a dict of them);
        None for a model of one output (a list of one included), which
        trains as it always has."""
        graph = model.__dict__.get("_graph")
        if graph is None or not model._functional:
            return None
        structure = graph.outputs_struct
        if not tree.is_nested(structure):
            return None
        if len(graph.outputs) == 1 and not isinstance(structure, dict):
            return None
        children = structure.values() if isinstance(structure, dict) else structure
        if any(tree.is_nested(child) for child in children):
            raise NotImplementedError(
                f"Model {model.name!r} has nested outputs: glassnet trains models "
                "whose outputs are one list, tuple or dict of tensors. Received: "
                f"outputs={tree.map_structure(lambda t: t.name, structure)}"
            )
        return cls(structure, graph.outputs)

    def _index(self, key: Any, argument: str, value: Any) -> int:
        for names in (self.names, self.layer_names):
            if key in names:
                return names.index(key)
        raise ValueError(
            f"`{argument}` names an output the model does not have: {key!r}. "
            f"The outputs are {self.names}. Received: {argument}={value!r}"
        )

    def per_output(self, value: Any, argument: str, complete: bool = False) -> list:
        """``value`` (a list or tuple with one entry per output, in order, or a
        dict keyed by output name) as one entry per output; a dict leaves
        out the outputs it does not name (None), unless ``complete``."""
        if isinstance(value, dict):
            entries: list[Any] = [None] * self.count
            named = set()
            for key, entry in value.items():
                index = self._index(key, argument, value)
                entries[index] = entry
                named.add(index)
            if complete and len(named) < self.count:
                missing = [n for i, n in enumerate(self.names) if i not in named]
                raise ValueError(
                    f"`{argument}` needs an entry for every output of the model "
                    f"{self.names}; it has none for {missing}. Received: "
                    f"{argument}={value!r}"
                )
            return entries
        if isinstance(value, (list, tuple)) and len(value) == self.count:
            return list(value)
        got = f"{len(value)} entries" if isinstance(value, (list, tuple)) else "one"
        raise ValueError(
            f"`{argument}` must give one entry per output of the model, in a list "
            f"of {self.count} in the order {self.names}, or a dict keyed by those "
            f"names; it gives {got}. Received: {argument}={value!r}"
        )

    def loss_order(self, loss: Any) -> list[int]:
        """The outputs in the order their losses are logged: a dict of losses
        for a dict of outputs in the loss dict's own order (Keras walks it),
        else in output order."""
        if self.is_dict and isinstance(loss, dict):
            order = [self._index(key, "loss", loss) for key in loss]
            return order + [i for i in range(self.count) if i not in order]
        return list(range(self.count))

    def targets(self, y: Any, argument: str = "y") -> list[Any]:
        """``y`` (a list, tuple or dict of arrays) as one array per output."""
        if not isinstance(y, (list, tuple, dict)):
            raise ValueError(
                f"The model has {self.count} outputs {self.names}: `{argument}` "
                "needs one array per output, in a list (in that order) or a dict "
                f"keyed by output name. Received: {argument} of type "
                f"{type(y).__name__}"
            )
        return self.per_output(y, argument)

    def sample_weights(self, sample_weight: Any) -> list[Any] | None:
        """``sample_weight`` as one array (or None) per output: one array is
        every output's (as in Keras), a list or dict gives each its own."""
        if sample_weight is None:
            return None
        if isinstance(sample_weight, dict) or (
            isinstance(sample_weight, (list, tuple))
            and len(sample_weight) == self.count
            and all(w is None or np.ndim(w) >= 1 for w in sample_weight)
        ):
            return self.per_output(sample_weight, "sample_weight")
        return [sample_weight] * self.count
